/**
 * The hot-path decoder: event bytes -> the same event object protobufjs would produce, reading
 * only the fields a selection asks for (field-selection.ts) and skipping the others' bytes.
 *
 * Tables come from the protobufjs schema (proto/), so field numbers are written once. Anything
 * a well-formed plugin message never contains (a wire type that does not match the schema, an
 * unknown field, a truncated value, a varint of more than five bytes where an int32 is expected)
 * makes decode() return null and the caller decodes the frame with protobufjs instead, which
 * keeps its exact behaviour on odd input (errors, $unknowns, merged duplicates).
 *
 * Strings are read with Buffer's native UTF-8 decoder (invalid sequences become U+FFFD, like the
 * protobufjs path, event-decoder.ts). The values that only select a series (mountpoint, ACL name
 * and pattern, drop reason) are interned: the same bytes give the same string object, without a
 * new string per event, and a Map lookup of it reuses its cached hash.
 */
import type protobuf from 'protobufjs';

const K_STRING = 1;
const K_INTERNED = 2;
const K_BYTES = 3;
const K_INT32 = 4;
const K_BOOL = 5;
const K_INT64 = 6;
const K_MESSAGE = 7;
const K_REPEATED_MESSAGE = 8;
const K_REPEATED_STRING = 9;
const K_MAP_STRING = 10;

/** Fields whose values select a series and repeat across events. */
const INTERNED_FIELDS: ReadonlySet<string> = new Set(['mountpoint', 'name', 'pattern', 'reason']);

interface FieldSpec {
  name: string;
  kind: number;
  /** Wire type the schema expects. */
  wire: number;
  sub: MessageSpec | null;
}

export interface MessageSpec {
  ctor: new () => Record<string, unknown>;
  /** By field number. */
  fields: (FieldSpec | undefined)[];
}

const specCache = new WeakMap<protobuf.Type, MessageSpec>();

export function messageSpec(type: protobuf.Type): MessageSpec {
  let spec = specCache.get(type);
  if (spec !== undefined) return spec;
  spec = { ctor: type.ctor as unknown as new () => Record<string, unknown>, fields: [] };
  specCache.set(type, spec);
  for (const f of type.fieldsArray) {
    f.resolve();
    let kind: number;
    let sub: MessageSpec | null = null;
    if (f.map) {
      if ((f as unknown as protobuf.MapField).keyType !== 'string' || f.type !== 'string') throw new Error(`field-decoder: unsupported map ${type.name}.${f.name}`);
      kind = K_MAP_STRING;
    } else if (f.resolvedType && 'fieldsArray' in f.resolvedType) {
      sub = messageSpec(f.resolvedType as protobuf.Type);
      kind = f.repeated ? K_REPEATED_MESSAGE : K_MESSAGE;
    } else if (f.resolvedType) {
      kind = K_INT32; // enum
    } else if (f.type === 'string') {
      kind = f.repeated ? K_REPEATED_STRING : INTERNED_FIELDS.has(f.name) ? K_INTERNED : K_STRING;
    } else if (f.type === 'bytes') kind = K_BYTES;
    else if (f.type === 'int32') kind = K_INT32;
    else if (f.type === 'bool') kind = K_BOOL;
    else if (f.type === 'int64') kind = K_INT64;
    else throw new Error(`field-decoder: unsupported type ${f.type} of ${type.name}.${f.name}`);
    if (f.repeated && kind !== K_REPEATED_MESSAGE && kind !== K_REPEATED_STRING) throw new Error(`field-decoder: unsupported repeated ${type.name}.${f.name}`);
    const wire = kind === K_INT32 || kind === K_BOOL || kind === K_INT64 ? 0 : 2;
    spec.fields[f.id] = { name: f.name, kind, wire, sub };
  }
  return spec;
}

/** Thrown internally when the bytes are not what a plugin sends; decode() then returns null. */
const BAIL = new Error('field-decoder: not a plain message');

/** Direct-mapped intern table for short strings: 1024 slots, a collision replaces the slot. */
const INTERN_SLOTS = 1024;
const INTERN_MAX_BYTES = 64;
const internBytes: (Buffer | undefined)[] = new Array(INTERN_SLOTS);
const internStrings: string[] = new Array(INTERN_SLOTS).fill('');

function intern(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > INTERN_MAX_BYTES) return buf.utf8Slice(start, end);
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 16777619);
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const b = internBytes[slot];
  if (b !== undefined && b.length === n) {
    let i = 0;
    while (i < n && b[i] === buf[start + i]) i++;
    if (i === n) return internStrings[slot]!;
  }
  const s = buf.utf8Slice(start, end);
  internBytes[slot] = Buffer.from(buf.subarray(start, end));
  internStrings[slot] = s;
  return s;
}

