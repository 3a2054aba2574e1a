/**
 * End to end: frames over TCP -> sidecar -> OTLP traces -> a receiver decoding the real wire
 * format (HTTP protobuf and JSON, gRPC). The broker hop of a traced message as spans in the
 * publisher's trace: one receipt span, one delivery span per subscriber, with the durations
 * the broker times give, whatever order the events arrive in and whichever sidecar gets them.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { OtlpGrpcReceiver } from '../helpers/otlp-grpc-receiver.js';
import { connect, otlpOtel, startTestSidecar, testOtel, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { deliverySpanId, receiptSpanId } from '../../src/traces/span-ids.js';
import { SPAN_DOCS } from '../../scripts/span-catalog.js';

const encoder = new FrameEncoder();
const T = '5b8efff798038103d269b633813fc60c';
const P = 'eee19b7ec3c1b174';
const UNSAMPLED_T = '0af7651916cd43dd8448eb211c80319c';
const BASE_SEC = 1764133200;
const TOPIC = 'devices/7/t';

function at(ms: number) {
  return { seconds: BASE_SEC + Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 + 17 };
}

function payloadOf(traceId: string, spanId: string, flags: string, extra = ''): Buffer {
  return Buffer.from(`{"temp":21.5${extra},"traceparent":"00-${traceId}-${spanId}-${flags}"}`);
}

function publish(clientId: string, ms: number, payload: Buffer, qos = 0): Buffer {
  return encoder.encodeFrame({ hook: 'on_publish', timestamp: at(ms), clientId, mountpoint: '', username: 'u', topic: TOPIC, qos, payload, retain: false, sessionId: `s-${clientId}` });
}

function deliver(clientId: string, ms: number, payload: Buffer, qos = 0): Buffer {
  return encoder.encodeFrame({ hook: 'on_deliver', timestamp: at(ms), clientId, mountpoint: '', username: '', topic: TOPIC, qos, payload, isRetain: false, persisted: false, sessionId: `s-${clientId}` });
}

function complete(clientId: string, ms: number, payload: Buffer, qos = 1): Buffer {
  return encoder.encodeFrame({ hook: 'on_delivery_complete', timestamp: at(ms), clientId, mountpoint: '', username: '', topic: TOPIC, qos, payload, isRetain: false, persisted: false, sessionId: `s-${clientId}` });
}

/** The issue's scenario: sub2's deliver before the publish, then an unsampled message. */
function scenario(): Buffer {
  const traced = payloadOf(T, P, '01');
  const unsampled = payloadOf(UNSAMPLED_T, 'b7ad6b7169203331', '00');
  return Buffer.concat([
    deliver('sub2', 400, traced),
    publish('pub1', 0, traced),
    deliver('sub1', 250, traced),
    publish('pub1', 1000, unsampled),
    deliver('sub1', 1100, unsampled),
  ]);
}

function durationMs(s: ReceivedSpan): number {
  return Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6;
}

