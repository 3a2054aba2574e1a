/**
 * Log records written straight to OTLP protobuf bytes (the http/protobuf path) against record
 * objects serialized afterwards (the path of the other exporters): for the sample events and
 * fuzzed ones, with and without attribute limits, both decode to the same records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LogSink, type LogSinkOptions } from '../../src/sinks/log-sink.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { LogRecordEncoder, serializeEncodedLogRecords } from '../../src/telemetry/otlp/log-record-encoder.js';
import { serializeLogRecords } from '../helpers/otlp-log-object-serializer.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { FrameFuzzer } from '../helpers/frame-fuzzer.js';
import { decodeLogsProtobuf } from '../helpers/otlp-receiver.js';
import type { SidecarEvent } from '../../src/events/event-types.js';
import { fakeHost } from '../helpers/fake-host.js';

const resource = resourceFromAttributes({ 'service.name': 'svc', 'service.instance.id': 'i-1' });
const scope = { name: 'vmq-otel-sidecar', version: '0.1.0' };

function bothWays(events: SidecarEvent[], options: Partial<LogSinkOptions>): void {
  const base: LogSinkOptions = { ratios: parseLogHooks('all'), tracedMessages: true, traceContextField: 'traceparent', payloadMaxBytes: 0, ...options };
  const objects: ReadableLogRecord[] = [];
  const handles: number[] = [];
  const encoder = new LogRecordEncoder();
  const objectSink = new LogSink(fakeHost({ logOutput: (r) => objects.push(r), resource, scope }), base);
  const wireSink = new LogSink(fakeHost({ logOutput: { encoding: 'otlp-protobuf', encoder, add: (h) => handles.push(h) }, resource, scope }), base);
  for (const e of events) {
    objectSink.consume(e, 1_764_133_200_123.5);
    wireSink.consume(e, 1_764_133_200_123.5);
  }
  assert.equal(handles.length, objects.length);
  assert.equal(wireSink.emitted, objectSink.emitted);
  const fromObjects = decodeLogsProtobuf(serializeLogRecords(objects));
  const fromWire = decodeLogsProtobuf(serializeEncodedLogRecords(handles, encoder, resource, scope));
  assert.equal(fromWire.length, events.length);
  for (let i = 0; i < fromWire.length; i++) assert.deepEqual(fromWire[i], fromObjects[i], `record ${i} (${events[i]!.hook})`);
}

test('every sample event: the wire record decodes to the object record, every attribute option', () => {
  const decoder = new EventDecoder();
  const enc = new FrameEncoder();
  const events = Object.values(SAMPLE_EVENTS).map((s) => {
    const f = enc.encodeFrame(s);
    return decoder.decode(f, 4, f.length, 0)!;
  });
  bothWays(events, {});
  bothWays(events, { payloadMaxBytes: 16, userProperties: '*' });
  bothWays(events, { limits: { attributeCountLimit: 3, attributeValueLengthLimit: 4 }, userProperties: '*', payloadMaxBytes: 100 });
  bothWays(events, { redact: { fields: ['client_id', 'username', 'peer'], mode: 'hash', key: 'k' } as LogSinkOptions['redact'] });
});

test('fuzzed events: the wire record decodes to the object record', () => {
  const decoder = new EventDecoder();
  const fuzzer = new FrameFuzzer(7);
  const events: SidecarEvent[] = [];
  while (events.length < 1500) {
    const f = fuzzer.nextFramed();
    const e = decoder.decode(f, 4, f.length, 1_700_000_000_000);
    if (e !== null) events.push(e);
  }
  bothWays(events, { payloadMaxBytes: 64, userProperties: '*' });
  bothWays(events, { limits: { attributeCountLimit: 6, attributeValueLengthLimit: 20 } });
});

test('slabs are reused once their records are released, and never while a record in them is queued', () => {
  const decoder = new EventDecoder();
  const enc = new FrameEncoder();
  const samples = Object.values(SAMPLE_EVENTS).map((s) => {
    const f = enc.encodeFrame(s);
    return decoder.decode(f, 4, f.length, 0)!;
  });
  const out: number[] = [];
  const encoder = new LogRecordEncoder();
  const s = new LogSink(fakeHost({ logOutput: { encoding: 'otlp-protobuf', encoder, add: (h) => out.push(h) }, resource, scope }), {
    ratios: parseLogHooks('all'),
    tracedMessages: false,
    traceContextField: 'traceparent',
    payloadMaxBytes: 0,
  });
  const write = (n: number) => {
    for (let i = 0; i < n; i++) s.consume(samples[i % samples.length]!, 1_764_133_200_000 + i);
  };
  write(6000);
  const first = out.splice(0, 3000);
  const kept = out.splice(0);
  const snapshot = kept.map((h) => Buffer.from(encoder.bytes(h)));
  const released = new Set(first.map((h) => encoder.bytes(h).buffer));
  for (const h of first) encoder.release(h);
  for (const h of first) encoder.release(h); // twice: no effect
  assert.equal(encoder.live, 3000);
  write(6000);
  assert.ok(out.some((h) => released.has(encoder.bytes(h).buffer)), 'a released slab was reused');
  kept.forEach((h, i) => assert.ok(encoder.bytes(h).equals(snapshot[i]!), `queued record ${i} unchanged`));
  // Every record written into a reused slab decodes.
  assert.equal(decodeLogsProtobuf(serializeEncodedLogRecords(out, encoder, resource, scope)).length, 6000);
  for (const h of [...kept, ...out]) encoder.release(h);
  assert.equal(encoder.live, 0);
});
