/**
 * Spans of the broker hop: the SDK's way (a Tracer of @opentelemetry/sdk-trace with an id
 * generator handing out our derived ids, given start and end times, a span processor collecting
 * the ended spans, the OTLP transformer's serializer) against ours (the span sink's span objects,
 * our serializer, telemetry/otlp/span-encoder.ts), on the same spans: per traced message one
 * receipt span and two delivery spans with the span sink's attributes. Alternating rounds in one
 * process, so that machine noise hits both alike; prints the median spans/s and CPU µs per span
 * (process.cpuUsage, user + system) of each, protobuf and JSON, and the whole sink (decoded
 * events -> spans -> protobuf) for scale.
 *
 *   npm run bench:span-export [-- messages]
 */
import { context, trace, ROOT_CONTEXT, SpanKind, TraceFlags, type Attributes } from '@opentelemetry/api';
import { TracerProvider, type IdGenerator, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BrokerSpan, FLAG_HAS_IS_REMOTE, FLAG_PARENT_REMOTE, SPAN_KIND_CONSUMER, SPAN_KIND_PRODUCER } from '../src/traces/broker-span.js';
import { deliverySpanId, receiptSpanId } from '../src/traces/span-ids.js';
import { serializeSpansJson, serializeSpansProtobuf } from '../src/telemetry/otlp/span-encoder.js';
import { SpanSink } from '../src/sinks/span-sink.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { EventDecoder } from '../src/decoding/event-decoder.js';
import type { SidecarEvent } from '../src/events/event-types.js';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const BATCH = 512;
const BASE = 1764133200;
const resource = resourceFromAttributes({ 'service.name': 'vernemq', 'service.instance.id': 'node-1', 'host.name': 'bench' });
const scope = { name: 'vmq-otel-sidecar', version: '0.1.0' };

interface Message {
  traceId: string;
  parent: string;
  receipt: string;
  deliveries: { id: string; clientId: string; ms: number }[];
  topic: string;
  size: number;
}

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0').slice(-len);
const messages: Message[] = [];
for (let i = 0; i < MESSAGES; i++) {
  const traceId = hex(0x5b8e0000 + i, 8) + 'f798038103d269b633813fc6';
  const parent = hex(0xeee10000 + i, 16);
  const topic = `devices/${i % 1000}/telemetry`;
  const payload = Buffer.from(`{"temp":21.5,"n":${i},"traceparent":"00-${traceId}-${parent}-01"}`);
  const receipt = receiptSpanId(traceId, parent, topic, payload);
  const deliveries = [1, 2].map((k) => ({ id: deliverySpanId(receipt, `sub-${k}`), clientId: `sub-${k}`, ms: 50 * k }));
  messages.push({ traceId, parent, receipt, deliveries, topic, size: payload.length });
}
const SPANS = MESSAGES * 3;

function attrs(op: 'receive' | 'send', clientId: string, m: Message, qosKey: string): Record<string, string | number | boolean> {
  return {
    'messaging.system': 'mqtt',
    'messaging.operation.type': op,
    'messaging.operation.name': op === 'receive' ? 'receive' : 'deliver',
    'messaging.destination.name': m.topic,
    'messaging.destination.template': 'devices/+/telemetry',
    'messaging.client.id': clientId,
    'messaging.message.body.size': m.size,
    [qosKey]: 1,
    'mqtt.retain': false,
  };
}

// ---- ours: span objects as the sink builds them ----
function oursSpans(): BrokerSpan[] {
  const out: BrokerSpan[] = [];
  for (const m of messages) {
    out.push(new BrokerSpan(m.traceId, m.receipt, m.parent, '', 1 | FLAG_HAS_IS_REMOTE | FLAG_PARENT_REMOTE, 'receive devices/+/telemetry', SPAN_KIND_CONSUMER, BASE, 0, BASE, 0, attrs('receive', 'pub', m, 'mqtt.qos')));
    for (const d of m.deliveries) {
      const a = attrs('send', d.clientId, m, 'mqtt.subscription.qos');
      a['mqtt.persisted'] = false;
      a['vmq_sidecar.receipt_time_known'] = true;
      out.push(new BrokerSpan(m.traceId, d.id, m.receipt, '', 1 | FLAG_HAS_IS_REMOTE, 'deliver devices/+/telemetry', SPAN_KIND_PRODUCER, BASE, 0, BASE, d.ms * 1e6, a));
    }
  }
  return out;
}

// ---- the SDK: a Tracer with our ids and times ----
class GivenIds implements IdGenerator {
  next = '';
  generateTraceId(): string {
    return '00000000000000000000000000000001';
  }
  generateSpanId(): string {
    return this.next;
  }
}
const ids = new GivenIds();
let collected: ReadableSpan[] = [];
const collector: SpanProcessor = {
  onStart: () => {},
  onEnd: (s) => void collected.push(s),
  forceFlush: async () => {},
  shutdown: async () => {},
};
const provider = new TracerProvider({ resource, idGenerator: ids, spanProcessors: [collector] });
const tracer = provider.getTracer(scope.name, scope.version);