/** What the scenario must show, whatever the protocol. */
function checkScenario(spans: ReceivedSpan[]): void {
  const receipts = spans.filter((s) => s.parentSpanId === P);
  assert.equal(receipts.length, 1, 'exactly one span whose parent is the publisher span');
  const receipt = receipts[0]!;
  assert.equal(receipt.traceId, T);
  assert.equal(receipt.kind, 5, 'CONSUMER');
  assert.equal(receipt.name, 'receive');
  assert.equal(receipt.attributes['messaging.system'], 'mqtt');
  assert.equal(receipt.attributes['messaging.operation.type'], 'receive');
  assert.equal(receipt.attributes['messaging.destination.name'], TOPIC);
  assert.equal(receipt.attributes['messaging.client.id'], 'pub1');
  assert.equal(receipt.attributes['mqtt.qos'], 0);
  assert.equal(receipt.attributes['messaging.message.body.size'], payloadOf(T, P, '01').length);
  assert.equal(receipt.startTimeUnixNano, BigInt(BASE_SEC) * 1_000_000_000n + 17n, 'at the broker time of on_publish');
  assert.equal(receipt.resource['service.name'], 'vernemq');

  const deliveries = spans.filter((s) => s.parentSpanId === receipt.spanId);
  assert.deepEqual(deliveries.map((d) => d.attributes['messaging.client.id']).sort(), ['sub1', 'sub2']);
  for (const d of deliveries) {
    assert.equal(d.traceId, T);
    assert.equal(d.kind, 4, 'PRODUCER');
    assert.equal(d.attributes['messaging.operation.type'], 'send');
    assert.equal(d.attributes['mqtt.subscription.qos'], 0);
    assert.equal(d.attributes['vmq_sidecar.receipt_time_known'], true);
    assert.equal(d.startTimeUnixNano, receipt.startTimeUnixNano, 'starts at the broker receipt');
    // What a subscriber can derive from the message and its own client id (demo/index.mjs does).
    assert.equal(d.spanId, deliverySpanId(receipt.spanId, String(d.attributes['messaging.client.id'])));
    const want = d.attributes['messaging.client.id'] === 'sub1' ? 250 : 400;
    assert.ok(Math.abs(durationMs(d) - want) <= 5, `${String(d.attributes['messaging.client.id'])}: ${durationMs(d)} ms`);
  }
  assert.equal(spans.filter((s) => s.traceId === UNSAMPLED_T).length, 0, 'no span of the unsampled trace');
  assert.equal(spans.length, 3);
  // docs/telemetry.md lists every attribute each span carries.
  for (const s of spans) {
    const doc = SPAN_DOCS.find((d) => d.span === (s === receipt ? 'receipt' : 'delivery'))!;
    for (const key of Object.keys(s.attributes)) assert.ok(doc.attributes.some((a) => a.key === key), `${doc.span} span attribute ${key} is not in src/traces/span-catalog.ts`);
  }
}

const SPAN_ENV = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' };

for (const protocol of ['http/json', 'http/protobuf'] as const) {
  describe(`spans over OTLP ${protocol}`, () => {
    const receiver = new OtlpReceiver();
    let sidecar: SidecarFixture;

    before(async () => {
      const port = await receiver.start();
      sidecar = await startTestSidecar({ logLevel: 'warn' }, otlpOtel(`http://127.0.0.1:${port}`, { ...SPAN_ENV, OTEL_EXPORTER_OTLP_PROTOCOL: protocol }));
    });
    after(async () => {
      await sidecar.stop();
      await receiver.stop();
    });

    test('one receipt span under the publisher span, one delivery span per subscriber, none for an unsampled trace', async () => {
      const socket = await connect(sidecar.port);
      await write(socket, scenario());
      // The unsampled message's delivery needs no hold: once both deliveries are exported, all is.
      const spans = await eventually(() => {
        const s = receiver.spans;
        assert.ok(s.length >= 3, `${s.length} spans`);
        return s;
      });
      checkScenario(spans);
      assert.ok(receiver.exports.filter((e) => e.spans).every((e) => e.contentType.includes(protocol === 'http/json' ? 'json' : 'protobuf')));
      // The duration histogram: both deliveries, and the unsampled one (its receipt is known too).
      const text = await sidecar.telemetry.prometheusText();
      const count = text.split('\n').find((l) => l.startsWith('mqtt_message_delivery_duration_seconds_count'));
      assert.match(count ?? '', / 3$/);
      socket.destroy();
    });
  });
}

describe('spans over OTLP grpc', () => {
  const receiver = new OtlpGrpcReceiver();
  let sidecar: SidecarFixture;

  before(async () => {
    const port = await receiver.start();
    sidecar = await startTestSidecar(
      { logLevel: 'warn' },
      testOtel({ ...SPAN_ENV, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }),
    );
  });
  after(async () => {
    await sidecar.stop();
    await receiver.stop();
  });

  test('the same spans', async () => {
    const socket = await connect(sidecar.port);
    await write(socket, scenario());
    const spans = await eventually(() => {
      assert.ok(receiver.spans.length >= 3, `${receiver.spans.length} spans`);
      return receiver.spans;
    });
    checkScenario(spans);
    socket.destroy();
  });
});

