import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulator, type SimulatorSummary } from '../../src/simulator/simulator.js';
import { ALL_METRICS, prometheusNameOf, prometheusSeriesOf } from '../../src/metrics/metric-catalog.js';
import { startTestSidecar, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';

let sidecar: SidecarFixture;
let truth: SimulatorSummary;
let base: string;

before(async () => {
  sidecar = await startTestSidecar({ logLevel: 'warn' });
  truth = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 20, clients: 300, seed: 4, rate: 0, events: 20_000 });
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, truth.total));
  base = `http://127.0.0.1:${sidecar.adminAddress!.port}`;
});

after(async () => {
  await sidecar.stop();
});

test('/metrics serves every catalog metric under its documented Prometheus name', async () => {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = parseExposition(await res.text());
  const names = new Set(samples.map((s) => s.name));
  // Metrics of features this run leaves off (log and span export, --state-file,
  // --broker-metrics-url) or that only appear on trouble (limits reached) have no series here.
  const absent = (name: string) =>
    /^(vmq_sidecar\.(snapshot|broker|upstream|grpc|trace)|otel\.sdk|vernemq)\./.test(name) ||
    ['vmq_sidecar.session.untracked', 'vmq_sidecar.attribute_value.folded', 'vmq_sidecar.attribute_value.invalid', 'mqtt.message.delivery.duration'].includes(name);
  for (const def of ALL_METRICS) {
    if (absent(def.name)) continue;
    for (const series of prometheusSeriesOf(def)) assert.ok(names.has(series), `${def.name} -> ${series}`);
  }
  for (const n of names) {
    const known = n === 'target_info' || ALL_METRICS.some((d) => prometheusSeriesOf(d).includes(n));
    assert.ok(known, `undocumented series ${n}`);
  }
});

test('/metrics values match what was sent', async () => {
  const samples = parseExposition(await (await fetch(`${base}/metrics`)).text());
  const sum = (name: string, where: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
  assert.equal(sum('vmq_sidecar_event_received_total'), truth.total);
  assert.equal(sum('vmq_sidecar_event_received_total', { vernemq_hook: 'on_publish' }), truth.sent.on_publish);
  for (const [qos, n] of Object.entries(truth.expected.publishedByQos)) assert.equal(sum('mqtt_message_published_total', { mqtt_qos: qos }), n);
  assert.equal(sum('mqtt_publish_payload_size_bytes_count'), truth.sent.on_publish);
  // Deliveries carry the subscription's QoS (what on_deliver reports), under its own label.
  const delivered = samples.filter((s) => s.name === 'mqtt_message_delivered_total');
  assert.equal(delivered.reduce((a, s) => a + s.value, 0), truth.sent.on_deliver);
  assert.ok(delivered.every((s) => s.labels.mqtt_qos === undefined && ['0', '1', '2'].includes(s.labels.mqtt_subscription_qos!)));
  for (const [mp, n] of Object.entries(truth.expected.connectedClients)) assert.equal(sum('mqtt_client_connected', { mqtt_mountpoint: mp }), n);
  assert.equal(sum('vmq_sidecar_received_bytes_total'), truth.bytes);
  const bucketInf = samples.find((s) => s.name === 'mqtt_session_duration_seconds_bucket' && s.labels.le === '+Inf');
  assert.ok(bucketInf && bucketInf.value > 0);
  assert.equal(prometheusNameOf(ALL_METRICS.find((d) => d.name === 'mqtt.client.connected')!), 'mqtt_client_connected');
});

test('/healthz, /readyz and /status answer; unknown paths are 404', async () => {
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal(await (await fetch(`${base}/readyz`)).text(), 'ready\n');
  const status = (await (await fetch(`${base}/status`)).json()) as { events: { total: number; byHook: Record<string, { count: number }> } };
  assert.equal(status.events.total, truth.total);
  assert.equal(status.events.byHook.on_register!.count, truth.sent.on_register);
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
});
