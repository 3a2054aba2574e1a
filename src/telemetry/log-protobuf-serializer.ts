/**
 * OTLP/protobuf encoding of log records (ExportLogsServiceRequest), for the http/protobuf log
 * exporter. The SDK's transport (retries, timeouts, compression, headers) is kept; only the
 * serializer is ours.
 *
 * Why: with a record per event, the SDK's generic serializer was half of the sidecar's CPU
 * (profiled: its size pass and its write pass each walk every string in JS). Here each record is
 * written once into a scratch buffer and copied behind its length; attribute keys, the resource
 * and the scope are encoded once and reused; long strings go through Buffer's native UTF-8
 * writer. The tests decode the output with the official field numbers and compare it with the
 * SDK serializer's.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { I32, I64, LEN, VARINT, Writer, int64Size, utf8Length, varintSize, writeInt64, writeVarint } from '../protowire/writer.js';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';

function anyValueSize(v: AnyValue): number {
  switch (typeof v) {
    case 'string': {
      const n = utf8Length(v);
      return 1 + varintSize(n) + n;
    }
    case 'boolean':
      return 2;
    case 'number':
      return Number.isInteger(v) ? 1 + int64Size(v) : 9;
    default: {
      if (v === null || v === undefined) return 0;
      if (Array.isArray(v)) {
        let inner = 0;
        for (const item of v) {
          const s = anyValueSize(item as AnyValue);
          inner += 1 + varintSize(s) + s;
        }
        return 1 + varintSize(inner) + inner;
      }
      if (v instanceof Uint8Array) return 1 + varintSize(v.length) + v.length;
      let inner = 0;
      for (const [k, item] of Object.entries(v as Record<string, AnyValue>)) {
        const s = keyValueSize(k, item);
        inner += 1 + varintSize(s) + s;
      }
      return 1 + varintSize(inner) + inner;
    }
  }
}

function keyValueSize(key: string, v: AnyValue): number {
  const k = utf8Length(key);
  const vs = anyValueSize(v);
  return 1 + varintSize(k) + k + 1 + varintSize(vs) + vs;
}

/** Writes AnyValue's fields (the message body, without its own tag and length). */
function writeAnyValueBody(w: Writer, v: AnyValue): void {
  switch (typeof v) {
    case 'string':
      w.stringField(1, v);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.varint(v ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(v)) {
        w.tag(3, VARINT);
        writeInt64(w, v);
      } else {
        w.tag(4, I64);
        w.double(v);
      }
      return;
    default: {
      if (v === null || v === undefined) return;
      if (Array.isArray(v)) {
        let inner = 0;
        for (const item of v) {
          const s = anyValueSize(item as AnyValue);
          inner += 1 + varintSize(s) + s;
        }
        w.tag(5, LEN);
        w.varint(inner);
        for (const item of v) {
          w.tag(1, LEN);
          w.varint(anyValueSize(item as AnyValue));
          writeAnyValueBody(w, item as AnyValue);
        }
        return;
      }
      if (v instanceof Uint8Array) {
        w.tag(7, LEN);
        w.varint(v.length);
        w.raw(v);
        return;
      }
      const entries = Object.entries(v as Record<string, AnyValue>);
      let inner = 0;
      for (const [k, item] of entries) {
        const s = keyValueSize(k, item);
        inner += 1 + varintSize(s) + s;
      }
      w.tag(6, LEN);
      w.varint(inner);
      for (const [k, item] of entries) writeKeyValue(w, 1, k, item, null);
    }
  }
}

/** Encoded `key` field of a KeyValue (tag, length, bytes), cached for the few keys we use. */
const KEY_CACHE = new Map<string, Buffer>();
const KEY_CACHE_MAX = 4096;

export function keyField(key: string): Buffer {
  let b = KEY_CACHE.get(key);
  if (b === undefined) {
    const n = Buffer.byteLength(key, 'utf8');
    const w = new Writer(n + 6);
    w.tag(1, LEN);
    w.varint(n);
    w.stringBody(key, n);
    b = Buffer.from(w.buf.subarray(0, w.pos));
    if (KEY_CACHE.size < KEY_CACHE_MAX) KEY_CACHE.set(key, b);
  }
  return b;
}

