/**
 * The span sink's state, driven with decoded events and a clock of its own: what waits, for how
 * long, what a delivery gets when its publish is late, long gone or elsewhere, and the bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanSink, type SpanSinkOptions } from '../../src/sinks/span-sink.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import type { SidecarEvent } from '../../src/events/event-types.js';
import type { BrokerSpan } from '../../src/traces/broker-span.js';
import { receiptSpanId } from '../../src/traces/span-ids.js';
import { parseTopicGroups } from '../../src/metrics/topic-grouper.js';

const encoder = new FrameEncoder();
const decoder = new EventDecoder();
const T = '5b8efff798038103d269b633813fc60c';
const BASE = 1764133200;

function decode(e: Record<string, unknown> & { hook: string }): SidecarEvent {
  const f = encoder.encodeFrame(e as never);
  return decoder.decode(f, 4, f.length, Date.now())!;
}

function payload(spanId: string, flags = '01', n = 0): Buffer {
  return Buffer.from(`{"n":${n},"traceparent":"00-${T}-${spanId}-${flags}"}`);
}

function ev(hook: 'on_publish' | 'on_deliver' | 'on_delivery_complete', clientId: string, ms: number, p: Buffer, extra: Record<string, unknown> = {}): SidecarEvent {
  const timestamp = { seconds: BASE + Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
  return decode({ hook, timestamp, clientId, mountpoint: '', topic: 'a/b', qos: 0, payload: p, sessionId: `s-${clientId}`, ...extra });
}

const DEFAULTS: SpanSinkOptions = {
  traceContextField: 'traceparent',
  reorderWindowMs: 1000,
  completionWaitMs: 2000,
  receiptRetentionMs: 30_000,
  maxEntries: 100_000,
  maxBytes: 32 * 1024 * 1024,
};

function sink(options: Partial<SpanSinkOptions> = {}) {
  let now = 1_000_000;
  const spans: BrokerSpan[] = [];
  const recorded: number[] = [];
  const s = new SpanSink((span) => spans.push(span), { ...DEFAULTS, durationSeries: () => ({ record: (v) => recorded.push(v) }), ...options }, () => now);
  return {
    s,
    spans,
    recorded,
    advance(ms: number) {
      now += ms;
      s.expire();
    },
  };
}

const ms = (span: BrokerSpan) => (span.endSec - span.startSec) * 1000 + (span.endNanos - span.startNanos) / 1e6;

test('a delivery waits for its publish for the reorder window, then leaves as an instant at the delivery', async () => {
  const { s, spans, recorded, advance } = sink();
  const p = payload('1111111111111111');
  s.consume(ev('on_deliver', 'sub1', 300, p), 0);
  advance(999);
  assert.equal(spans.length, 0, 'held');
  assert.equal(s.entries, 1);
  advance(2);
  assert.equal(spans.length, 1);
  assert.equal(spans[0]!.attributes['vmq_sidecar.receipt_time_known'], false);
  assert.equal(ms(spans[0]!), 0);
  assert.equal(spans[0]!.parentSpanId, receiptSpanId(T, '1111111111111111', 'a/b', p));
  assert.equal(s.receiptUnknown, 1);
  assert.deepEqual(recorded, [], 'no duration without a receipt time');
  // The publish after the window: its receipt span still comes, the delivery was not held twice.
  s.consume(ev('on_publish', 'pub', 0, p), 0);
  assert.equal(spans.length, 2);
  assert.equal(s.entries, 1, 'the receipt time, kept for deliveries still to come');
  await s.shutdown();
});

test('receipt times are kept for --trace-receipt-retention: later deliveries (offline, retained) get an instant span and no duration', async () => {
  const { s, spans, recorded, advance } = sink({ receiptRetentionMs: 5000 });
  const p = payload('2222222222222222');
  s.consume(ev('on_publish', 'pub', 0, p), 0);
  s.consume(ev('on_deliver', 'sub1', 4000, p), 0);
  assert.equal(ms(spans[1]!), 4000);
  assert.deepEqual(recorded, [4]);
  advance(5001);
  assert.equal(s.entries, 0, 'the receipt time is forgotten');
  // Delivered from the offline store much later: exported at once (no publish will come), without a receipt time.
  s.consume(ev('on_deliver', 'sub2', 60_000, p, { persisted: true }), 0);
  assert.equal(spans.length, 3);
  assert.equal(spans[2]!.attributes['vmq_sidecar.receipt_time_known'], false);
  assert.equal(spans[2]!.attributes['mqtt.persisted'], true);
  assert.equal(s.entries, 0);
  assert.deepEqual(recorded, [4]);
  await s.shutdown();
});

test('an unsampled message makes no span but its delivery duration counts', async () => {
  const { s, spans, recorded } = sink();
  const p = payload('3333333333333333', '00');
  s.consume(ev('on_deliver', 'sub1', 120, p), 0);
  s.consume(ev('on_publish', 'pub', 0, p), 0);
  assert.equal(spans.length, 0);
  assert.deepEqual(recorded, [0.12]);
  await s.shutdown();
});

test('payloads without trace context, and invalid traceparents, are ignored', async () => {
  const { s, spans } = sink();
  s.consume(ev('on_publish', 'pub', 0, Buffer.from('plain text')), 0);
  s.consume(ev('on_publish', 'pub', 0, Buffer.from(`{"traceparent":"00-${'0'.repeat(32)}-1111111111111111-01"}`)), 0);
  s.consume(ev('on_deliver', 'sub', 0, Buffer.from('{"temp":1}')), 0);
  assert.equal(spans.length, 0);
  assert.equal(s.entries, 0);
  await s.shutdown();
});

test('the state is bounded in entries: the oldest goes first, counted by kind, and no span is lost', async () => {
  const { s, spans, advance } = sink({ maxEntries: 100 });
  for (let i = 0; i < 1000; i++) s.consume(ev('on_deliver', `sub${i}`, i, payload('4444444444444444', '01', i)), 0);
  assert.ok(s.entries <= 100, `${s.entries}`);
  assert.equal(s.evicted.waiting_delivery, 900);
  assert.equal(spans.length, 900, 'evicted deliveries are exported without a receipt time');
  advance(1);
  for (let i = 0; i < 1000; i++) s.consume(ev('on_publish', 'pub', i, payload('5555555555555555', '01', i)), 0);
  assert.ok(s.entries <= 100);
  // The 100 older deliveries went first, then the oldest receipts.
  assert.equal(s.evicted.waiting_delivery, 1000);
  assert.equal(s.evicted.receipt, 900);
  await s.shutdown();
  assert.equal(spans.length, 1000 + 1000, 'every delivery and every receipt, once');
  assert.equal(s.entries, 0);
});

test('the state is bounded in bytes', async () => {
  const { s } = sink({ maxBytes: 64 * 1024 });
  const long = 'x'.repeat(2000);
  for (let i = 0; i < 500; i++) s.consume(ev('on_deliver', long + i, i, payload('6666666666666666', '01', i)), 0);
  assert.ok(s.heldBytes <= 64 * 1024, `${s.heldBytes}`);
  assert.ok(s.evicted.waiting_delivery > 400);
  await s.shutdown();
  assert.equal(s.heldBytes, 0);
});

test('a QoS 0 message to a QoS 1 subscription is not held for a completion that never comes', async () => {
  const { s, spans } = sink();
  const p = payload('7777777777777777');
  s.consume(ev('on_publish', 'pub', 0, p, { qos: 0 }), 0);
  s.consume(ev('on_deliver', 'sub', 5, p, { qos: 1 }), 0);
  assert.equal(spans.length, 2);
  assert.equal(spans[1]!.attributes['mqtt.delivery.completed'], undefined);
  await s.shutdown();
});

test('templates per the log records\' rules name the spans; --redact hashes the client ids', async () => {
  const { s, spans } = sink({ topicGroups: parseTopicGroups('devices/+/t=telemetry'), redact: { fields: ['client_id'], mode: 'hash', key: 'k'.repeat(16) } });
  const p = payload('8888888888888888');
  s.consume(decode({ hook: 'on_publish', timestamp: { seconds: BASE, nanos: 0 }, clientId: 'pub1', topic: 'devices/7/t', qos: 0, payload: p }), 0);
  assert.equal(spans[0]!.name, 'receive devices/+/t');
  assert.equal(spans[0]!.attributes['messaging.destination.template'], 'devices/+/t');
  assert.match(String(spans[0]!.attributes['messaging.client.id']), /^h:/);
  s.consume(decode({ hook: 'on_publish', timestamp: { seconds: BASE, nanos: 0 }, clientId: 'pub1', topic: 'x/y', qos: 0, payload: p, matchedAcl: { name: 'acl', pattern: 'x/+' } }), 0);
  assert.equal(spans[1]!.name, 'receive x/+');
  await s.shutdown();
});

test('shutdown exports what is held as it is', async () => {
  const { s, spans } = sink();
  const p = payload('9999999999999999');
  s.consume(ev('on_publish', 'pub', 0, p, { qos: 1 }), 0);
  s.consume(ev('on_deliver', 'sub', 5, p, { qos: 1 }), 0);
  s.consume(ev('on_deliver', 'other', 5, payload('aaaaaaaaaaaaaaaa')), 0);
  assert.equal(spans.length, 1);
  await s.shutdown();
  assert.equal(spans.length, 3);
  assert.equal(s.entries, 0);
});

test('a publish seen twice (a retry, or the same payload again under one span) makes one receipt span', async () => {
  const { s, spans } = sink();
  const p = payload('bbbbbbbbbbbbbbbb');
  s.consume(ev('on_publish', 'pub', 0, p), 0);
  s.consume(ev('on_publish', 'pub', 30, p), 0);
  s.consume(ev('on_deliver', 'sub', 50, p), 0);
  assert.equal(spans.filter((x) => x.kind === 5).length, 1);
  assert.equal(ms(spans.find((x) => x.kind === 4)!), 50, 'from the first receipt');
  await s.shutdown();
});

test('an MQTT 5 message (the companion) traced by its traceparent user property: receipt and delivery spans as for MQTT 3.1.1', async () => {
  const { s, spans, advance } = sink();
  const p = Buffer.from('{"n":1}');
  const props = { userProperties: { traceparent: `00-${T}-2222222222222222-01` } };
  s.consume(ev('on_publish', 'pub5', 0, p, { mqtt5: true, ...props }), 0);
  s.consume(ev('on_deliver', 'sub5', 120, p, { mqtt5: true, ...props }), 0);
  advance(2001);
  const receipt = spans.find((x) => x.parentSpanId === '2222222222222222');
  assert.ok(receipt, 'a receipt span under the publisher span of the user property');
  const delivery = spans.find((x) => x.parentSpanId === receipt.spanId);
  assert.ok(delivery, 'a delivery span under it');
  assert.equal(delivery.attributes['messaging.client.id'], 'sub5');
  assert.equal(ms(delivery), 120);
  // Unsampled in the user property: no span, whatever the payload says.
  const before = spans.length;
  s.consume(ev('on_publish', 'pub5', 200, payload('3333333333333333'), { mqtt5: true, userProperties: { traceparent: `00-${T}-4444444444444444-00` } }), 0);
  assert.equal(spans.length, before);
  await s.shutdown();
});

test('an MQTT 5 delivery at QoS 1/2 is exported at once: no on_delivery_complete ever comes for MQTT 5 sessions', async () => {
  const { s, spans } = sink();
  const p = Buffer.from('{"n":2}');
  const props = { userProperties: { traceparent: `00-${T}-5555555555555555-01` } };
  s.consume(ev('on_publish', 'pub5', 0, p, { mqtt5: true, qos: 1, ...props }), 0);
  s.consume(ev('on_deliver', 'sub5', 40, p, { mqtt5: true, qos: 2, ...props }), 0);
  const delivery = spans.find((x) => x.attributes['messaging.client.id'] === 'sub5');
  assert.ok(delivery, 'exported without waiting for a completion');
  assert.notEqual(delivery.attributes['mqtt.delivery.completed'], false, 'not claimed as never completed');
  assert.equal(s.entries, 1, 'only the receipt time is held');
  await s.shutdown();
});

test('a delivery takes its publish\'s template (the broker sends the ACL name without its pattern on on_deliver)', async () => {
  const { s, spans } = sink();
  const p = payload('6666666666666666');
  const acl = { name: 'demo-telemetry', pattern: 'demo/+/telemetry' };
  s.consume(ev('on_publish', 'pub', 0, p, { topic: 'demo/d1/telemetry', matchedAcl: acl }), 0);
  s.consume(ev('on_deliver', 'sub', 30, p, { topic: 'demo/d1/telemetry', matchedAcl: { name: 'demo-telemetry', pattern: '' } }), 0);
  const receipt = spans.find((x) => x.parentSpanId === '6666666666666666')!;
  const delivery = spans.find((x) => x.parentSpanId === receipt.spanId)!;
  assert.equal(receipt.name, 'receive demo/+/telemetry');
  assert.equal(delivery.name, 'deliver demo/+/telemetry');
  assert.equal(delivery.attributes['messaging.destination.template'], 'demo/+/telemetry');
  await s.shutdown();
});
