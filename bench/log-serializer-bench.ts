/**
 * OTLP/protobuf encoding of log records: our serializer against the SDK's, on the same records
 * (one per simulator event, every hook logged), alternating in one process so that machine
 * noise hits both alike. Prints the median µs per record of each and their ratio.
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
import { AttributeFolding } from '../src/metrics/attribute-folding.js';
import { serializeLogRecords } from '../src/telemetry/log-protobuf-serializer.js';

const model = new ClientModel({ clients: 10_000, seed: 1 });
const encoder = new FrameEncoder();
const frames: Buffer[] = [];
while (frames.length < 50_000) model.step((e) => frames.push(encoder.encodeFrame(e)));
const decoder = new EventDecoder();
const records: ReadableLogRecord[] = [];
const signals = { logOutput: (r: ReadableLogRecord) => records.push(r), spanOutput: null, resource: resourceFromAttributes({ 'service.name': 'bench' }), scope: { name: 'bench', version: '1' } };
const sink = new LogSink({ signals, attributes: new AttributeFolding({ maxMountpoints: 100, clientGroups: [] }) }, {
  ratios: parseLogHooks('all'),
  tracedMessages: false,
  traceContextField: 'traceparent',
  payloadMaxBytes: 0,
});
let t0 = performance.now();
for (const f of frames) sink.consume(decoder.decode(f, 4, f.length, Date.now())!, Date.now());
const buildUs = ((performance.now() - t0) * 1000) / records.length;
const batches: ReadableLogRecord[][] = [];
for (let i = 0; i < records.length; i += 4096) batches.push(records.slice(i, i + 4096));

const times: Record<string, number[]> = { ours: [], sdk: [] };
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
const median = (a: number[]) => a.slice(2).sort((x, y) => x - y)[Math.floor((a.length - 2) / 2)]!;
console.log(`${records.length} records, ${(bytes / records.length).toFixed(0)} B each encoded; building them from events: ${buildUs.toFixed(2)} µs/record (first pass)`);
console.log(`ours ${median(times.ours!).toFixed(2)} µs/record, SDK ${median(times.sdk!).toFixed(2)} µs/record, ratio ${(median(times.ours!) / median(times.sdk!)).toFixed(2)}`);