/** Decoder state shared by the generated functions: the read position. */
export interface Cursor {
  pos: number;
}

function varint32(d: Cursor, buf: Buffer, end: number): number {
  // protobufjs' uint32 for five bytes; a longer varint (a negative int32) is left to it.
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

/** As event-decoder.ts readInt64AsNumber: exact to 2^53, negative values negative. */
function int64(d: Cursor, buf: Buffer, end: number): number {
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

function skipVarint(d: Cursor, buf: Buffer, end: number): void {
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
function length(d: Cursor, buf: Buffer, end: number): number {
  const n = varint32(d, buf, end);
  if (n > end - d.pos) throw BAIL;
  return n;
}

function utf8(buf: Buffer, start: number, end: number): string {
  return start === end ? '' : buf.utf8Slice(start, end);
}

export type Decode = (d: Cursor, buf: Buffer, end: number) => Record<string, unknown>;

/**
 * Which fields to read, by field number: true reads the field whole; a list reads only those
 * fields of a nested message (or of each item of a list of messages); absent skips it. null
 * reads every field.
 */
export type FieldsWanted = readonly (boolean | readonly boolean[] | undefined)[] | null;

const HELPERS = { BAIL, varint32, int64, skipVarint, length, utf8, intern };

/**
 * A decode function specialised for one message and one selection, as protobufjs generates its
 * own: a switch on the whole tag (field number and wire type), a fixed property per case, so
 * that every store is monomorphic.
 */
function compile(spec: MessageSpec, wanted: FieldsWanted, reuse: boolean): Decode {
  const subs: Decode[] = [];
  const cases: string[] = [];
  spec.fields.forEach((f, id) => {
    if (f === undefined) return;
    const tag = id * 8 + f.wire;
    const prop = `m[${JSON.stringify(f.name)}]`;
    const want = wanted === null ? true : wanted[id];
    // A nested message read in part: only the listed fields of it.
    const subWanted = want === true || want === false || want === undefined ? null : want;
    if (!want) {
      // Skipped, but checked as protobufjs would decode it, so that a frame is refused alike
      // whatever the outputs read: nested messages are walked (not kept), map entries checked.
      let skip: string;
      if (f.wire === 0) skip = 'H.skipVarint(d, buf, end);';
      else if (f.kind === K_MESSAGE || f.kind === K_REPEATED_MESSAGE) {
        subs.push(compile(f.sub!, null, true));
        skip = `n = H.length(d, buf, end); S[${subs.length - 1}](d, buf, d.pos + n);`;
      } else if (f.kind === K_MAP_STRING) {
        skip = `n = H.length(d, buf, end); e = d.pos + n;
          while (d.pos < e) {
            t = H.varint32(d, buf, e);
            if (t !== 10 && t !== 18) throw H.BAIL;
            n = H.length(d, buf, e); d.pos += n;
          }`;
      } else skip = 'n = H.length(d, buf, end); d.pos += n;';
      cases.push(`case ${tag}: { ${skip} break; }`);
      return;
    }
    const str = 'n = H.length(d, buf, end); s = d.pos; d.pos += n;';
    let body: string;
    switch (f.kind) {
      case K_INT32:
        body = `${prop} = H.varint32(d, buf, end) | 0;`;
        break;
      case K_BOOL:
        body = `${prop} = H.varint32(d, buf, end) !== 0;`;
        break;
      case K_INT64:
        body = `${prop} = H.int64(d, buf, end);`;
        break;
      case K_STRING:
        body = `${str} ${prop} = H.utf8(buf, s, s + n);`;
        break;
      case K_INTERNED:
        body = `${str} ${prop} = H.intern(buf, s, s + n);`;
        break;
      case K_BYTES:
        body = `${str} ${prop} = buf.subarray(s, s + n);`;
        break;
      case K_MESSAGE:
        // A second occurrence merges into the first in protobufjs: left to it.
        subs.push(compile(f.sub!, subWanted, reuse));
        body = `if (${prop} !== null && ${prop} !== undefined) throw H.BAIL; n = H.length(d, buf, end); ${prop} = S[${subs.length - 1}](d, buf, d.pos + n);`;
        break;
      case K_REPEATED_MESSAGE:
        // Items are kept in a list: each one a new object, even when the event is reused.
        subs.push(compile(f.sub!, subWanted, false));
        body = `n = H.length(d, buf, end); ${prop}.push(S[${subs.length - 1}](d, buf, d.pos + n));`;
        break;
      case K_REPEATED_STRING:
        body = `${str} ${prop}.push(H.utf8(buf, s, s + n));`;
        break;
      default: // K_MAP_STRING
        body = `n = H.length(d, buf, end); e = d.pos + n; k = ''; v = '';
          while (d.pos < e) {
            t = H.varint32(d, buf, e);
            if (t !== 10 && t !== 18) throw H.BAIL;
            n = H.length(d, buf, e); s = d.pos; d.pos += n;
            if (t === 10) k = H.utf8(buf, s, s + n); else v = H.utf8(buf, s, s + n);
          }
          if (k === '__proto__') throw H.BAIL;
          ${prop}[k] = v;`;
    }
    cases.push(`case ${tag}: { ${body} break; }`);
  });
  // reuse: every call returns the same object, each property put back to what the
  // constructor gives it (lists and maps new, as a caller may keep them), then decoded into.
  let reset = '';
  let P: Record<string, unknown> | null = null;
  let scratch: Record<string, unknown> | null = null;
  if (reuse) {
    scratch = new spec.ctor();
    const pristine = new spec.ctor();
    // The fields this function writes (a skipped field keeps its default: nothing writes it)
    // and the event decoder's extras (own properties that are no field). Plain protobufjs
    // constructors keep field defaults on the prototype, read through it here. Lists and maps
    // start new; every other default is a shared value nobody writes to.
    const kinds = new Map<string, number>();
    spec.fields.forEach((f, id) => {
      if (f && (wanted === null || wanted[id])) kinds.set(f.name, f.kind);
    });
    const fieldNames = new Set(spec.fields.flatMap((f) => (f ? [f.name] : [])));
    const names = new Set([...Object.keys(pristine).filter((k) => !fieldNames.has(k)), ...kinds.keys()]);
    reset = [...names]
      .filter((k) => k !== 'hook' && k !== 'hookIndex')
      .map((k) => {
        const prop = `m[${JSON.stringify(k)}]`;
        const kind = kinds.get(k);
        if (kind === K_REPEATED_MESSAGE || kind === K_REPEATED_STRING) return `${prop} = [];`;
        if (kind === K_MAP_STRING) return `${prop} = {};`;
        return `${prop} = P[${JSON.stringify(k)}];`;
      })
      .join(' ');
    P = pristine;
  }
  const src = `return function decode(d, buf, end) {
    const m = ${reuse ? 'R' : 'new C()'};
    ${reset}
    let n = 0, s = 0, e = 0, t = 0, k = '', v = '';
    while (d.pos < end) {
      switch (H.varint32(d, buf, end)) {
        ${cases.join('\n')}
        default: throw H.BAIL;
      }
    }
    if (d.pos !== end) throw H.BAIL;
    return m;
  };`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('C', 'H', 'S', 'R', 'P', src)(spec.ctor, HELPERS, subs, scratch, P) as Decode;
}

/** Decodes messages with functions compiled per message type and selection. */
export class FieldDecoder {
  private readonly cursor: Cursor = { pos: 0 };
  private readonly compiled = new Map<MessageSpec, Map<FieldsWanted, Decode>[]>();

  /**
   * Runs a function of decoderFor() over buf[start, end): the message, or null when it needs
   * the generic decoder.
   */
  run(fn: Decode, buf: Buffer, start: number, end: number): Record<string, unknown> | null {
    this.cursor.pos = start;
    try {
      return fn(this.cursor, buf, end);
    } catch (err) {
      if (err === BAIL) return null;
      throw err;
    }
  }

  /**
   * The compiled function; callers on the hot path keep it (event-decoder.ts). `reuse`: it
   * returns one object, overwritten by its next call (and its nested messages too), instead of
   * a new one per call: for callers that are done with a message before decoding the next one.
   */
  decoderFor(spec: MessageSpec, wanted: FieldsWanted, reuse = false): Decode {
    let bySelection = this.compiled.get(spec);
    if (bySelection === undefined) this.compiled.set(spec, (bySelection = [new Map(), new Map()]));
    const cache = bySelection[reuse ? 1 : 0]!;
    let fn = cache.get(wanted);
    if (fn === undefined) cache.set(wanted, (fn = compile(spec, wanted, reuse)));
    return fn;
  }
}

declare module 'node:buffer' {
  interface Buffer {
    /** Node's native UTF-8 slice (what protobufjs' BufferReader uses); no argument checks. */
    utf8Slice(start: number, end: number): string;
  }
}
