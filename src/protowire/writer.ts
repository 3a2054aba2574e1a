/**
 * The protobuf wire writer: every varint, tag, length prefix and fixed-size value src/ writes.
 *
 * Writer grows one buffer and writes into it in place (the OTLP log record encoder writes a
 * record per event through it, telemetry/otlp/log-record-encoder.ts); varintSize, lenFieldSize,
 * utf8Length and int64Size give the sizes a length prefix needs before its body is written;
 * writeVarint writes into a buffer the caller sized (simulator/frame-encoder.ts).
 */
import type { HrTime } from '@opentelemetry/api';
import { isOtlpTimeParts } from '../telemetry/otlp-time.js';
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './reader.js';

export { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT };
/** The wire types under the names of the protobuf encoding guide. */
export const LEN = WIRE_LEN;
export const VARINT = WIRE_VARINT;
export const I64 = WIRE_FIXED64;
export const I32 = WIRE_FIXED32;

/** Bytes of a non-negative varint. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes a non-negative varint at buf[pos], which must have room; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** UTF-8 byte length of a string (surrogate pairs count 4, lone surrogates 3 as U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes of a length-delimited field of a body of n bytes, with a one-byte tag (fields 1-15). */
export function lenFieldSize(n: number): number {
  return 1 + varintSize(n) + n;
}

/** Bytes of an int64 varint: a negative value takes ten. */
export function int64Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** A writer into `buf`, which the caller sized: it grows only if that was too small. */
  static over(buf: Buffer): Writer {
    const w = new Writer(0);
    w.buf = buf;
    return w;
  }

  /** A copy of what was written, in a buffer of its own. */
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(n: number): void {
    this.ensure(10);
    this.pos = writeVarint(this.buf, this.pos, n);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A string whose UTF-8 length is already known. */
  stringBody(s: string, byteLength: number): void {
    this.ensure(byteLength);
    if (byteLength === s.length && byteLength < 48) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < byteLength; i++) b[p++] = s.charCodeAt(i);
      this.pos = p;
    } else {
      this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
    }
  }

  stringField(field: number, s: string): void {
    const n = utf8Length(s);
    this.tag(field, LEN);
    this.varint(n);
    this.stringBody(s, n);
  }

  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n < 64) {
      // Short copies (attribute keys) are cheaper in JS than through a native call.
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = bytes[i]!;
      this.pos = p;
    } else {
      this.buf.set(bytes, this.pos);
      this.pos += n;
    }
  }

  /** A length-delimited field of bytes already encoded (an embedded message, a blob). */
  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** An int64 varint: a negative value as its 64-bit two's complement, ten bytes. */
  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  /**
   * Unix nanoseconds of an HrTime as fixed64, exactly (no BigInt, no precision loss); a time
   * fixed64 cannot hold is written as 0, "unknown" (otlp-time.ts).
   */
  hrTime(t: HrTime): void {
    this.time(t[0], t[1]);
  }

  /** As hrTime(), from seconds and nanoseconds. */
  time(s: number, ns: number): void {
    const ok = isOtlpTimeParts(s, ns);
    const sec = ok ? s : 0;
    const nanos = ok ? ns : 0;
    const a = Math.floor(sec / 65536) * 1e9; // high part of sec * 1e9, in units of 2^16
    const b = (sec % 65536) * 1e9 + nanos; // low part, < 2^47
    const low = (a % 65536) * 65536 + (b % 4294967296);
    const lo = low % 4294967296;
    const hi = Math.floor(a / 65536) + Math.floor(b / 4294967296) + Math.floor(low / 4294967296);
    this.ensure(8);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = lo & 0xff;
    buf[p++] = (lo >>> 8) & 0xff;
    buf[p++] = (lo >>> 16) & 0xff;
    buf[p++] = lo >>> 24;
    buf[p++] = hi & 0xff;
    buf[p++] = (hi >>> 8) & 0xff;
    buf[p++] = (hi >>> 16) & 0xff;
    buf[p++] = (hi >>> 24) & 0xff;
    this.pos = p;
  }

  /**
   * Writes a length-delimited field whose body `write` produces directly in place: two bytes
   * are reserved for the length (enough below 16 KiB, nearly every record) and the body is moved
   * only when its length needs another size, instead of copying every body once.
   */
  nested(field: number, write: () => void): void {
    this.tag(field, LEN);
    this.ensure(2);
    const lenAt = this.pos;
    this.pos += 2;
    write();
    const len = this.pos - lenAt - 2;
    const need = varintSize(len);
    if (need !== 2) {
      this.ensure(need - 2);
      this.buf.copyWithin(lenAt + need, lenAt + 2, this.pos);
      this.pos += need - 2;
    }
    writeVarint(this.buf, lenAt, len);
  }

  hex(field: number, hex: string): void {
    const n = hex.length >> 1;
    this.tag(field, LEN);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(hex, this.pos, n, 'hex');
  }
}
