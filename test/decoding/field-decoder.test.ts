/**
 * The field decoder (field-decoder.ts) against protobufjs, the reference: for seeded fuzzed
 * frames (extreme values, invalid UTF-8, huge lists, byte-level mutations), the full decode
 * agrees with protobufjs on every field and on every failure, and the metrics-path selection
 * agrees on every field it reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { loadEventSchema } from '../../src/decoding/proto-schema.js';
import { ALL_FIELDS, selectFields } from '../../src/decoding/field-selection.js';
import { HOOKS, type SidecarEvent } from '../../src/events/event-types.js';
import { FrameFuzzer } from '../helpers/frame-fuzzer.js';
import { ClientModel } from '../../src/simulator/client-model.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';

const schema = loadEventSchema();
const EXTRAS = ['hook', 'hookIndex', 'timeSec', 'timeNanos', 'timeMissing', 'reasonName', 'truncatedItems', 'protocolVersion'];

/** Values as a reader of the event sees them (bytes by content, messages by their fields). */
function view(v: unknown): unknown {
  if (v instanceof Uint8Array) return ['bytes', Buffer.from(v).toString('hex')];
  if (Array.isArray(v)) return v.map(view);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // protobufjs' int64 default (seconds absent) is a {low, high} object: its value is 0.
    if ('low' in o && 'high' in o) return Number(o.low) + Number(o.high) * 2 ** 32;
    const fields = 'topic' in o ? ['topic', 'qos', 'matchedAcl'] : 'pattern' in o ? ['name', 'pattern'] : 'seconds' in o ? ['seconds', 'nanos'] : Object.keys(o);
    return Object.fromEntries(fields.map((k) => [k, view(o[k])]));
  }
  return v;
}

function fieldsOf(e: SidecarEvent): string[] {
  return [...schema.types[e.hookIndex]!.fieldsArray.map((f) => f.name), ...EXTRAS];
}

/** A field of the event by its selection name ("matchedAcl.name": that field of the nested message). */
function read(e: SidecarEvent, name: string): unknown {
  let v: unknown = e;
  for (const part of name.split('.')) v = v === null || v === undefined ? v : (v as Record<string, unknown>)[part];
  return v;
}

function compare(a: SidecarEvent, b: SidecarEvent, names: readonly string[], what: string): void {
  for (const k of names) {
    assert.deepEqual(view(read(b, k)), view(read(a, k)), `${what}: ${a.hook}.${k}`);
  }
}

test('fuzzed frames: the field decoder agrees with protobufjs on every field and every failure', () => {
  const reference = new EventDecoder(schema, ALL_FIELDS, 'protobufjs');
  const full = new EventDecoder(schema);
  const metricsOnly = selectFields({ topicGroups: true, fullHooks: [] });
  const selective = new EventDecoder(schema, metricsOnly);
  const fuzzer = new FrameFuzzer(13);
  let events = 0;
  let failures = 0;
  for (let i = 0; i < 4000; i++) {
    const f = fuzzer.nextFramed();
    const a = reference.decode(f, 4, f.length, 1_700_000_000_000);
    const b = full.decode(f, 4, f.length, 1_700_000_000_000);
    const c = selective.decode(f, 4, f.length, 1_700_000_000_000);
    if (a === null) {
      failures++;
      assert.equal(b, null, reference.failureDetail);
      assert.equal(c, null);
      assert.equal(full.failure, reference.failure);
      assert.equal(full.failureDetail, reference.failureDetail);
      assert.equal(selective.failure, reference.failure);
      continue;
    }
    events++;
    assert.ok(b && c, `frame ${i}: decoded by protobufjs only (${full.failureDetail})`);
    compare(a, b, fieldsOf(a), 'full');
    const sel = metricsOnly[a.hook];
    compare(a, c, sel === 'all' ? fieldsOf(a) : [...sel, ...EXTRAS], 'selective');
  }
  // Both kinds of frame are well represented.
  assert.ok(events > 1000 && failures > 200, `${events} events, ${failures} failures`);
});

