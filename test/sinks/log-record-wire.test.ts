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
import { serializeEncodedLogRecords, serializeLogRecords } from '../../src/telemetry/log-protobuf-serializer.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { FrameFuzzer } from '../helpers/frame-fuzzer.js';
import { decodeLogsProtobuf } from '../helpers/otlp-receiver.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

const resource = resourceFromAttributes({ 'service.name': 'svc', 'service.instance.id': 'i-1' });
const scope = { name: 'vmq-otel-sidecar', version: '0.1.0' };

function bothWays(events: SidecarEvent[], options: Partial<LogSinkOptions>): void {
  const base: LogSinkOptions = { ratios: parseLogHooks('all'), tracedMessages: true, traceContextField: 'traceparent', payloadMaxBytes: 0, ...options };
  const objects: ReadableLogRecord[] = [];
  const bytes: Uint8Array[] = [];
  const objectSink = new LogSink((r) => objects.push(r), resource, scope, base);
  const wireSink = new LogSink({ encoding: 'otlp-protobuf', add: (b) => bytes.push(b) }, resource, scope, base);
  for (const e of events) {
    objectSink.consume(e, 1_764_133_200_123.5);
    wireSink.consume(e, 1_764_133_200_123.5);
  }
  assert.equal(bytes.length, objects.length);
  assert.equal(wireSink.emitted, objectSink.emitted);
  const fromObjects = decodeLogsProtobuf(serializeLogRecords(objects));
  const fromWire = decodeLogsProtobuf(serializeEncodedLogRecords(bytes, resource, scope));
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
  const out: Uint8Array[] = [];
  let release: (r: Uint8Array) => void = () => {};
  const s = new LogSink(
    { encoding: 'otlp-protobuf', add: (b) => out.push(b), onRelease: (r) => (release = r) },
    resource,
    scope,
    { ratios: parseLogHooks('all'), tracedMessages: false, traceContextField: 'traceparent', payloadMaxBytes: 0 },
  );
  const write = (n: number) => {
    for (let i = 0; i < n; i++) s.consume(samples[i % samples.length]!, 1_764_133_200_000 + i);
  };
  write(6000);
  const first = out.splice(0, 3000);
  const kept = out.splice(0);
  const snapshot = kept.map((r) => Buffer.from(r));
  const released = new Set(first.map((r) => r.buffer));
  for (const r of first) release(r);
  write(6000);
  assert.ok(out.some((r) => released.has(r.buffer)), 'a released slab was reused');
  kept.forEach((r, i) => assert.ok(Buffer.from(r).equals(snapshot[i]!), `queued record ${i} unchanged`));
  // Every record written into a reused slab decodes.
  assert.equal(decodeLogsProtobuf(serializeEncodedLogRecords(out, resource, scope)).length, 6000);
});
