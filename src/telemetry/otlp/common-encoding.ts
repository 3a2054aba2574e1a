/**
 * The OTLP protobuf pieces every signal shares (opentelemetry-proto common/v1, resource/v1):
 * AnyValue and KeyValue, attributes, the Resource and InstrumentationScope messages, and the
 * export request around one resource and one scope. The log record encoder and the span encoder
 * write through these; the field numbers of the request are the same for both signals.
 *
 * Attribute keys, the resource and the scope are encoded once and reused; the common attribute
 * (a short ASCII string or a small count) is written in one pass without measuring first.
 */
import type { AnyValue } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { I64, LEN, VARINT, Writer, int64Size, lenFieldSize, utf8Length, varintSize } from '../../protowire/writer.js';

/** Bytes of an ArrayValue's body: its values, each an AnyValue field. */
function arrayValueSize(items: readonly AnyValue[]): number {
  let inner = 0;
  for (const item of items) inner += lenFieldSize(anyValueSize(item));
  return inner;
}

/** Bytes of a KeyValueList's body: its KeyValue fields. */
function keyValueListSize(entries: readonly [string, AnyValue][]): number {
  let inner = 0;
  for (const [k, item] of entries) inner += lenFieldSize(keyValueSize(k, item));
  return inner;
}

/** Bytes of an AnyValue's body. */
function anyValueSize(v: AnyValue): number {
  switch (typeof v) {
    case 'string':
      return lenFieldSize(utf8Length(v));
    case 'boolean':
      return 2;
    case 'number':
      return Number.isInteger(v) ? 1 + int64Size(v) : 9;
    default: {
      if (v === null || v === undefined) return 0;
      if (Array.isArray(v)) return lenFieldSize(arrayValueSize(v as AnyValue[]));
      if (v instanceof Uint8Array) return lenFieldSize(v.length);
      return lenFieldSize(keyValueListSize(Object.entries(v as Record<string, AnyValue>)));
    }
  }
}

function keyValueSize(key: string, v: AnyValue): number {
  return lenFieldSize(utf8Length(key)) + lenFieldSize(anyValueSize(v));
}

/** Writes AnyValue's fields (the message body, without its own tag and length). */
export function writeAnyValueBody(w: Writer, v: AnyValue): void {
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
        w.int64(v);
      } else {
        w.tag(4, I64);
        w.double(v);
      }
      return;
    default: {
      if (v === null || v === undefined) return;
      if (Array.isArray(v)) {
        w.tag(5, LEN);
        w.varint(arrayValueSize(v as AnyValue[]));
        for (const item of v as AnyValue[]) {
          w.tag(1, LEN);
          w.varint(anyValueSize(item));
          writeAnyValueBody(w, item);
        }
        return;
      }
      if (v instanceof Uint8Array) {
        w.bytesField(7, v);
        return;
      }
      const entries = Object.entries(v as Record<string, AnyValue>);
      w.tag(6, LEN);
      w.varint(keyValueListSize(entries));
      for (const [k, item] of entries) writeKeyValue(w, 1, k, item);
    }
  }
}

/** An AnyValue field (a log record's body) of any value. */
export function writeAnyValueField(w: Writer, field: number, v: AnyValue): void {
  w.tag(field, LEN);
  w.varint(anyValueSize(v));
  writeAnyValueBody(w, v);
}

/** Encoded `key` field of a KeyValue (tag, length, bytes), cached for the few keys we use. */
const KEY_CACHE = new Map<string, Buffer>();
const KEY_CACHE_MAX = 4096;