test('simulated traffic: every event takes the field decoder and agrees with protobufjs', () => {
  const reference = new EventDecoder(schema, ALL_FIELDS, 'protobufjs');
  const full = new EventDecoder(schema);
  const model = new ClientModel({ clients: 200, seed: 3 });
  const encoder = new FrameEncoder();
  const seen = new Set<string>();
  let n = 0;
  while (n < 5000) {
    model.step((e) => {
      const f = encoder.encodeFrame(e);
      const a = reference.decode(f, 4, f.length, 0)!;
      const b = full.decode(f, 4, f.length, 0)!;
      compare(a, b, fieldsOf(a), 'full');
      seen.add(a.hook);
      n++;
    });
  }
  assert.ok(seen.size >= 10, [...seen].join());
  assert.equal(HOOKS.length, 13);
});

test('fence: the protobufjs Reader patches (event-decoder.ts) still take effect on the fallback path', () => {
  // protobufjs decodes what the field decoder leaves to it (odd bytes). Its strict UTF-8 reader
  // and LongBits int64 are replaced on our Reader instance through private names; a protobufjs
  // release that renames them would silently undo that: this test then fails.
  const reference = new EventDecoder(schema, ALL_FIELDS, 'protobufjs');
  const frame = new FrameEncoder().encodeFrame({ hook: 'on_client_wakeup', timestamp: { seconds: 1_764_133_200, nanos: 5 }, clientId: 'ZQZQ', mountpoint: '', sessionId: '' });
  Buffer.from([0xc3, 0x28, 0xff, 0xfe]).copy(frame, frame.indexOf('ZQZQ', 4, 'latin1'));
  const e = reference.decode(frame, 4, frame.length, 0);
  assert.ok(e, reference.failureDetail);
  assert.equal(e.clientId, Buffer.from([0xc3, 0x28, 0xff, 0xfe]).toString('utf8'));
  assert.equal(typeof e.timeSec, 'number');
  assert.equal(e.timeSec, 1_764_133_200);
});

test('reused events (the metrics path): the same object per hook, every field as a fresh decode gives it, nothing left from the event before', () => {
  const metricsOnly = selectFields({ topicGroups: true, fullHooks: ['on_subscribe'] });
  const fresh = new EventDecoder(schema, metricsOnly);
  const reused = new EventDecoder(schema, metricsOnly, 'fields', { reuseEvents: true });
  const fuzzer = new FrameFuzzer(29);
  const seen = new Map<number, SidecarEvent>();
  const byHook = new Set<string>();
  const returned = new WeakSet<object>();
  let events = 0;
  for (let i = 0; i < 4000; i++) {
    // Fuzzed frames, some with fields absent that the event before had (timestamp, ACL,
    // truncated lists): a field not put back to its default would show here.
    const f = fuzzer.nextFramed();
    const a = fresh.decode(f, 4, f.length, 1_700_000_000_000);
    const b = reused.decode(f, 4, f.length, 1_700_000_000_000);
    if (a === null) {
      assert.equal(b, null);
      assert.equal(reused.failure, fresh.failure);
      continue;
    }
    assert.ok(b);
    events++;
    const sel = metricsOnly[a.hook];
    compare(a, b, sel === 'all' ? fieldsOf(a) : [...sel, ...EXTRAS], 'reused');
    if (sel === 'all') {
      // A hook read in full (a log record, the printer) gets a new object every time.
      assert.ok(!returned.has(b), `${b.hook}: a new object`);
      returned.add(b);
    } else if (seen.get(b.hookIndex) === b) {
      // (Frames the field decoder leaves to protobufjs come out as new objects in between.)
      byHook.add(b.hook);
    }
    seen.set(b.hookIndex, b);
  }
  assert.ok(events > 1000, `${events} events`);
  assert.ok(byHook.size >= 10, `reused for ${[...byHook].join(', ')}`);
});
