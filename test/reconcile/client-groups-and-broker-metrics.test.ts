/**
 * End to end, as a user sees it: a sidecar with --client-groups and --broker-metrics-url pointed at
 * a local HTTP endpoint serving VerneMQ's own Prometheus text (the fixtures of
 * test/fixtures/vernemq/), events over real TCP, metrics and log records over OTLP/HTTP protobuf
 * (decoded from the wire format) and on /metrics: the renamed names, the client groups on the
 * client metrics, the broker's own metrics under vernemq.*, and the log export's otel.sdk.*
 * self-metrics counted once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { connect, otlpOtel, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { parsePrometheusText } from '../../src/reconcile/prometheus-text.js';
import { BrokerReconciler } from '../../src/reconcile/broker-reconciler.js';
import { parseClientGroups } from '../../src/metrics/client-grouper.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/vernemq/${name}`, import.meta.url)), 'utf8');
let page = fixture('metrics-gojek-v5.1.0.txt');
const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(page));
const receiver = new OtlpReceiver();
const encoder = new FrameEncoder();
let sidecar: SidecarFixture;

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${await receiver.start()}`;
  sidecar = await startTestSidecar(
    {
      brokerMetricsUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
      brokerScrapeIntervalMs: 3_600_000,
      clientGroups: parseClientGroups('client:sensor-*=sensors,user:fleet-*=fleet'),
      logLevel: 'info',
    },
    otlpOtel(endpoint, { OTEL_METRICS_EXPORTER: 'otlp,prometheus' }),
  );
});

after(async () => {
  await sidecar.stop();
  await receiver.stop();
  server.close();
});

async function prometheus() {
  const samples = parsePrometheusText(await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text());
  return (name: string, labels: Record<string, string | undefined> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

test('client groups and the broker\'s own metrics, over OTLP and on /metrics', async () => {
  const t = Math.floor(Date.now() / 1000);
  const at = (i: number) => ({ seconds: t, nanos: i });
  const s = await connect(sidecar.port);
  const before = sidecar.stats.eventsTotal;
  const frames = [
    // The broker's order: a connection's wakeup, then its register (the first to name the user).
    { hook: 'on_client_wakeup', timestamp: at(1), mountpoint: '', clientId: 'gw-1', sessionId: '' },
    { hook: 'on_register', timestamp: at(2), mountpoint: '', clientId: 'gw-1', username: 'fleet-a', peerAddr: '10.1.2.3', peerPort: 40001, sessionId: '' },
    { hook: 'on_client_wakeup', timestamp: at(3), mountpoint: '', clientId: 'sensor-7', sessionId: '' },
    { hook: 'on_register', timestamp: at(4), mountpoint: '', clientId: 'sensor-7', username: '', peerAddr: '10.1.2.4', peerPort: 40002, sessionId: '' },
    { hook: 'on_register_failed', timestamp: at(5), mountpoint: '', clientId: 'intruder', username: 'nobody', peerAddr: '10.9.9.9', peerPort: 1, cleanSession: true, reason: 2 },
    { hook: 'on_publish', timestamp: at(6), mountpoint: '', clientId: 'gw-1', username: 'fleet-a', topic: 'fleet/gw-1/status', qos: 1, payload: Buffer.from('up'), retain: false },
    { hook: 'on_message_drop', timestamp: at(7), mountpoint: '', clientId: 'sensor-7', topic: 'fleet/gw-1/status', qos: 1, payload: Buffer.from('up'), reason: 'queue_full' },
  ];
  await write(s, Buffer.concat(frames.map((f) => encoder.encodeFrame(f as never))));
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, before + frames.length));
  const r = sidecar.component(BrokerReconciler)!;
  // The scrape at start first (a scrape asked for while one is in flight is refused).
  await eventually(() => assert.ok(r.last));
  assert.equal(await r.scrapeOnce(), 'success');

  // OTLP, decoded from the protobuf wire format.
  await eventually(() => {
    assert.equal(receiver.total('mqtt.client.connected', { 'mqtt.client.group': 'fleet' }), 1);
    assert.equal(receiver.total('mqtt.client.connected', { 'mqtt.client.group': 'sensors' }), 1);
    assert.equal(receiver.total('vernemq.retain.messages'), 611);
  }, 10_000);
  assert.equal(receiver.total('mqtt.client.registrations', { 'mqtt.client.group': 'fleet' }), 1);
  assert.equal(receiver.total('mqtt.client.registration.failures', { 'mqtt.client.group': 'ungrouped', 'error.type': 'invalid_credentials' }), 1);
  assert.equal(receiver.total('mqtt.message.published', { 'mqtt.client.group': 'fleet' }), 1);
  assert.equal(receiver.total('mqtt.message.dropped', { 'mqtt.client.group': 'sensors', 'error.type': 'queue_full' }), 1);
  const points = receiver.latestPoints();
  assert.ok(!points.some((p) => p.metric === 'mqtt.messages.published'), 'the 0.1.0 name is gone');
  assert.equal(receiver.total('vernemq.router.subscriptions'), 2841);
  assert.equal(receiver.total('vernemq.connection.active', { 'vernemq.listener.type': 'tcp' }), 1448);
  assert.equal(receiver.total('vernemq.connection.active', { 'vernemq.listener.type': 'websocket' }), 30);
  assert.equal(receiver.total('vernemq.network.io', { 'network.io.direction': 'receive' }), 48213377);
  assert.equal(receiver.total('vernemq.client.keepalive.expired', { 'network.protocol.version': '3.1.1' }), 37);
  assert.equal(receiver.total('vernemq.client.keepalive.expired', { 'network.protocol.version': '5' }), 2);
  const io = points.find((p) => p.metric === 'vernemq.network.io')!;
  assert.equal(io.type, 'sum');
  assert.ok(io.monotonic, 'a broker counter is a monotonic sum');
  assert.equal(points.find((p) => p.metric === 'vernemq.retain.messages')!.type, 'gauge');
  assert.ok(!points.some((p) => p.metric.startsWith('vernemq.netsplit')), 'gojek/vernemq v5.1.0 serves no netsplit counters: none invented');

  // Log records carry the group and the renamed attributes.
  await eventually(() => assert.ok(receiver.logs.some((l) => l.eventName === 'vernemq.on_register_failed')));
  const reg = receiver.logs.find((l) => l.eventName === 'vernemq.on_register' && l.attributes['messaging.client.id'] === 'gw-1')!;
  assert.equal(reg.attributes['mqtt.client.group'], 'fleet');
  assert.equal(reg.attributes['client.address'], '10.1.2.3');
  assert.equal(reg.attributes['client.port'], 40001);
  assert.equal(reg.attributes['network.peer.address'], undefined);
  const failed = receiver.logs.find((l) => l.eventName === 'vernemq.on_register_failed')!;
  assert.equal(failed.attributes['error.type'], 'invalid_credentials');
  assert.equal(failed.attributes['mqtt.client.group'], 'ungrouped');

  // The log export's self-metrics under the SDK's names, once each (the SDK's own are off).
  await eventually(() => assert.ok(receiver.total('otel.sdk.exporter.log.exported', { 'otel.component.type': 'otlp_http_log_exporter' }) >= 2));
  const latest = receiver.latestPoints();
  const selfSeries = latest.filter((p) => p.metric.startsWith('otel.sdk.')).map((p) => `${p.metric} ${JSON.stringify(p.attributes)}`);
  assert.equal(new Set(selfSeries).size, selfSeries.length, 'no otel.sdk.* series twice');
  const exported = latest.find((p) => p.metric === 'otel.sdk.exporter.log.exported' && p.attributes['error.type'] === undefined)!;
  assert.equal(exported.attributes['otel.component.name'], 'otlp_http_log_exporter/0');

  // /metrics: the Prometheus names.
  let m = await prometheus();
  assert.equal(m('mqtt_client_connected', { mqtt_client_group: 'fleet' }), 1);
  assert.equal(m('mqtt_message_published_total', { mqtt_client_group: 'fleet' }), 1);
  assert.equal(m('mqtt_message_dropped_total', { error_type: 'queue_full', mqtt_client_group: 'sensors' }), 1);
  assert.equal(m('vernemq_retain_messages'), 611);
  assert.equal(m('vernemq_network_io_bytes_total', { network_io_direction: 'transmit' }), 91022310);
  assert.equal(m('vernemq_connection_active', { vernemq_listener_type: 'tcp' }), 1448);
  assert.equal(m('vmq_sidecar_broker_scrapes_total', { error_type: undefined }), 2);
  assert.ok(m('otel_sdk_exporter_log_exported_total', { error_type: undefined }) >= 2);
  assert.equal(m('otel_sdk_processor_log_queue_capacity', { otel_component_type: 'batching_log_processor' }), 2048, 'OTEL_BLRP_MAX_QUEUE_SIZE by default');

  // The fleet client's username moves it to no group while connected, then it goes away: the
  // move and the -1 leave no series off.
  await write(
    s,
    Buffer.concat([
      encoder.encodeFrame({ hook: 'on_register', timestamp: at(8), mountpoint: '', clientId: 'gw-1', username: 'someone', peerAddr: '10.1.2.3', peerPort: 40003, sessionId: '' } as never),
      encoder.encodeFrame({ hook: 'on_client_gone', timestamp: at(9), mountpoint: '', clientId: 'gw-1', username: 'someone', reason: 17 } as never),
    ]),
  );
  await eventually(async () => {
    m = await prometheus();
    assert.equal(m('mqtt_client_connected', { mqtt_client_group: 'fleet' }), 0);
    assert.equal(m('mqtt_client_connected', { mqtt_client_group: 'ungrouped' }), 0);
    assert.equal(m('mqtt_client_connected', { mqtt_client_group: 'sensors' }), 1);
    assert.equal(m('mqtt_client_disconnects_total', { mqtt_client_group: 'ungrouped' }), 1);
  });
  s.destroy();

  // A VerneMQ 2.x node serves netsplit counters: they appear from the next scrape on.
  page = fixture('metrics-vernemq-2.x-netsplit.txt');
  assert.equal(await r.scrapeOnce(), 'success');
  m = await prometheus();
  assert.equal(m('vernemq_netsplit_detected_total'), 3);
  assert.equal(m('vernemq_netsplit_resolved_total'), 2);
  await eventually(() => assert.equal(receiver.total('vernemq.netsplit.detected'), 3), 10_000);
});