function keyField(key: string): Buffer {
  let b = KEY_CACHE.get(key);
  if (b === undefined) {
    const n = Buffer.byteLength(key, 'utf8');
    const w = new Writer(n + 6);
    w.tag(1, LEN);
    w.varint(n);
    w.stringBody(key, n);
    b = w.bytes();
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

/**
 * Booleans and small counts (QoS, sizes, ports): the value's size is known without a pass.
 * Returns false (having written nothing) for any other value.
 */
function writeSmallScalarKeyValue(w: Writer, field: number, k: Buffer, v: AnyValue): boolean {
  if (!(typeof v === 'boolean' || (typeof v === 'number' && v >= 0 && v < 0x10000000 && Number.isInteger(v))) || field >= 16 || k.length >= 120) return false;
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
  return true;
}

/** A KeyValue's tag, length and key, then its value's tag and length (`vs`: the AnyValue's body size). */
function writeKeyValueHead(w: Writer, field: number, k: Buffer, vs: number): void {
  w.tag(field, LEN);
  w.varint(k.length + lenFieldSize(vs));
  w.raw(k);
  w.tag(2, LEN);
  w.varint(vs);
}

/** A KeyValue field (an attribute). */
export function writeKeyValue(w: Writer, field: number, key: string, v: AnyValue): void {
  const k = keyField(key);
  if (typeof v === 'string') {
    if (writeShortAsciiKeyValue(w, field, k, v)) return;
    // The common case, with the string's UTF-8 length computed once.
    const n = utf8Length(v);
    writeKeyValueHead(w, field, k, lenFieldSize(n));
    w.tag(1, LEN);
    w.varint(n);
    w.stringBody(v, n);
    return;
  }
  if (writeSmallScalarKeyValue(w, field, k, v)) return;
  writeKeyValueHead(w, field, k, anyValueSize(v));
  writeAnyValueBody(w, v);
}

/** Attributes as repeated KeyValue fields; undefined values are left out. */
export function writeAttributes(w: Writer, field: number, attrs: Readonly<Record<string, AnyValue | undefined>>): void {
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    writeKeyValue(w, field, key, v);
  }
}

/** A message's body encoded once per object (the resource, the scope), then reused as is. */
function encodedOnce<K extends object>(cache: WeakMap<K, Buffer>, key: K, write: (w: Writer, key: K) => void): Buffer {
  let b = cache.get(key);
  if (b === undefined) {
    const w = new Writer(256);
    write(w, key);
    b = w.bytes();
    cache.set(key, b);
  }
  return b;
}

const resourceCache = new WeakMap<Resource, Buffer>();
const scopeCache = new WeakMap<InstrumentationScope, Buffer>();

/** The Resource message's body. */
export function resourceMessage(r: Resource): Buffer {
  return encodedOnce(resourceCache, r, (w) => writeAttributes(w, 1, r.attributes as Record<string, AnyValue | undefined>));
}

/** The InstrumentationScope message's body. */
export function scopeMessage(s: InstrumentationScope): Buffer {
  return encodedOnce(scopeCache, s, (w) => {
    w.stringField(1, s.name);
    if (s.version) w.stringField(2, s.version);
  });
}

/**
 * An Export{Logs,Trace}ServiceRequest with one Resource{Logs,Spans} holding one
 * Scope{Logs,Spans}: resource_x 1; resource 1, scope_x 2; scope 1, then the items (field 2).
 * `itemsLength`: bytes of the items, each with its tag and length, which `writeItems` writes.
 * The request is written into a buffer of its exact size.
 */
export function exportRequest(resource: Resource, scope: InstrumentationScope, itemsLength: number, writeItems: (out: Writer) => void): Buffer {
  const res = resourceMessage(resource);
  const sc = scopeMessage(scope);
  const scopeItems = lenFieldSize(sc.length) + itemsLength;
  const resourceItems = lenFieldSize(res.length) + lenFieldSize(scopeItems);
  const w = Writer.over(Buffer.allocUnsafe(lenFieldSize(resourceItems)));
  w.tag(1, LEN);
  w.varint(resourceItems);
  w.bytesField(1, res);
  w.tag(2, LEN);
  w.varint(scopeItems);
  w.bytesField(1, sc);
  writeItems(w);
  return w.buf.subarray(0, w.pos);
}