function sdkSpans(): ReadableSpan[] {
  collected = [];
  for (const m of messages) {
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: m.traceId, spanId: m.parent, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    ids.next = m.receipt;
    const r = tracer.startSpan('receive devices/+/telemetry', { kind: SpanKind.CONSUMER, startTime: [BASE, 0], attributes: attrs('receive', 'pub', m, 'mqtt.qos') as Attributes }, parent);
    r.end([BASE, 0]);
    const receiptCtx = trace.setSpan(context.active(), r);
    for (const d of m.deliveries) {
      ids.next = d.id;
      const a = attrs('send', d.clientId, m, 'mqtt.subscription.qos');
      a['mqtt.persisted'] = false;
      a['vmq_sidecar.receipt_time_known'] = true;
      const s = tracer.startSpan('deliver devices/+/telemetry', { kind: SpanKind.PRODUCER, startTime: [BASE, 0], attributes: a as Attributes }, receiptCtx);
      s.end([BASE, d.ms * 1e6]);
    }
  }
  return collected;
}

function batches<T>(all: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += BATCH) out.push(all.slice(i, i + BATCH));
  return out;
}

// ---- the whole sink: decoded events -> spans -> protobuf ----
const encoder = new FrameEncoder();
const decoder = new EventDecoder();
const frames: Buffer[] = [];
for (const [i, m] of messages.entries()) {
  const payload = Buffer.from(`{"temp":21.5,"n":${i},"traceparent":"00-${m.traceId}-${m.parent}-01"}`);
  const common = { mountpoint: '', topic: m.topic, payload, matchedAcl: { name: 'telemetry', pattern: 'devices/+/telemetry' } };
  frames.push(encoder.encodeFrame({ hook: 'on_publish', timestamp: { seconds: BASE, nanos: 0 }, clientId: 'pub', qos: 0, sessionId: 'sp', ...common }));
  for (const d of m.deliveries) frames.push(encoder.encodeFrame({ hook: 'on_deliver', timestamp: { seconds: BASE, nanos: d.ms * 1e6 }, clientId: d.clientId, qos: 0, sessionId: 's', ...common }));
}
const events: SidecarEvent[] = frames.map((f) => decoder.decode(f, 4, f.length, Date.now())!);

function sinkRun(): number {
  const out: BrokerSpan[] = [];
  const sink = new SpanSink((s) => out.push(s), { traceContextField: 'traceparent', reorderWindowMs: 1000, completionWaitMs: 2000, receiptRetentionMs: 30_000, maxEntries: 1e7, maxBytes: 4e9 });
  for (const e of events) sink.consume(e, 0);
  let bytes = 0;
  for (const b of batches(out)) bytes += serializeSpansProtobuf(b, resource, scope).length;
  void sink.shutdown();
  return bytes;
}

type Run = () => number;
const runs: Record<string, Run> = {
  'ours protobuf': () => batches(oursSpans()).reduce((n, b) => n + serializeSpansProtobuf(b, resource, scope).length, 0),
  'SDK protobuf': () => batches(sdkSpans()).reduce((n, b) => n + (ProtobufTraceSerializer.serializeRequest(b)?.length ?? 0), 0),
  'ours json': () => batches(oursSpans()).reduce((n, b) => n + serializeSpansJson(b, resource, scope).length, 0),
  'SDK json': () => batches(sdkSpans()).reduce((n, b) => n + (JsonTraceSerializer.serializeRequest(b)?.length ?? 0), 0),
  'sink + ours protobuf (from decoded events)': sinkRun,
};

const rate: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
const size: Record<string, number> = {};
for (let round = 0; round < 7; round++) {
  for (const [name, run] of Object.entries(runs)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const bytes = run();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    (rate[name] ??= []).push(SPANS / (wall / 1000));
    (cpu[name] ??= []).push((c.user + c.system) / SPANS);
    size[name] = bytes / SPANS;
  }
}
// The first two rounds warm the JIT up.
const median = (a: number[]) => a.slice(2).sort((x, y) => x - y)[Math.floor((a.length - 2) / 2)]!;
console.log(`${MESSAGES} messages, ${SPANS} spans (1 receipt + 2 deliveries each, 9-11 attributes), batches of ${BATCH}, median of ${7 - 2} rounds`);
for (const name of Object.keys(runs)) {
  console.log(`${name.padEnd(44)} ${Math.round(median(rate[name]!)).toLocaleString('en-US').padStart(10)} spans/s  ${median(cpu[name]!).toFixed(2).padStart(6)} µs CPU/span  ${size[name]!.toFixed(0)} B/span`);
}
for (const enc of ['protobuf', 'json']) {
  console.log(`ratio SDK / ours, ${enc}: ${(median(cpu[`SDK ${enc}`]!) / median(cpu[`ours ${enc}`]!)).toFixed(2)}x CPU per span`);
}
