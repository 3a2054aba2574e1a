/**
 * The central deployment, exact across rollouts (issue 25): three replicas in --gauge-mode
 * deltas take the simulator's gRPC calls (connections spread over them) and export over OTLP
 * with delta temporality; one replica is restarted between two stretches of traffic, then all
 * three in turn. The gateway Collector's deltatocumulative processor is played by the test on
 * the OTLP points it received: per stream (resource + metric + attributes) it adds each delta
 * point whose time is after the stream's last one and whose start is not before the stream's
 * start, and drops the others, as the processor does. Afterwards the sum over the streams of
 * mqtt.client.connected equals the simulator's truth, and so does every counter compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OtlpReceiver, type ReceivedPoint } from '../helpers/otlp-receiver.js';
import { otlpOtel, startTestSidecar, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { ClientModel, type SimEvent } from '../../src/simulator/client-model.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { GroundTruth } from '../../src/simulator/ground-truth.js';
import { GrpcSender } from '../../src/simulator/grpc-sender.js';

interface Stream {
  start: bigint;
  last: bigint;
  value: number;
}

/** deltatocumulative's accumulation of delta sums, per stream; returns the streams and the points it dropped. */
function accumulate(points: ReceivedPoint[], metric: string): { streams: Map<string, Stream & { attributes: ReceivedPoint['attributes'] }>; dropped: number } {
  const streams = new Map<string, Stream & { attributes: ReceivedPoint['attributes'] }>();
  let dropped = 0;
  for (const p of points) {
    if (p.metric !== metric) continue;
    assert.equal(p.temporality, 1, `${metric} is exported as deltas`);
    const key = JSON.stringify([p.resource['service.instance.id'], p.attributes]);
    const s = streams.get(key);
    if (s === undefined) streams.set(key, { start: p.startTimeUnixNano, last: p.timeUnixNano, value: p.value, attributes: p.attributes });
    else if (p.startTimeUnixNano < s.start || p.timeUnixNano <= s.last) dropped++;
    else {
      s.value += p.value;
      s.last = p.timeUnixNano;
    }
  }
  return { streams, dropped };
}

function sumWhere(streams: Map<string, Stream & { attributes: ReceivedPoint['attributes'] }>, where: Record<string, unknown>): number {
  let n = 0;
  for (const s of streams.values()) if (Object.entries(where).every(([k, v]) => s.attributes[k] === v)) n += s.value;
  return n;
}

test('three deltas-mode replicas, one restarted mid-way and then all three in turn: the accumulated connected sum and every counter equal the truth', async () => {
  const collector = new OtlpReceiver();
  const endpoint = `http://127.0.0.1:${await collector.start()}`;
  const startReplica = (slot: number) =>
    startTestSidecar(
      { logLevel: 'warn', gaugeMode: 'deltas', grpcListen: { host: '127.0.0.1', port: 0 } },
      otlpOtel(endpoint, {
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        // A StatefulSet's stable pod name: a restarted replica continues its slot's stream.
        OTEL_RESOURCE_ATTRIBUTES: `service.name=vmq-otel-sidecar-grpc,service.instance.id=vmq-otel-sidecar-grpc-${slot}`,
      }),
    );
  const replicas: SidecarFixture[] = await Promise.all([0, 1, 2].map(startReplica));
  const model = new ClientModel({ clients: 300, seed: 41 });
  const truth = new GroundTruth();
  const encoder = new FrameEncoder();
  let received = 0;

  /** A stretch of traffic: `n` events over 9 connections spread over the replicas; every call must be answered OK. */
  const traffic = async (n: number) => {
    const sender = new GrpcSender({
      target: replicas.map((r) => ({ host: '127.0.0.1', port: r.grpcAddress!.port })),
      connections: 9,
      workers: 30,
      timeoutMs: 10_000,
      userType: 'default',
      maxQueue: Infinity,
    });
    await sender.ready();
    const goal = truth.total + n;
    const emit = (e: SimEvent) => {
      if (truth.total >= goal) return;
      sender.send(encoder.encodeFrame(e).subarray(4));
      truth.record(e);
    };
    while (truth.total < goal) {
      model.step(emit);
      if (sender.pending > 200) await sender.waitBelow(100);
    }
    await sender.waitBelow(0);
    sender.close();
    assert.equal(sender.outcome.ok, n, JSON.stringify(sender.outcome.errors));
    received += n;
  };
  const restart = async (slot: number) => {
    await replicas[slot]!.stop();
    replicas[slot] = await startReplica(slot);
  };

  try {
    await traffic(1500);
    await restart(1);
    await traffic(1500);
    for (const slot of [0, 1, 2]) {
      await restart(slot);
      await traffic(1000);
    }
  } finally {
    // A stop exports what is left: the deltas of the last stretch.
    await Promise.all(replicas.map((r) => r.stop()));
    await collector.stop();
  }

  const points = collector.exports.flatMap((e) => e.points ?? []);
  const connected = accumulate(points, 'mqtt.client.connected');
  assert.equal(connected.dropped, 0, 'no point out of order within a stream');
  // One stream per slot and mountpoint: restarts continued their slot's stream.
  const slots = new Set([...connected.streams.keys()].map((k) => (JSON.parse(k) as [string])[0]));
  assert.deepEqual([...slots].sort(), ['vmq-otel-sidecar-grpc-0', 'vmq-otel-sidecar-grpc-1', 'vmq-otel-sidecar-grpc-2']);
  const expected = model.gauges().connected;
  for (const [mp, n] of Object.entries(expected)) assert.equal(sumWhere(connected.streams, { 'mqtt.mountpoint': mp }), n, `connected on mountpoint ${JSON.stringify(mp)}`);
  assert.ok(Object.values(expected).reduce((a, b) => a + b, 0) > 50, 'clients connected at the end');

  // Every counter exact: events by hook, disconnects by reason, registrations.
  const events = accumulate(points, 'vmq_sidecar.event.received');
  assert.equal(events.dropped, 0);
  const sent = truth.toJSON(model.gauges()).sent;
  for (const [hook, n] of Object.entries(sent)) assert.equal(sumWhere(events.streams, { 'vernemq.hook': hook, 'vmq_sidecar.transport': 'grpc' }), n, hook);
  assert.equal(sumWhere(events.streams, {}), received);
  const disconnects = accumulate(points, 'mqtt.client.disconnects');
  const t = truth.toJSON(model.gauges());
  for (const [reason, n] of Object.entries(t.disconnects.offline)) {
    assert.equal(sumWhere(disconnects.streams, { 'mqtt.disconnect.reason': reason, 'mqtt.session.persistent': true }), n, `offline ${reason}`);
  }
  for (const [reason, n] of Object.entries(t.disconnects.gone)) {
    assert.equal(sumWhere(disconnects.streams, { 'mqtt.disconnect.reason': reason, 'mqtt.session.persistent': false }), n, `gone ${reason}`);
  }
  const registrations = accumulate(points, 'mqtt.client.registrations');
  assert.equal(sumWhere(registrations.streams, {}), sent.on_register ?? 0);
});
