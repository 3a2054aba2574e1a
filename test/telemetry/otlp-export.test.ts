/**
 * End to end: simulator -> sidecar -> OTLP/HTTP -> a receiver decoding the real wire format.
 * Metric values must equal the simulator's ground truth; log records must carry the right
 * event names, attributes, severities, times and trace ids.
 */
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulator, type SimulatorSummary } from '../../src/simulator/simulator.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { HOOKS } from '../../src/events/event-types.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { connect, otlpOtel, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { ALL_METRICS, prometheusNameOf } from '../../src/metrics/metric-catalog.js';

const encoder = new FrameEncoder();
const MP = 'script';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const PAYLOAD_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

function ts(sec: number, nanos = 0) {
  return { seconds: sec, nanos };
}

/**
 * Events about five clients, each list in broker order; they are sent in a different order
 * (given by `arrival`) on different connections, as the plugin's random pool would.
 */
function scriptedFrames(base: number): Buffer[][] {
  const e = (hook: string, clientId: string, sec: number, extra: Record<string, unknown> = {}) =>
    encoder.encodeFrame({ hook: hook as 'on_client_wakeup', timestamp: ts(base + sec, 1000 + sec), clientId, mountpoint: MP, ...extra });
  const a = [e('on_client_wakeup', 'A', 1), e('on_client_offline', 'A', 2, { reason: 17 })];
  const b = [e('on_client_wakeup', 'B', 1), e('on_client_offline', 'B', 2, { reason: 5 }), e('on_client_wakeup', 'B', 3)];
  const c = [e('on_client_wakeup', 'C', 1), e('on_client_gone', 'C', 2, { reason: 2 })];
  const d = [e('on_client_offline', 'D', 1, { reason: 17 }), e('on_session_expired', 'D', 2)];
  const reg = e('on_register', 'E', 1, {
    peerAddr: '10.9.9.9',
    peerPort: 4242,
    username: 'eve',
    userProperties: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'vendor=1' },
  });
  const wakeE = e('on_client_wakeup', 'E', 2);
  const pub = e('on_publish', 'E', 3, {
    topic: 'devices/E/telemetry',
    qos: 1,
    payload: Buffer.from(`{"temp": 21.5, "traceparent": "00-${PAYLOAD_TRACE_ID}-b7ad6b7169203331-01"}`),
    matchedAcl: { name: 'device-telemetry', pattern: 'devices/+/telemetry' },
  });
  const drop = e('on_message_drop', 'A', 4, { topic: 'devices/E/telemetry', qos: 1, reason: 'queue_full', payload: Buffer.from('x') });
  // E's QoS 1 message reaches B through a QoS 2 subscription: the broker's on_deliver says 2 (the
  // subscription's QoS), its on_delivery_complete says 1 (the message's).
  const msg = { topic: 'devices/E/telemetry', payload: Buffer.from('{"temp": 21.5}') };
  const deliver = e('on_deliver', 'B', 4, { ...msg, qos: 2 });
  const complete = e('on_delivery_complete', 'B', 5, { ...msg, qos: 1 });
  // Arrival order: each inner list is written on its own connection, lists one after another.
  return [[a[1]!, b[2]!, c[1]!, d[1]!], [a[0]!, b[0]!, c[0]!, d[0]!], [b[1]!], [reg, wakeE, pub, drop, deliver, complete]];
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`OTLP export over ${protocol}`, () => {
    const receiver = new OtlpReceiver();
    let sidecar: SidecarFixture;
    let truth: SimulatorSummary;
    let scriptedSent = 0;

    before(async () => {
      const port = await receiver.start();
      sidecar = await startTestSidecar(
        { logHooks: parseLogHooks('all'), logLevel: 'warn' },
        otlpOtel(`http://127.0.0.1:${port}`, {
          OTEL_METRICS_EXPORTER: 'otlp,prometheus',
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_METRIC_EXPORT_INTERVAL: '250',
          OTEL_BLRP_MAX_QUEUE_SIZE: '200000',
          OTEL_SERVICE_NAME: 'sidecar-under-test',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,service.instance.id=node-1',
        }),
      );
      truth = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 100, clients: 300, seed: 21, rate: 0, events: 15_000 });
      const base = Math.floor(Date.now() / 1000) - 10;
      for (const frames of scriptedFrames(base)) {
        const s = await connect(sidecar.port);
        for (const f of frames) {
          const before = sidecar.capture.events.length;
          await write(s, f);
          // One at a time, so arrival order is exactly the scripted one.
          await eventually(() => assert.equal(sidecar.capture.events.length, before + 1));
          scriptedSent++;
        }
        s.destroy();
      }
      await eventually(() => assert.equal(sidecar.stats.eventsTotal, truth.total + scriptedSent));
      // Wait for a metrics export taken after the last event.
      await eventually(() => assert.equal(receiver.total('vmq_sidecar.event.received'), truth.total + scriptedSent));
    });

    after(async () => {
      await sidecar.stop();
      await receiver.stop();
    });

    test('the export is the real OTLP encoding for the protocol', () => {
      const types = new Set(receiver.exports.map((e) => e.contentType));
      assert.deepEqual([...types], [protocol === 'http/protobuf' ? 'application/x-protobuf' : 'application/json']);
    });

    test('metric totals equal the simulator\'s ground truth', async () => {
      const e = truth.expected;
      await eventually(() => {
        for (const qos of [0, 1, 2]) {
          const scripted = qos === 1 ? 1 : 0;
          assert.equal(receiver.total('mqtt.message.published', { 'mqtt.qos': qos }), (e.publishedByQos[qos] ?? 0) + scripted, `published qos ${qos}`);
        }
      });
      for (const [persistent, byReason] of [
        [true, e.disconnects.offline],
        [false, e.disconnects.gone],
      ] as const) {
        for (const [reason, n] of Object.entries(byReason)) {
          const where = { 'mqtt.disconnect.reason': reason, 'mqtt.session.persistent': persistent };
          const scripted = receiver.total('mqtt.client.disconnects', { ...where, 'mqtt.mountpoint': MP });
          assert.equal(receiver.total('mqtt.client.disconnects', where) - scripted, n, `disconnects ${reason} persistent=${persistent}`);
        }
      }
      // The scripted ones: A and B went offline (tcp_closed, keep-alive), D went offline, C gone.
      assert.equal(receiver.total('mqtt.client.disconnects', { 'mqtt.mountpoint': MP, 'mqtt.session.persistent': true }), 3);
      assert.equal(receiver.total('mqtt.client.disconnects', { 'mqtt.mountpoint': MP, 'mqtt.disconnect.reason': 'normal_disconnect', 'mqtt.session.persistent': false }), 1);
      for (const [reason, n] of Object.entries(e.dropsByReason)) {
        const scripted = reason === 'queue_full' ? 1 : 0;
        assert.equal(receiver.total('mqtt.message.dropped', { 'error.type': reason }), n + scripted, `drops ${reason}`);
      }
      for (const [reason, n] of Object.entries(e.registrationFailuresByReason)) {
        assert.equal(receiver.total('mqtt.client.registration.failures', { 'error.type': reason }), n, `registration failures ${reason}`);
      }
      assert.equal(receiver.total('mqtt.subscriptions', { 'error.type': 'refused' }), e.subscriptions.refused);
      for (const hook of HOOKS) {
        const scripted = sidecar.capture.events.slice(truth.total).filter((ev) => ev.hook === hook).length;
        assert.equal(receiver.total('vmq_sidecar.event.received', { 'vernemq.hook': hook }), (truth.sent[hook] ?? 0) + scripted, hook);
      }
    });

    test('deliveries are counted by the subscription\'s QoS, completions by the message\'s', async () => {
      const scripted = { 'mqtt.mountpoint': MP };
      assert.equal(receiver.total('mqtt.message.delivered', { ...scripted, 'mqtt.subscription.qos': 2 }), 1);
      assert.equal(receiver.total('mqtt.message.delivery_completed', { ...scripted, 'mqtt.qos': 1 }), 1);
      const delivered = receiver.latestPoints().filter((p) => p.metric === 'mqtt.message.delivered');
      assert.ok(delivered.length > 0);
      for (const p of delivered) {
        assert.equal(p.attributes['mqtt.qos'], undefined, 'a delivery does not claim a message QoS');
        assert.ok([0, 1, 2].includes(p.attributes['mqtt.subscription.qos'] as number));
      }
      // Log records export in batches of their own: wait for the scripted ones.
      const scriptedLog = (name: string) =>
        eventually(() => {
          const r = receiver.logs.find((l) => l.eventName === name && l.attributes['messaging.client.id'] === 'B');
          assert.ok(r, `${name} record for B exported`);
          return r;
        });
      const deliverLog = await scriptedLog('vernemq.on_deliver');
      assert.equal(deliverLog.attributes['mqtt.subscription.qos'], 2);
      assert.equal(deliverLog.attributes['mqtt.qos'], undefined);
      const completeLog = await scriptedLog('vernemq.on_delivery_complete');
      assert.equal(completeLog.attributes['mqtt.qos'], 1);
      assert.equal(completeLog.attributes['mqtt.subscription.qos'], undefined);
    });

    test('connected and offline gauges are right after out-of-order events', () => {
      const e = truth.expected;
      for (const [mp, n] of Object.entries(e.connectedClients)) assert.equal(receiver.total('mqtt.client.connected', { 'mqtt.mountpoint': mp }), n, `connected ${mp}`);
      for (const [mp, n] of Object.entries(e.offlineSessions)) assert.equal(receiver.total('mqtt.session.offline', { 'mqtt.mountpoint': mp }), n, `offline ${mp}`);
      // Scripted: B and E connected, A offline (its wakeup arrived after its offline).
      assert.equal(receiver.total('mqtt.client.connected', { 'mqtt.mountpoint': MP }), 2);
      assert.equal(receiver.total('mqtt.session.offline', { 'mqtt.mountpoint': MP }), 1);
      const points = receiver.latestPoints().filter((p) => p.metric === 'mqtt.client.connected');
      assert.ok(points.every((p) => p.type === 'sum' && !p.monotonic && p.temporality === 2 && p.value >= 0));
      assert.ok(sidecar.component(SessionTracker)!.stale >= 4, `stale events counted: ${sidecar.component(SessionTracker)!.stale}`);
    });

    test('each metric arrives as its catalog kind says, over OTLP and on /metrics alike', async () => {
      const exposition = await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text();
      const points = receiver.latestPoints();
      const seen = ALL_METRICS.filter((def) => points.some((p) => p.metric === def.name));
      assert.ok(seen.some((def) => def.kind === 'gauge'), 'a gauge (vmq_sidecar.hook.missing) among them');
      for (const def of seen) {
        const p = points.find((x) => x.metric === def.name)!;
        const otlp = p.type === 'sum' ? (p.monotonic ? 'counter' : 'updown') : p.type;
        assert.equal(otlp, def.kind, `${def.name} over OTLP`);
        const promType = def.kind === 'counter' ? 'counter' : def.kind === 'histogram' ? 'histogram' : 'gauge';
        assert.match(exposition, new RegExp(`^# TYPE ${prometheusNameOf(def)} ${promType}$`, 'm'), `${def.name} on /metrics`);
      }
    });

    test('histograms carry their own bucket boundaries', () => {
      const size = receiver.latestPoints().filter((p) => p.metric === 'mqtt.publish.payload.size');
      assert.ok(size.length > 0);
      assert.equal(size[0]!.unit, 'By');
      assert.deepEqual(size[0]!.histogram!.bounds.slice(0, 4), [0, 16, 64, 256]);
      const total = size.reduce((a, p) => a + p.histogram!.count, 0);
      assert.equal(total, receiver.total('mqtt.message.published'));
      const duration = receiver.latestPoints().filter((p) => p.metric === 'mqtt.session.duration');
      assert.ok(duration.length > 0 && duration[0]!.unit === 's' && duration[0]!.histogram!.bounds[0] === 1);
    });

    test('every resource names the service and this instance', () => {
      const p = receiver.latestPoints()[0]!;
      assert.equal(p.resource['service.name'], 'sidecar-under-test');
      assert.equal(p.resource['service.instance.id'], 'node-1');
      assert.equal(p.resource['deployment.environment'], 'test');
      assert.equal(receiver.logs[0]!.resource['service.instance.id'], 'node-1');
    });

    test('one log record per event, with event name, severity, broker time and attributes', async () => {
      await eventually(() => assert.equal(receiver.logs.length, truth.total + scriptedSent));
      const byName = new Map<string, number>();
      for (const r of receiver.logs) byName.set(r.eventName, (byName.get(r.eventName) ?? 0) + 1);
      for (const hook of HOOKS) assert.ok((byName.get(`vernemq.${hook}`) ?? 0) > 0, hook);
      const failed = receiver.logs.find((r) => r.eventName === 'vernemq.on_register_failed')!;
      assert.equal(failed.severityText, 'WARN');
      assert.equal(failed.severityNumber, 13);
      assert.match(String(failed.attributes['error.type']), /^[a-z_]+$/);
      const gone = receiver.logs.find((r) => r.eventName === 'vernemq.on_client_gone' && r.attributes['messaging.client.id'] === 'C')!;
      assert.equal(gone.severityText, 'INFO', 'normal_disconnect is not a warning');
      const aOffline = receiver.logs.find((r) => r.eventName === 'vernemq.on_client_offline' && r.attributes['messaging.client.id'] === 'A')!;
      assert.equal(aOffline.severityText, 'WARN', 'tcp_closed is abnormal');
      assert.equal(aOffline.attributes['mqtt.disconnect.reason'], 'tcp_closed');
      assert.equal(aOffline.body, 'client A went offline (tcp_closed); session kept');
      assert.equal(aOffline.attributes['messaging.system'], 'mqtt');
      assert.equal(aOffline.attributes['mqtt.mountpoint'], MP);
      // The record's time is the broker's event time, to the nanosecond.
      const wakeA = sidecar.capture.events.find((ev) => ev.clientId === 'A' && ev.hook === 'on_client_offline')!;
      assert.equal(aOffline.timeUnixNano, BigInt(wakeA.timeSec) * 1_000_000_000n + BigInt(wakeA.timeNanos));
      assert.ok(aOffline.observedTimeUnixNano >= aOffline.timeUnixNano);
      const publish = receiver.logs.find((r) => r.eventName === 'vernemq.on_publish' && r.attributes['messaging.client.id'] === 'E')!;
      assert.equal(publish.attributes['messaging.destination.name'], 'devices/E/telemetry');
      assert.equal(publish.attributes['mqtt.qos'], 1);
      assert.equal(publish.attributes['mqtt.acl.name'], 'device-telemetry');
      assert.equal(publish.attributes['mqtt.payload'], undefined, 'payloads are not logged unless asked');
    });

    test('trace context from user properties and JSON payloads lands on the records', () => {
      const reg = receiver.logs.find((r) => r.eventName === 'vernemq.on_register' && r.attributes['messaging.client.id'] === 'E')!;
      assert.equal(reg.traceId, TRACE_ID);
      assert.equal(reg.spanId, SPAN_ID);
      assert.equal(reg.flags & 0xff, 1);
      assert.equal(reg.attributes['client.address'], '10.9.9.9');
      assert.equal(reg.attributes['client.port'], 4242);
      assert.equal(reg.attributes['user.name'], 'eve');
      assert.equal(reg.attributes['mqtt.user_property.tracestate'], 'vendor=1');
      const pub = receiver.logs.find((r) => r.eventName === 'vernemq.on_publish' && r.attributes['messaging.client.id'] === 'E')!;
      assert.equal(pub.traceId, PAYLOAD_TRACE_ID);
      const untraced = receiver.logs.find((r) => r.eventName === 'vernemq.on_client_wakeup')!;
      assert.equal(untraced.traceId, '');
    });
  });
}
