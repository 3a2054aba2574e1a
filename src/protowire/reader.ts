/**
 * The protobuf wire reader: every varint, length prefix and skipped field of src/ is read here.
 *
 * Two styles, for two kinds of caller:
 * - Throwing, over a Cursor (varint32, int64, skipVarint, length): the compiled event decoders
 *   (decoding/field-decoder.ts) read field after field and give up on the first byte that is not
 *   what a plugin sends; BAIL is the one error thrown, caught once per message, so that reading
 *   a field costs no check of a result.
 * - Returning -1 (nextField, readVarint): envelope readers that walk a few fields and refuse the
 *   bytes as a whole (the Any, the gRPC EventRequest, the item caps of event-decoder.ts).
 *
 * Nothing here allocates: positions come back through a Cursor or a FieldView owned by the caller.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Thrown by the throwing readers when the bytes are not a plain message; never escapes a decoder. */
export const BAIL = new Error('protowire: not a plain message');

/** A read position, moved by the readers. */
export interface Cursor {
  pos: number;
}

/** A varint of up to five bytes (protobufjs' uint32); a longer one (a negative int32) throws BAIL. */
export function varint32(d: Cursor, buf: Uint8Array, end: number): number {
  let p = d.pos;
  if (p >= end) throw BAIL;
  let b = buf[p++]!;
  let v = b & 0x7f;
  if (b < 0x80) {
    d.pos = p;
    return v;
  }
  for (let shift = 7; shift < 35; shift += 7) {
    if (p >= end) throw BAIL;
    b = buf[p++]!;
    v = (v | ((b & 0x7f) << shift)) >>> 0;
    if (b < 0x80) {
      d.pos = p;
      return v;
    }
  }
  throw BAIL;
}

/** An int64 varint as a number: exact to 2^53, approximate beyond, negative values negative. */
export function int64(d: Cursor, buf: Uint8Array, end: number): number {
  const start = d.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (d.pos >= end) throw BAIL;
    const b = buf[d.pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value >= 9223372036854775808 ? negativeInt64(buf, start, d.pos) : value;
    scale *= 128;
  }
  throw BAIL;
}

/**
 * A negative int64 (ten-byte varint), exactly as far as a double can hold it: summing in doubles
 * would round 2^64 - 1 to 2^64 and make -1 a 0. Rare (a broker clock before 1970), so BigInt.
 */
export function negativeInt64(buf: Uint8Array, start: number, end: number): number {
  let v = 0n;
  for (let i = end - 1; i >= start; i--) v = (v << 7n) | BigInt(buf[i]! & 0x7f);
  return Number(BigInt.asIntN(64, v));
}

/** Steps over a varint of up to ten bytes. */
export function skipVarint(d: Cursor, buf: Uint8Array, end: number): void {
  let p = d.pos;
  for (let i = 0; i < 10; i++) {
    if (p >= end) throw BAIL;
    if (buf[p++]! < 0x80) {
      d.pos = p;
      return;
    }
  }
  throw BAIL;
}

/** A length prefix; the bytes it announces must be there. */
export function length(d: Cursor, buf: Uint8Array, end: number): number {
  const n = varint32(d, buf, end);
  if (n > end - d.pos) throw BAIL;
  return n;
}

/**
 * A varint of up to five bytes (35 bits) at buf[pos], or -1 when it is truncated or longer;
 * `at.pos` receives where it ends. (A running scale, not 2 ** shift: the power is a
 * floating-point call per byte.)
 */
export function readVarint(buf: Uint8Array, pos: number, end: number, at: Cursor): number {
  let value = 0;
  let scale = 1;
  while (pos < end && scale < 2 ** 35) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      at.pos = pos;
      return value;
    }
    scale *= 128;
  }
  return -1;
}

/** One field of a message, as nextField() finds it. */
export class FieldView implements Cursor {
  field = 0;
  wire = 0;
  /** The value's bytes: a length-delimited field's body, or the varint or fixed-size value. */
  start = 0;
  end = 0;
  /** Scratch for nextField: where its last varint ended. */
  pos = 0;
}

/**
 * The field at buf[pos] (tag and length of up to five bytes, varints of any length, as protobuf
 * skips them) into `f`; returns the position after it, or -1 when it is truncated, a group or of
 * an invalid wire type. Field number 0 is reported as it is: the caller decides.
 */
export function nextField(buf: Uint8Array, pos: number, end: number, f: FieldView): number {
  if (pos >= end) return -1;
  // One-byte tags and lengths (fields 1 to 15, bodies under 128 bytes) without the general
  // loop; the rare wire types in a function of their own, so that this one stays small enough
  // to be inlined into its callers.
  const tag = buf[pos]!;
  if (tag < 0x80) {
    pos++;
    f.field = tag >> 3;
    f.wire = tag & 7;
  } else if ((pos = longTag(buf, pos, end, f)) < 0) return -1;
  if (f.wire !== WIRE_LEN) return otherValue(buf, pos, end, f);
  if (pos >= end) return -1;
  let n = buf[pos]!;
  if (n < 0x80) pos++;
  else if (pos + 1 < end && buf[pos + 1]! < 0x80) {
    // Two bytes, bodies under 16 KiB: most events.
    n = (n & 0x7f) | (buf[pos + 1]! << 7);
    pos += 2;
  } else if ((n = readVarint(buf, pos, end, f)) < 0) return -1;
  else pos = f.pos;
  if (n > end - pos) return -1;
  f.start = pos;
  f.end = pos + n;
  return f.end;
}

/** nextField's tag of more than one byte: the position after it, or -1. */
function longTag(buf: Uint8Array, pos: number, end: number, f: FieldView): number {
  const tag = readVarint(buf, pos, end, f);
  if (tag < 0) return -1;
  const wire = tag % 8;
  f.field = (tag - wire) / 8;
  f.wire = wire;
  return f.pos;
}

/** nextField's value of a field that is not length-delimited. */
function otherValue(buf: Uint8Array, pos: number, end: number, f: FieldView): number {
  f.start = pos;
  switch (f.wire) {
    case WIRE_VARINT:
      do {
        if (pos >= end) return -1;
      } while (buf[pos++]! & 0x80);
      break;
    case WIRE_FIXED64:
      pos += 8;
      break;
    case WIRE_FIXED32:
      pos += 4;
      break;
    default: // groups (3, 4) and the invalid wire types 6 and 7
      return -1;
  }
  if (pos > end) return -1;
  f.end = pos;
  return pos;
}