describe('two sidecars, no shared state', () => {
  const receiver = new OtlpReceiver();
  let a: SidecarFixture;
  let b: SidecarFixture;

  before(async () => {
    const port = await receiver.start();
    const otel = otlpOtel(`http://127.0.0.1:${port}`, { ...SPAN_ENV, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    a = await startTestSidecar({ logLevel: 'warn' }, otel);
    b = await startTestSidecar({ logLevel: 'warn', traceReorderWindowMs: 100 }, otel);
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await receiver.stop();
  });

  test("a delivery seen by another sidecar names the receipt span the first one exported; its span is an instant at the delivery", async () => {
    const traced = payloadOf(T, P, '01');
    const sa = await connect(a.port);
    const sb = await connect(b.port);
    await write(sa, publish('pub1', 0, traced));
    await write(sb, deliver('sub1', 250, traced));
    const [receipt, delivery] = await eventually(() => {
      const r = receiver.spans.find((s) => s.parentSpanId === P);
      const d = receiver.spans.find((s) => s.attributes['messaging.client.id'] === 'sub1');
      assert.ok(r && d);
      return [r, d] as const;
    });
    assert.equal(delivery.parentSpanId, receipt.spanId);
    assert.equal(delivery.traceId, T);
    assert.equal(delivery.attributes['vmq_sidecar.receipt_time_known'], false);
    assert.equal(delivery.startTimeUnixNano, delivery.endTimeUnixNano);
    assert.equal(delivery.endTimeUnixNano, BigInt(BASE_SEC) * 1_000_000_000n + 250_000_017n);
    // Both sidecars derive the id from the trace id, the publisher's span id, the topic and the payload.
    assert.equal(receipt.spanId, receiptSpanId(T, P, TOPIC, traced));
    sa.destroy();
    sb.destroy();
  });

  test('two messages of one application span to one topic get different receipt spans (the payload digest)', async () => {
    const s = await connect(a.port);
    const p1 = payloadOf(T, 'aaaaaaaaaaaaaaaa', '01', ',"n":1');
    const p2 = payloadOf(T, 'aaaaaaaaaaaaaaaa', '01', ',"n":2');
    await write(s, Buffer.concat([publish('pub1', 10, p1), publish('pub1', 11, p2)]));
    const receipts = await eventually(() => {
      const r = receiver.spans.filter((x) => x.parentSpanId === 'aaaaaaaaaaaaaaaa');
      assert.equal(r.length, 2);
      return r;
    });
    assert.notEqual(receipts[0]!.spanId, receipts[1]!.spanId);
    s.destroy();
  });
});

describe('QoS 1: the completion on the delivery span', () => {
  const receiver = new OtlpReceiver();
  let sidecar: SidecarFixture;

  before(async () => {
    const port = await receiver.start();
    sidecar = await startTestSidecar({ logLevel: 'warn', traceCompletionWaitMs: 300 }, otlpOtel(`http://127.0.0.1:${port}`, { ...SPAN_ENV, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }));
  });
  after(async () => {
    await sidecar.stop();
    await receiver.stop();
  });

  test('a completion (also one that arrives before its delivery) becomes an event; a missing one is said', async () => {
    const s = await connect(sidecar.port);
    const m = payloadOf(T, '1111111111111111', '01');
    await write(
      s,
      Buffer.concat([
        publish('pub1', 0, m, 1),
        deliver('sub1', 20, m, 1),
        complete('sub1', 35, m),
        // sub2's completion overtakes its delivery; sub3 never completes.
        complete('sub2', 60, m),
        deliver('sub2', 40, m, 2),
        deliver('sub3', 50, m, 1),
      ]),
    );
    const deliveries = await eventually(() => {
      const d = receiver.spans.filter((x) => x.kind === 4 && x.traceId === T);
      assert.equal(d.length, 3);
      return d;
    });
    const by = (id: string) => deliveries.find((d) => d.attributes['messaging.client.id'] === id)!;
    for (const id of ['sub1', 'sub2']) {
      assert.equal(by(id).attributes['mqtt.delivery.completed'], true, id);
      assert.equal(by(id).events.length, 1);
      assert.equal(by(id).events[0]!.name, 'vernemq.on_delivery_complete');
      assert.equal(by(id).events[0]!.attributes['mqtt.qos'], 1);
    }
    assert.equal(by('sub1').events[0]!.timeUnixNano, BigInt(BASE_SEC) * 1_000_000_000n + 35_000_017n);
    assert.equal(by('sub3').attributes['mqtt.delivery.completed'], false);
    const doc = SPAN_DOCS.find((d) => d.span === 'delivery')!;
    for (const d of deliveries) for (const key of Object.keys(d.attributes)) assert.ok(doc.attributes.some((a) => a.key === key), key);
    assert.equal(by('sub3').events.length, 0);
    s.destroy();
  });
});

describe('spans are off unless asked for', () => {
  test('an OTLP endpoint for metrics and logs only, or OTEL_TRACES_EXPORTER=none, exports no span', async () => {
    const receiver = new OtlpReceiver();
    const port = await receiver.start();
    const sidecar = await startTestSidecar(
      { logLevel: 'warn' },
      otlpOtel(`http://127.0.0.1:${port}`, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}/v1/metrics`, OTEL_TRACES_EXPORTER: 'none' }),
    );
    try {
      assert.equal(sidecar.telemetry.spanQueue, null);
      const s = await connect(sidecar.port);
      await write(s, scenario());
      await eventually(() => assert.ok(sidecar.stats.eventsTotal >= 5));
      s.destroy();
    } finally {
      await sidecar.stop();
      await receiver.stop();
    }
    assert.equal(receiver.spans.length, 0);
  });
});

describe('the span export queue: bounded, every dropped span counted', () => {
  test('a collector that is down: spans past OTEL_BSP_MAX_QUEUE_SIZE are dropped and counted as queue_full; one refusing for good: rejected', async () => {
    const receiver = new OtlpReceiver();
    const port = await receiver.start();
    receiver.failWith = 503;
    const sidecar = await startTestSidecar(
      { logLevel: 'error' },
      otlpOtel(`http://127.0.0.1:${port}`, { ...SPAN_ENV, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5' }),
    );
    try {
      const s = await connect(sidecar.port);
      const frames: Buffer[] = [];
      for (let i = 0; i < 60; i++) frames.push(publish('pub1', i, payloadOf(T, 'cccccccccccccccc', '01', `,"n":${i}`)));
      await write(s, Buffer.concat(frames));
      const q = sidecar.telemetry.spanQueue!;
      await eventually(() => assert.equal(q.pending + q.droppedTotal + q.exported, 60));
      assert.ok(q.pending <= 10 + 5 * 2, `${q.pending} pending`);
      assert.ok(q.dropped.queue_full >= 40, `${q.dropped.queue_full}`);
      const text = await sidecar.telemetry.prometheusText();
      const line = text.split('\n').find((l) => l.startsWith('otel_sdk_processor_span_processed_total') && l.includes('error_type="queue_full"'));
      assert.ok(line?.endsWith(` ${q.dropped.queue_full}`), line);
      assert.match(text, /otel_sdk_processor_span_queue_capacity\{[^}]*otel_component_type="batching_span_processor"[^}]*\} 10/);

      // Now every batch is refused for good (HTTP 400): bisected down to single spans, then counted as rejected.
      receiver.failWith = 400;
      const more: Buffer[] = [];
      for (let i = 0; i < 4; i++) more.push(publish('pub1', 100 + i, payloadOf(T, 'dddddddddddddddd', '01', `,"n":${i}`)));
      await write(s, Buffer.concat(more));
      await eventually(() => assert.ok(q.dropped.rejected >= 4, `${q.dropped.rejected}`), 15_000);
      const after = await sidecar.telemetry.prometheusText();
      assert.match(after, /otel_sdk_exporter_span_exported_total\{[^}]*error_type="rejected"[^}]*\} [1-9]/);
      s.destroy();
    } finally {
      await sidecar.stop();
      await receiver.stop();
    }
  });
});

test('with --redact client_id and no key, a client has the same hash on its spans and its log records', async () => {
  const receiver = new OtlpReceiver();
  const port = await receiver.start();
  const sidecar = await startTestSidecar(
    { logLevel: 'warn', redact: ['client_id'], redactMode: 'hash', redactKey: undefined, logTracedMessages: true },
    otlpOtel(`http://127.0.0.1:${port}`, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
  );
  try {
    const s = await connect(sidecar.port);
    await write(s, publish('pub1', 0, payloadOf(T, 'eeeeeeeeeeeeeeee', '01')));
    const [span, record] = await eventually(() => {
      const sp = receiver.spans.find((x) => x.parentSpanId === 'eeeeeeeeeeeeeeee');
      const r = receiver.logs.find((l) => l.eventName === 'vernemq.on_publish');
      assert.ok(sp && r);
      return [sp, r] as const;
    });
    assert.match(String(span.attributes['messaging.client.id']), /^h:/);
    assert.equal(span.attributes['messaging.client.id'], record.attributes['messaging.client.id']);
    s.destroy();
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});