/**
 * The common attribute, a short ASCII string under a short key, in one pass: every length fits
 * in one byte, so nothing is measured first. Returns false (having written nothing) otherwise.
 */
function writeShortAsciiKeyValue(w: Writer, field: number, k: Buffer, v: string): boolean {
  const kl = k.length;
  const vl = v.length;
  if (field > 15 || kl + vl + 4 > 127) return false;
  w.ensure(kl + vl + 6);
  const b = w.buf;
  let p = w.pos + 2;
  for (let i = 0; i < kl; i++) b[p++] = k[i]!;
  b[p++] = 0x12; // value: AnyValue
  b[p++] = vl + 2;
  b[p++] = 0x0a; // string_value
  b[p++] = vl;
  for (let i = 0; i < vl; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) return false;
    b[p++] = c;
  }
  b[w.pos] = field * 8 + LEN;
  b[w.pos + 1] = kl + vl + 4;
  w.pos = p;
  return true;
}

export function writeKeyValue(w: Writer, field: number, key: string, v: AnyValue, cachedKey: Buffer | null): void {
  const k = cachedKey ?? keyField(key);
  if (typeof v === 'string') {
    if (writeShortAsciiKeyValue(w, field, k, v)) return;
    // The common case, with the string's UTF-8 length computed once.
    const n = utf8Length(v);
    const vs = 1 + varintSize(n) + n;
    w.tag(field, LEN);
    w.varint(k.length + 1 + varintSize(vs) + vs);
    w.raw(k);
    w.tag(2, LEN);
    w.varint(vs);
    w.tag(1, LEN);
    w.varint(n);
    w.stringBody(v, n);
    return;
  }
  if ((typeof v === 'boolean' || (typeof v === 'number' && v >= 0 && v < 0x10000000 && Number.isInteger(v))) && field < 16 && k.length < 120) {
    // Booleans and small counts (QoS, sizes, ports): the value's size is known without a pass.
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    const vs = 1 + varintSize(n);
    w.ensure(k.length + vs + 4);
    const b = w.buf;
    b[w.pos++] = field * 8 + LEN;
    b[w.pos++] = k.length + 2 + vs;
    w.raw(k);
    b[w.pos++] = 0x12;
    b[w.pos++] = vs;
    b[w.pos++] = typeof v === 'boolean' ? 0x10 : 0x18; // bool_value, int_value
    w.varint(n);
    return;
  }
  const vs = anyValueSize(v);
  w.tag(field, LEN);
  w.varint(k.length + 1 + varintSize(vs) + vs);
  w.raw(k);
  w.tag(2, LEN);
  w.varint(vs);
  writeAnyValueBody(w, v);
}

function writeAttributes(w: Writer, field: number, attrs: Attributes): void {
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    writeKeyValue(w, field, key, v, keyField(key));
  }
}

