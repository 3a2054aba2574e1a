/**
 * OTLP/protobuf encoding of log records: ours against the SDK's, on the same records (one per
 * simulator event, every hook logged), alternating in one process so that machine noise hits
 * both alike. Prints the median µs per record of each and their ratio, twice:
 * - serializing record objects: our object serializer (test/helpers/otlp-log-object-serializer.ts,
 *   the tests' reference, written through the product's common OTLP pieces) against the SDK's;
 * - the product's http/protobuf path (the log sink writing each record straight into bytes with
 *   LogRecordEncoder, then the request around a batch) against building record objects and the
 *   SDK's serializer.
 *
 *   npm run bench:log-serializer
 */
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { ClientModel } from '../src/simulator/client-model.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { EventDecoder } from '../src/decoding/event-decoder.js';
import { LogSink } from '../src/sinks/log-sink.js';
import { parseLogHooks } from '../src/config/sidecar-config.js';
import { serializeLogRecords } from '../test/helpers/otlp-log-object-serializer.js';
import { LogRecordEncoder, serializeEncodedLogRecords } from '../src/telemetry/otlp/log-record-encoder.js';
import type { SidecarEvent } from '../src/events/event-types.js';
import { AttributeFolding } from '../src/metrics/attribute-folding.js';
import type { LogRecordOutput, WireLogOutput } from '../src/sinks/log-record-builder.js';

const model = new ClientModel({ clients: 10_000, seed: 1 });
const encoder = new FrameEncoder();
const frames: Buffer[] = [];
while (frames.length < 50_000) model.step((e) => frames.push(encoder.encodeFrame(e)));
const decoder = new EventDecoder();
const resource = resourceFromAttributes({ 'service.name': 'bench' });
const scope = { name: 'bench', version: '1' };
const sinkOptions = { ratios: parseLogHooks('all'), tracedMessages: false, traceContextField: 'traceparent', payloadMaxBytes: 0 };
const records: ReadableLogRecord[] = [];
const attributes = new AttributeFolding({ maxMountpoints: 100, clientGroups: [] });
/** A log sink writing to `logOutput`, as the host hands it one. */
const logSinkTo = (logOutput: LogRecordOutput | WireLogOutput) => new LogSink({ signals: { logOutput, spanOutput: null, resource, scope }, attributes }, sinkOptions);
const sink = logSinkTo((r) => records.push(r));
const events: SidecarEvent[] = [];
let t0 = performance.now();
for (const f of frames) {
  const e = decoder.decode(f, 4, f.length, Date.now())!;
  events.push(e);
  sink.consume(e, Date.now());
}
const buildUs = ((performance.now() - t0) * 1000) / records.length;

// The product's path: records written as bytes by the sink, requests of 4096 of them.
const recordEncoder = new LogRecordEncoder();
let handles: number[] = [];
const wireSink = logSinkTo({ encoding: 'otlp-protobuf', encoder: recordEncoder, add: (h) => handles.push(h) });
function wireRun(): number {
  handles = [];
  for (const e of events) wireSink.consume(e, Date.now());
  let n = 0;
  for (let i = 0; i < handles.length; i += 4096) n += serializeEncodedLogRecords(handles.slice(i, i + 4096), recordEncoder, resource, scope).length;
  for (const h of handles) recordEncoder.release(h);
  return n;
}
const objectSink = logSinkTo((r) => objectRecords.push(r));
let objectRecords: ReadableLogRecord[] = [];
function objectsRun(): number {
  objectRecords = [];
  for (const e of events) objectSink.consume(e, Date.now());
  let n = 0;
  for (let i = 0; i < objectRecords.length; i += 4096) n += ProtobufLogsSerializer.serializeRequest(objectRecords.slice(i, i + 4096))!.length;
  return n;
}
const batches: ReadableLogRecord[][] = [];
for (let i = 0; i < records.length; i += 4096) batches.push(records.slice(i, i + 4096));

const times: Record<string, number[]> = { ours: [], sdk: [], wire: [], objects: [] };
let bytes = 0;
for (let round = 0; round < 10; round++) {
  t0 = performance.now();
  bytes = 0;
  for (const b of batches) bytes += serializeLogRecords(b).length;
  times.ours!.push(((performance.now() - t0) * 1000) / records.length);
  t0 = performance.now();
  for (const b of batches) ProtobufLogsSerializer.serializeRequest(b);
  times.sdk!.push(((performance.now() - t0) * 1000) / records.length);
}
// Apart from the rounds above, so that the record objects built here do not load their
// collector's work onto them.
for (let round = 0; round < 10; round++) {
  t0 = performance.now();
  wireRun();
  times.wire!.push(((performance.now() - t0) * 1000) / records.length);
  t0 = performance.now();
  objectsRun();
  times.objects!.push(((performance.now() - t0) * 1000) / records.length);
}
const median = (a: number[]) => a.slice(2).sort((x, y) => x - y)[Math.floor((a.length - 2) / 2)]!;
console.log(`${records.length} records, ${(bytes / records.length).toFixed(0)} B each encoded; building them from events: ${buildUs.toFixed(2)} µs/record (first pass)`);
console.log(`ours ${median(times.ours!).toFixed(2)} µs/record, SDK ${median(times.sdk!).toFixed(2)} µs/record, ratio ${(median(times.ours!) / median(times.sdk!)).toFixed(2)}`);
console.log(
  `from events: wire (LogRecordEncoder + request) ${median(times.wire!).toFixed(2)} µs/record, objects + SDK serializer ${median(times.objects!).toFixed(2)} µs/record, ratio ${(median(times.wire!) / median(times.objects!)).toFixed(2)}`,
);
