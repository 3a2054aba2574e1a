/** The metrics sink without a socket: decoded events in, series and values out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsSink } from '../../src/sinks/metrics-sink.js';
import type { SumFamily, HistogramFamily } from '../../src/metrics/metric-store.js';
import { MQTT_METRICS, SIDECAR_METRICS } from '../../src/metrics/metric-catalog.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { parseTopicGroups } from '../../src/metrics/topic-grouper.js';
import { fakeHost } from '../helpers/fake-host.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

const encoder = new FrameEncoder();
const decoder = new EventDecoder();
const decode = (e: Record<string, unknown>): SidecarEvent => {
  const f = encoder.encodeFrame(e as never);
  return decoder.decode(f, 4, f.length, Date.now())!;
};

function setUp() {
  const host = fakeHost({ maxMountpoints: 10 });
  const sink = host.add(new MetricsSink(host, { topicGroups: parseTopicGroups('devices/#=devices'), maxTopicGroups: 10, maxDropReasons: 10 }));
  return { host, store: host.store, sink, series: host.series };
}

test('each MQTT hook moves its metric, with the attributes in catalog order', () => {
  const { sink, series } = setUp();
  const now = Date.now();
  sink.consume(decode({ ...SAMPLE_EVENTS.on_publish, mountpoint: '', qos: 1, retain: true, topic: 'devices/7/t', matchedAcl: undefined }), now);
  sink.consume(decode({ ...SAMPLE_EVENTS.on_client_gone, mountpoint: 'tenant', reason: 17 }), now);
  sink.consume(decode({ ...SAMPLE_EVENTS.on_client_offline, mountpoint: 'tenant', reason: 99 }), now);
  sink.consume(decode({ ...SAMPLE_EVENTS.on_register_failed, mountpoint: '', reason: 2 }), now);
  assert.deepEqual(series(MQTT_METRICS.published), [{ 'mqtt.mountpoint': '', 'mqtt.qos': 1, 'mqtt.retain': true, 'mqtt.topic.group': 'devices', 'network.protocol.version': '3.1.1', value: 1 }]);
  assert.deepEqual(series(MQTT_METRICS.payloadSize), [{ 'mqtt.qos': 1, 'mqtt.topic.group': 'devices', value: 1 }]);
  assert.deepEqual(series(MQTT_METRICS.disconnects), [
    { 'mqtt.mountpoint': 'tenant', 'mqtt.disconnect.reason': 'tcp_closed', 'mqtt.session.persistent': false, value: 1 },
    { 'mqtt.mountpoint': 'tenant', 'mqtt.disconnect.reason': 'unknown', 'mqtt.session.persistent': true, value: 1 },
  ]);
  assert.deepEqual(series(MQTT_METRICS.registrationFailures), [{ 'mqtt.mountpoint': '', 'error.type': 'invalid_credentials', value: 1 }]);
});

test('a subscription refused (qos 128) and granted ones; unsubscriptions count skipped topics too', () => {
  const { sink, series } = setUp();
  sink.consume(
    decode({ ...SAMPLE_EVENTS.on_subscribe, mountpoint: '', topics: [{ topic: 'devices/1', qos: 128 }, { topic: 'x/y', qos: 2 }, { topic: 'x/z', qos: 2 }] }),
    Date.now(),
  );
  assert.deepEqual(series(MQTT_METRICS.subscriptions), [
    { 'mqtt.mountpoint': '', 'mqtt.qos': 128, 'error.type': 'refused', 'mqtt.topic.group': 'devices', 'network.protocol.version': '3.1.1', value: 1 },
    { 'mqtt.mountpoint': '', 'mqtt.qos': 2, 'mqtt.topic.group': 'unmatched', 'network.protocol.version': '3.1.1', value: 2 },
  ]);
});

test('MQTT 5 events of the companion plugin count on the same series, told apart by network.protocol.version', () => {
  const { sink, series } = setUp();
  const now = Date.now();
  const v5 = (e: Record<string, unknown>): SidecarEvent => {
    const f = encoder.encodeMqtt5Frame(e);
    return decoder.decode(f, 4, f.length, now)!;
  };
  sink.consume(decode({ ...SAMPLE_EVENTS.on_register, mountpoint: '' }), now);
  sink.consume(v5({ ...SAMPLE_EVENTS.on_register, mountpoint: '', sessionId: '', userProperties: {} }), now);
  sink.consume(v5({ ...SAMPLE_EVENTS.on_register, mountpoint: '', clientId: 'v5-b', sessionId: '', userProperties: {} }), now);
  sink.consume(decode({ ...SAMPLE_EVENTS.on_publish, mountpoint: '', qos: 1, retain: false, topic: 'x', matchedAcl: undefined }), now);
  sink.consume(v5({ ...SAMPLE_EVENTS.on_publish, mountpoint: '', qos: 1, retain: false, topic: 'x', matchedAcl: undefined, sessionId: '', userProperties: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }), now);
  sink.consume(v5({ ...SAMPLE_EVENTS.on_deliver, mountpoint: '', qos: 2, topic: 'x', matchedAcl: undefined, persisted: false, sessionId: '' }), now);
  sink.consume(v5({ ...SAMPLE_EVENTS.on_subscribe, mountpoint: '', topics: [{ topic: 'x', qos: 1, reasonCode: 1 }, { topic: 'y', qos: 128, reasonCode: 0x87 }] }), now);
  sink.consume(v5({ ...SAMPLE_EVENTS.on_unsubscribe, mountpoint: '', topics: ['x', 'y'] }), now);
  assert.deepEqual(series(MQTT_METRICS.registrations), [
    { 'mqtt.mountpoint': '', 'network.protocol.version': '3.1.1', value: 1 },
    { 'mqtt.mountpoint': '', 'network.protocol.version': '5', value: 2 },
  ]);
  assert.deepEqual(series(MQTT_METRICS.published), [
    { 'mqtt.mountpoint': '', 'mqtt.qos': 1, 'mqtt.retain': false, 'mqtt.topic.group': 'unmatched', 'network.protocol.version': '3.1.1', value: 1 },
    { 'mqtt.mountpoint': '', 'mqtt.qos': 1, 'mqtt.retain': false, 'mqtt.topic.group': 'unmatched', 'network.protocol.version': '5', value: 1 },
  ]);
  assert.deepEqual(series(MQTT_METRICS.delivered), [
    { 'mqtt.mountpoint': '', 'mqtt.subscription.qos': 2, 'mqtt.topic.group': 'unmatched', 'mqtt.persisted': false, 'network.protocol.version': '5', value: 1 },
  ]);
  assert.deepEqual(series(MQTT_METRICS.subscriptions), [
    { 'mqtt.mountpoint': '', 'mqtt.qos': 1, 'mqtt.topic.group': 'unmatched', 'network.protocol.version': '5', value: 1 },
    { 'mqtt.mountpoint': '', 'mqtt.qos': 128, 'error.type': 'refused', 'mqtt.topic.group': 'unmatched', 'network.protocol.version': '5', value: 1 },
  ]);
  assert.deepEqual(series(MQTT_METRICS.unsubscriptions), [{ 'mqtt.mountpoint': '', 'network.protocol.version': '5', value: 2 }]);
});

test('the event delay is recorded from the broker timestamp; events without one are not', () => {
  const { sink, series } = setUp();
  const now = Date.now();
  sink.consume(decode({ ...SAMPLE_EVENTS.on_register, timestamp: { seconds: Math.floor(now / 1000) - 2, nanos: 0 } }), now);
  sink.consume(decode({ ...SAMPLE_EVENTS.on_register, timestamp: undefined }), now);
  assert.deepEqual(series(SIDECAR_METRICS.eventDelay), [{ value: 1 }]);
});

test('--client-groups: mqtt.client.group on the client metrics; a client\'s -1 on mqtt.client.connected lands on its +1\'s series', () => {
  // One host: the metrics sink and the session tracker share its client grouper.
  const host = fakeHost({ maxMountpoints: 10, clientGroups: 'client:sensor-*=sensors,user:fleet-*=fleet' });
  const sink = host.add(new MetricsSink(host, { topicGroups: [], maxTopicGroups: 10, maxDropReasons: 10 }));
  const sessions = host.add(new SessionTracker(host, { maxClients: 100 }));
  const series = host.series;
  let t = 1_764_133_200;
  const feed = (e: Record<string, unknown>) => host.feed([sink, sessions], decode({ ...e, mountpoint: '', timestamp: { seconds: t++, nanos: 0 } }));
  feed({ ...SAMPLE_EVENTS.on_register, clientId: 'gw-1', username: 'fleet-a' });
  feed({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: 'gw-1' });
  feed({ ...SAMPLE_EVENTS.on_register, clientId: 'sensor-9', username: '' });
  feed({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: 'sensor-9' });
  feed({ ...SAMPLE_EVENTS.on_register_failed, clientId: 'x', username: 'nobody', reason: 2 });
  assert.equal(series(MQTT_METRICS.registrationFailures)[0]!['mqtt.client.group'], 'ungrouped');
  feed({ ...SAMPLE_EVENTS.on_publish, clientId: 'gw-1', username: 'fleet-a', qos: 1, matchedAcl: undefined });
  feed({ ...SAMPLE_EVENTS.on_message_drop, clientId: 'gw-1', qos: 1, reason: 'queue_full', matchedAcl: undefined });
  assert.deepEqual(series(MQTT_METRICS.connected), [
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'fleet', value: 1 },
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'sensors', value: 1 },
  ]);
  assert.deepEqual(series(MQTT_METRICS.registrationFailures), [{ 'mqtt.mountpoint': '', 'error.type': 'invalid_credentials', 'mqtt.client.group': 'ungrouped', value: 1 }].map((s) => ({ ...s, 'error.type': series(MQTT_METRICS.registrationFailures)[0]!['error.type'] })));
  assert.equal(series(MQTT_METRICS.published)[0]!['mqtt.client.group'], 'fleet');
  assert.equal(series(MQTT_METRICS.dropped)[0]!['mqtt.client.group'], 'fleet', 'a drop (no username) is grouped by the username seen for the client id');
  // The client's username changes its group (a new registration) while it is still counted as
  // connected: it moves to the new group, and its disconnect takes it off the series it is in.
  feed({ ...SAMPLE_EVENTS.on_register, clientId: 'gw-1', username: 'someone-else' });
  assert.deepEqual(series(MQTT_METRICS.connected), [
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'fleet', value: 0 },
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'sensors', value: 1 },
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'ungrouped', value: 1 },
  ]);
  feed({ ...SAMPLE_EVENTS.on_client_gone, clientId: 'gw-1', username: 'someone-else', reason: 17 });
  assert.deepEqual(series(MQTT_METRICS.connected), [
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'fleet', value: 0 },
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'sensors', value: 1 },
    { 'mqtt.mountpoint': '', 'mqtt.client.group': 'ungrouped', value: 0 },
  ]);
  assert.deepEqual(series(MQTT_METRICS.disconnects).map((s) => s['mqtt.client.group']), ['ungrouped']);
});

test('without --client-groups the metrics have no mqtt.client.group attribute', () => {
  const { sink, series } = setUp();
  sink.consume(decode({ ...SAMPLE_EVENTS.on_register, mountpoint: '' }), Date.now());
  assert.deepEqual(series(MQTT_METRICS.registrations), [{ 'mqtt.mountpoint': '', 'network.protocol.version': '3.1.1', value: 1 }]);
});

test('--max-mountpoints 10: ten one-off mountpoints sent as wakeups, then a real one with 20 wakeups: the real one keeps its own series', async () => {
  const { startTestSidecar, connect, write } = await import('../helpers/sidecar-fixture.js');
  const { eventually } = await import('../helpers/eventually.js');
  const sidecar = await startTestSidecar({ maxMountpoints: 10, logLevel: 'warn' });
  try {
    const base = Math.floor(Date.now() / 1000);
    const frames: Buffer[] = [];
    for (let i = 0; i < 10; i++) frames.push(encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, mountpoint: `one-off-${i}`, clientId: `x${i}`, timestamp: { seconds: base, nanos: i } }));
    for (let i = 0; i < 20; i++) frames.push(encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, mountpoint: 'tenant-a', clientId: `c${i}`, timestamp: { seconds: base, nanos: 100 + i } }));
    const s = await connect(sidecar.port);
    await write(s, Buffer.concat(frames));
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, 30));
    s.destroy();
    const text = await sidecar.telemetry.prometheusText();
    const connected = (mp: string) => Number(new RegExp(`^mqtt_client_connected\\{[^}]*mqtt_mountpoint="${mp}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    // Its first wakeup is a first sighting while only recurring values get places: "other".
    assert.equal(connected('tenant-a'), 19, text.split('\n').filter((l) => l.startsWith('mqtt_client_connected')).join('\n'));
    // Half of the ten places went to one-off values at their first event; the other five stayed "other".
    const oneOffSeries = text.split('\n').filter((l) => /^mqtt_client_connected\{[^}]*mqtt_mountpoint="one-off-/.test(l)).length;
    assert.equal(oneOffSeries, 5);
    assert.equal(connected('other'), 6);
  } finally {
    await sidecar.stop();
  }
});

test('the event delay histogram clamps timestamps more than a day off and counts them; clock skew records 0 uncounted', () => {
  const { store, sink } = setUp();
  const now = Date.now();
  const at = (seconds: number) => decode({ ...SAMPLE_EVENTS.on_client_wakeup, timestamp: { seconds, nanos: 0 } });
  sink.consume(at(Math.floor(now / 1000) - 2), now); // 2 s late
  sink.consume(at(Math.floor(now / 1000) + 1), now); // 1 s from the future: skew
  sink.consume(at(1), now); // 1970
  sink.consume(at(9.2e15), now); // far future
  const h = (store.family(SIDECAR_METRICS.eventDelay.name) as HistogramFamily).all()[0]!;
  assert.equal(h.count, 4);
  assert.ok(h.sum >= 2 && h.sum <= 2 + 1 + 86_400, `sum ${h.sum}`);
  assert.equal((store.family(SIDECAR_METRICS.eventDelayClamped.name) as SumFamily).all()[0]!.value, 2);
  assert.equal(sink.clampedDelays, 2);
});