/** A nested message written into a scratch writer, then emitted behind its tag and length. */
function encodeMessage(body: (w: Writer) => void): Buffer {
  const w = new Writer(256);
  body(w);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

const resourceCache = new WeakMap<Resource, Buffer>();
export function resourceMessage(r: Resource): Buffer {
  let b = resourceCache.get(r);
  if (b === undefined) {
    b = encodeMessage((w) => writeAttributes(w, 1, r.attributes as Attributes));
    resourceCache.set(r, b);
  }
  return b;
}

const scopeCache = new WeakMap<InstrumentationScope, Buffer>();
export function scopeMessage(s: InstrumentationScope): Buffer {
  let b = scopeCache.get(s);
  if (b === undefined) {
    b = encodeMessage((w) => {
      w.stringField(1, s.name);
      if (s.version) w.stringField(2, s.version);
    });
    scopeCache.set(s, b);
  }
  return b;
}

function writeRecord(w: Writer, r: ReadableLogRecord): void {
  w.tag(1, I64);
  w.hrTime(r.hrTime);
  if (r.severityNumber !== undefined) {
    w.tag(2, VARINT);
    w.varint(r.severityNumber);
  }
  if (r.severityText !== undefined) w.stringField(3, r.severityText);
  const body = r.body;
  if (typeof body === 'string') {
    const n = utf8Length(body);
    w.tag(5, LEN);
    w.varint(1 + varintSize(n) + n);
    w.tag(1, LEN);
    w.varint(n);
    w.stringBody(body, n);
  } else if (body !== undefined) {
    w.tag(5, LEN);
    w.varint(anyValueSize(body));
    writeAnyValueBody(w, body);
  }
  writeAttributes(w, 6, r.attributes);
  if (r.droppedAttributesCount > 0) {
    w.tag(7, VARINT);
    w.varint(r.droppedAttributesCount);
  }
  const sc = r.spanContext;
  if (sc) {
    w.tag(8, I32);
    w.fixed32(sc.traceFlags & 0xff);
    w.hex(9, sc.traceId);
    w.hex(10, sc.spanId);
  }
  w.tag(11, I64);
  w.hrTime(r.hrTimeObserved);
  if (r.eventName) w.stringField(12, r.eventName);
}

/**
 * Writes log records straight from the sink's values into OTLP protobuf bytes, one finished
 * LogRecord (with its ScopeLogs field tag and length) per record, with no record object in
 * between (the http/protobuf path; log-sink.ts drives it). Records are written in place into
 * slabs of SLAB bytes; each record is a view into its slab, which lives as long as one of its
 * records is queued.
 */
const SLAB = 256 * 1024;
const SLAB_MIN_ROOM = 16 * 1024;
/** Emptied slabs kept for reuse at most (4 MiB). */
const MAX_FREE_SLABS = 16;

/**
 * A slab and how many of its records are still queued. Slabs are reused once every record in
 * them has been released (exported or dropped, log-export-queue.ts).
 */
class Slab {
  live = 0;
  /** No more records go into it. */
  sealed = false;
  constructor(
    readonly id: number,
    readonly buf: Buffer,
  ) {}
}

/**
 * Also the store of the records it wrote: a record is a handle (a small integer), its bytes a
 * range of a slab. The export queue holds handles, not an object per record, so that queued
 * records cost the garbage collector nothing (measured: with a view object per record, the old
 * generation grew by ~75 MB of dead views between major collections at full rate).
 */
export class LogRecordEncoder {
  private readonly w = new Writer(0);
  /** Where the record being written starts: its tag and a 3-byte length come first. */
  private recordAt = 0;
  private slab: Slab | null = null;
  private readonly slabsById: (Slab | undefined)[] = [];
  private readonly free: Slab[] = [];
  // Records by handle: slab id, first and last byte (start -1: the handle is free).
  private slabOf = new Int32Array(4096);
  private startOf = new Int32Array(4096).fill(-1);
  private endOf = new Int32Array(4096);
  private freeHandles = new Int32Array(4096);
  private freeCount = 0;
  private nextHandle = 0;

  /** Records written and not released. */
  get live(): number {
    return this.nextHandle - this.freeCount;
  }

  /** Byte length of a record (its ScopeLogs tag and length included). */
  size(handle: number): number {
    return this.endOf[handle]! - this.startOf[handle]!;
  }

  /** A view of a record's bytes, valid until it is released. */
  bytes(handle: number): Buffer {
    return this.slabsById[this.slabOf[handle]!]!.buf.subarray(this.startOf[handle]!, this.endOf[handle]!);
  }

  copyTo(handle: number, out: Buffer, at: number): number {
    return this.slabsById[this.slabOf[handle]!]!.buf.copy(out, at, this.startOf[handle]!, this.endOf[handle]!);
  }

  /** A record leaves the queue for good: its bytes will not be read again. */
  release(handle: number): void {
    if (handle < 0 || handle >= this.nextHandle || this.startOf[handle]! < 0) return;
    this.startOf[handle] = -1;
    this.freeHandles[this.freeCount++] = handle;
    const slab = this.slabsById[this.slabOf[handle]!]!;
    slab.live--;
    if (slab.sealed && slab.live === 0) this.recycle(slab);
  }

  private newHandle(slab: Slab, start: number, end: number): number {
    let h: number;
    if (this.freeCount > 0) h = this.freeHandles[--this.freeCount]!;
    else {
      h = this.nextHandle++;
      if (h === this.startOf.length) {
        const grow = (a: Int32Array, fill: number) => {
          const b = new Int32Array(a.length * 2).fill(fill);
          b.set(a);
          return b;
        };
        this.slabOf = grow(this.slabOf, 0);
        this.startOf = grow(this.startOf, -1);
        this.endOf = grow(this.endOf, 0);
        this.freeHandles = grow(this.freeHandles, 0);
      }
    }
    this.slabOf[h] = slab.id;
    this.startOf[h] = start;
    this.endOf[h] = end;
    slab.live++;
    return h;
  }

  private newSlab(buf: Buffer): Slab {
    const slab = new Slab(this.slabsById.length, buf);
    this.slabsById.push(slab);
    return slab;
  }

  private recycle(slab: Slab): void {
    slab.sealed = false;
    if (this.free.length < MAX_FREE_SLABS && slab.buf.length === SLAB) this.free.push(slab);
    // Its id stays taken (ids are few: a slab is retired only when MAX_FREE_SLABS are spare).
    else this.slabsById[slab.id] = new Slab(slab.id, EMPTY_BUFFER);
  }

  private seal(): void {
    const slab = this.slab;
    if (slab === null) return;
    slab.sealed = true;
    if (slab.live === 0) this.recycle(slab);
    this.slab = null;
  }

  begin(timeSec: number, timeNanos: number, observedMs: number, eventName: string): void {
    const w = this.w;
    // A record rarely takes more than a few hundred bytes; a longer one grows the slab (ensure).
    if (this.slab === null || w.buf.length - w.pos < SLAB_MIN_ROOM) {
      this.seal();
      const slab = this.free.pop() ?? this.newSlab(Buffer.allocUnsafeSlow(SLAB));
      this.slab = slab;
      w.buf = slab.buf;
      w.pos = 0;
    }
    this.recordAt = w.pos;
    w.pos += 4;
    w.tag(1, I64);
    w.time(timeSec, timeNanos);
    w.tag(11, I64);
    w.time(Math.floor(observedMs / 1000), (observedMs % 1000) * 1e6);
    w.stringField(12, eventName);
  }

  severity(severityNumber: number, severityText: string): void {
    this.w.tag(2, VARINT);
    this.w.varint(severityNumber);
    this.w.stringField(3, severityText);
  }

  body(text: string): void {
    const w = this.w;
    const tl = text.length;
    if (tl < 126) {
      // Most bodies: short ASCII, written in one pass (lengths fit in one byte).
      w.ensure(tl + 4);
      const b = w.buf;
      let p = w.pos + 4;
      let ascii = true;
      for (let i = 0; i < tl; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        b[p++] = c;
      }
      if (ascii) {
        b[w.pos] = (5 << 3) | LEN;
        b[w.pos + 1] = tl + 2;
        b[w.pos + 2] = 0x0a;
        b[w.pos + 3] = tl;
        w.pos = p;
        return;
      }
    }
    const n = utf8Length(text);
    w.tag(5, LEN);
    w.varint(1 + varintSize(n) + n);
    w.tag(1, LEN);
    w.varint(n);
    w.stringBody(text, n);
  }

  string(key: string, v: string): void {
    writeKeyValue(this.w, 6, key, v, keyField(key));
  }

  /** An integer, a double, or a boolean attribute; arrays of strings or integers. */
  value(key: string, v: AnyValue): void {
    writeKeyValue(this.w, 6, key, v, keyField(key));
  }

  trace(traceId: string, spanId: string, traceFlags: number): void {
    const w = this.w;
    w.tag(8, I32);
    w.fixed32(traceFlags & 0xff);
    w.hex(9, traceId);
    w.hex(10, spanId);
  }

  /** The finished record (ScopeLogs field 2, its length, the LogRecord), as a handle. */
  end(droppedAttributes: number): number {
    const w = this.w;
    if (droppedAttributes > 0) {
      w.tag(7, VARINT);
      w.varint(droppedAttributes);
    }
    if (w.buf !== this.slab!.buf) {
      // The record outgrew the slab and ensure() moved everything into a larger buffer: that
      // buffer is the slab from now on (the records before stay in the old one).
      this.seal();
      this.slab = this.newSlab(w.buf);
    }
    const bodyAt = this.recordAt + 4;
    const len = w.pos - bodyAt;
    const lenSize = varintSize(len);
    if (lenSize > 3) {
      // 2 MiB or more (attribute limits set very high): moved into a slab of its own.
      const out = Buffer.allocUnsafeSlow(1 + lenSize + len);
      const o = new Writer(0);
      o.buf = out;
      o.tag(2, LEN);
      o.varint(len);
      w.buf.copy(out, o.pos, bodyAt, w.pos);
      w.pos = this.recordAt;
      const own = this.newSlab(out);
      own.sealed = true;
      return this.newHandle(own, 0, out.length);
    }
    // The header goes right before the body; the one or two bytes it does not need stay unused.
    const start = bodyAt - 1 - lenSize;
    const b = w.buf;
    b[start] = (2 << 3) | LEN;
    writeVarint(b, start + 1, len);
    return this.newHandle(this.slab!, start, w.pos);
  }
}

const EMPTY_BUFFER = Buffer.alloc(0);

/**
 * An ExportLogsServiceRequest from records LogRecordEncoder wrote: one ResourceLogs, one
 * ScopeLogs, the records' bytes as they are.
 */
export function serializeEncodedLogRecords(records: readonly number[], store: LogRecordEncoder, resource: Resource, scope: InstrumentationScope): Uint8Array {
  const res = resourceMessage(resource);
  const sc = scopeMessage(scope);
  let recordBytes = 0;
  for (const r of records) recordBytes += store.size(r);
  const scopeLogs = 1 + varintSize(sc.length) + sc.length + recordBytes;
  const resourceLogs = 1 + varintSize(res.length) + res.length + 1 + varintSize(scopeLogs) + scopeLogs;
  const out = Buffer.allocUnsafe(1 + varintSize(resourceLogs) + resourceLogs);
  const w = new Writer(0);
  w.buf = out;
  w.tag(1, LEN);
  w.varint(resourceLogs);
  w.tag(1, LEN);
  w.varint(res.length);
  w.raw(res);
  w.tag(2, LEN);
  w.varint(scopeLogs);
  w.tag(1, LEN);
  w.varint(sc.length);
  w.raw(sc);
  for (const r of records) w.pos += store.copyTo(r, out, w.pos);
  return out;
}

export function serializeLogRecords(records: readonly ReadableLogRecord[]): Uint8Array {
  // Group by resource, then scope (object identity), as the SDK's serializer does.
  const groups = new Map<Resource, Map<InstrumentationScope, ReadableLogRecord[]>>();
  for (const r of records) {
    let byScope = groups.get(r.resource);
    if (!byScope) groups.set(r.resource, (byScope = new Map()));
    let list = byScope.get(r.instrumentationScope);
    if (!list) byScope.set(r.instrumentationScope, (list = []));
    list.push(r);
  }
  const out = new Writer(Math.max(1024, records.length * 512));
  for (const [resource, byScope] of groups) {
    const scopeParts: Buffer[] = [];
    for (const [scope, list] of byScope) {
      const body = new Writer(list.length * 512 + 64);
      const scopeBytes = scopeMessage(scope);
      body.tag(1, LEN);
      body.varint(scopeBytes.length);
      body.raw(scopeBytes);
      for (const r of list) body.nested(2, () => writeRecord(body, r));
      scopeParts.push(body.buf.subarray(0, body.pos));
    }
    const res = resourceMessage(resource);
    let inner = 1 + varintSize(res.length) + res.length;
    for (const p of scopeParts) inner += 1 + varintSize(p.length) + p.length;
    out.tag(1, LEN);
    out.varint(inner);
    out.tag(1, LEN);
    out.varint(res.length);
    out.raw(res);
    for (const p of scopeParts) {
      out.tag(2, LEN);
      out.varint(p.length);
      out.raw(p);
    }
  }
  return out.buf.subarray(0, out.pos);
}

export const FastProtobufLogsSerializer = {
  serializeRequest: (records: ReadableLogRecord[]): Uint8Array => serializeLogRecords(records),
  deserializeResponse: ProtobufLogsSerializer.deserializeResponse,
};

/** For the http/protobuf transport: batches of LogRecordEncoder handles, or of record objects. */
export function wireLogsSerializer(resource: Resource, scope: InstrumentationScope, store: LogRecordEncoder) {
  return {
    serializeRequest: (records: (ReadableLogRecord | number)[]): Uint8Array =>
      records.length > 0 && typeof records[0] === 'number'
        ? serializeEncodedLogRecords(records as number[], store, resource, scope)
        : serializeLogRecords(records as ReadableLogRecord[]),
    deserializeResponse: ProtobufLogsSerializer.deserializeResponse,
  };
}
