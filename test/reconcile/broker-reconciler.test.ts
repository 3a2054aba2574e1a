/**
 * Reconciliation against a local HTTP server serving VerneMQ-format metrics text (the names and
 * labels the broker writes), including the broker endpoint being down, slow or serving garbage.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { connect, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';
import { BrokerReconciler } from '../../src/reconcile/broker-reconciler.js';
import { IngestStats } from '../../src/receiver/ingest-stats.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';

const encoder = new FrameEncoder();
let mode: 'ok' | 'slow' | 'garbage' | '500' | 'live' = 'ok';
// In 'live' mode: runs when the request arrives and returns the count to report (the broker's
// count at the instant it rendered the page).
let live: () => Promise<number> = async () => 0;
// What the broker reports when the sidecar starts (its first scrape is the baseline).
let broker: { active: number; ws?: number; queues: number; attempts: number; errors: number; uptimeMs?: number } = { active: 0, queues: 0, attempts: 100, errors: 2 };

function vernemqText(): string {
  const node = 'node="VerneMQ@127.0.0.1"';
  return [
    '# HELP active_mqtt_connections The number of open MQTT connections.',
    '# TYPE active_mqtt_connections gauge',
    `active_mqtt_connections{${node}} ${broker.active}`,
    '# TYPE active_mqttws_connections gauge',
    `active_mqttws_connections{${node}} ${broker.ws ?? 0}`,
    '# TYPE total_active_connections gauge',
    `total_active_connections{${node}} ${broker.active + (broker.ws ?? 0)}`,
    '# TYPE queue_processes gauge',
    `queue_processes{${node}} ${broker.queues}`,
    '# HELP sidecar_events Events sent to the sidecar.',
    '# TYPE sidecar_events counter',
    `sidecar_events{${node},hook="on_client_wakeup"} ${broker.attempts}`,
    `sidecar_events{${node},hook="on_publish"} 0`,
    '# TYPE sidecar_events_error counter',
    `sidecar_events_error{${node},hook="on_client_wakeup"} ${broker.errors}`,
    `mqtt_publish_received{${node},mqtt_version="4"} 12`,
    ...(broker.uptimeMs === undefined ? [] : [`system_wallclock{${node}} ${broker.uptimeMs}`]),
    '',
  ].join('\n');
}

const server = http.createServer((_req, res) => {
  if (mode === 'slow') {
    setTimeout(() => res.end(vernemqText()), 1500);
    return;
  }
  if (mode === 'live') {
    void live().then((n) => {
      broker.active = n;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(vernemqText());
    });
    return;
  }
  if (mode === '500') {
    res.writeHead(500).end('oops');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(mode === 'garbage' ? '<html>not metrics</html>' : vernemqText());
});

let sidecar: SidecarFixture;
let url = '';

async function wakeups(n: number, from: number): Promise<void> {
  const before = sidecar.stats.eventsTotal;
  const s = await connect(sidecar.port);
  const now = Math.floor(Date.now() / 1000);
  await write(s, Buffer.concat(Array.from({ length: n }, (_, i) => encoder.encodeFrame({ hook: 'on_client_wakeup', clientId: `c${from + i}`, mountpoint: '', timestamp: { seconds: now, nanos: i } }))));
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, before + n));
  s.destroy();
}

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  // 1 s: the scrape at start must not time out on a loaded machine; the slow endpoint answers after 1.5 s.
  sidecar = await startTestSidecar({ brokerMetricsUrl: url, brokerScrapeIntervalMs: 3_600_000, brokerScrapeTimeoutMs: 1000, logLevel: 'info' });
});

after(async () => {
  await sidecar.stop();
  server.close();
});

test('drift from the broker\'s connection count and events lost upstream come out right', async () => {
  const r = sidecar.component(BrokerReconciler)!;
  await eventually(() => assert.ok(r.last, 'the scrape at start is the baseline'));
  assert.equal(r.drift(), 0);
  // The broker then attempts 10 wakeups, 1 fails to send, 6 arrive: 4 are missing (the failed
  // one and 3 sent but not received); it counts
  // 12 connections where our gauge has 6: 9 on its MQTT listeners, 3 on WebSocket ones (whose
  // clients fire the same session hooks).
  broker = { active: 9, ws: 3, queues: 14, attempts: 110, errors: 3 };
  await wakeups(6, 0);
  assert.equal(await r.scrapeOnce(), 'success');
  assert.equal(r.drift(), 6 - 12);
  assert.equal(r.missing().get('on_client_wakeup'), 4);
  assert.equal(r.missing().get('on_publish'), 0);

  const samples = parseExposition(await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text());
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value('vmq_sidecar_broker_connections'), 12);
  assert.equal(value('vmq_sidecar_broker_queues'), 14);
  assert.equal(value('vmq_sidecar_broker_connection_drift'), -6);
  assert.equal(value('vmq_sidecar_upstream_missing', { vernemq_hook: 'on_client_wakeup' }), 4);
  assert.equal(value('vmq_sidecar_broker_sidecar_events_total', { vernemq_hook: 'on_client_wakeup' }), 110);
  assert.equal(value('vmq_sidecar_broker_sidecar_event_errors_total', { vernemq_hook: 'on_client_wakeup' }), 3);
  assert.equal(value('vmq_sidecar_broker_scrapes_total', {}), 2);
  const status = sidecar.status() as { broker: { drift: number; missingEventsByHook: Record<string, number> } };
  assert.equal(status.broker.drift, -6);
  assert.equal(status.broker.missingEventsByHook.on_client_wakeup, 4);
});

test('a broker restart (counters going back) starts the count over instead of going negative', async () => {
  const r = sidecar.component(BrokerReconciler)!;
  broker = { active: 9, queues: 9, attempts: 4, errors: 0 };
  assert.equal(await r.scrapeOnce(), 'success');
  assert.equal(r.missing().get('on_client_wakeup'), 0);
});

test('broker endpoint down, slow, failing or serving garbage: counted, logged, no effect on ingest', async () => {
  const r = sidecar.component(BrokerReconciler)!;
  const lastGood = r.last;
  mode = 'garbage';
  assert.equal(await r.scrapeOnce(), 'invalid');
  mode = 'slow';
  assert.equal(await r.scrapeOnce(), 'timeout');
  mode = '500';
  assert.equal(await r.scrapeOnce(), 'error');
  mode = 'ok';
  server.closeAllConnections();
  // A port nobody listens on.
  const down = new BrokerReconciler('http://127.0.0.1:9/metrics', 3_600_000, 300, new IngestStats(), () => 0, new SidecarLogger('silent'));
  assert.equal(await down.scrapeOnce(), 'error');
  assert.equal(r.last, lastGood, 'the last good view is kept');
  assert.deepEqual({ ...r.outcomes }, { success: 3, error: 1, timeout: 1, invalid: 1 });
  assert.ok(sidecar.logLines.some((l) => l.msg === 'broker metrics scrape failed; reconciliation paused'));
  // Ingest is untouched.
  await wakeups(50, 100);
  assert.equal(await r.scrapeOnce(), 'success');
  assert.ok(sidecar.logLines.some((l) => l.msg === 'broker metrics reachable again'));
});

test('drift compares like with like: the gauge at the scrape against the broker\'s count at the scrape', async () => {
  const r = sidecar.component(BrokerReconciler)!;
  const gauge = () => sidecar.component(SessionTracker)!.connectedTotal();
  const driftOnMetrics = async () =>
    parseExposition(await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text()).find((s) => s.name === 'vmq_sidecar_broker_connection_drift')?.value;
  mode = 'live';
  // The broker counts what we count at the moment it answers.
  live = async () => gauge();
  assert.equal(await r.scrapeOnce(), 'success');
  assert.equal(r.drift(), 0);
  // Clients connect after the scrape: the broker's count moved with ours, unseen until the next
  // scrape. Comparing the gauge now with the old count would say 7.
  await wakeups(7, 1000);
  assert.equal(await driftOnMetrics(), 0);
  assert.equal(r.drift(), 0);
  // Clients connect while the scrape is in flight, after the broker took its count: the count
  // lies between our gauge at request and at answer, which is no drift.
  live = async () => {
    const atRender = gauge();
    await wakeups(4, 2000);
    return atRender;
  };
  assert.equal(await r.scrapeOnce(), 'success');
  assert.deepEqual({ ...r.last!.gaugeAtScrape, drift: r.drift() }, { sent: r.last!.gaugeAtScrape.sent, answered: r.last!.gaugeAtScrape.sent + 4, drift: 0 });
  // A real gap still shows, measured from the nearer end of that window.
  live = async () => {
    const atRender = gauge();
    await wakeups(4, 3000);
    return atRender - 3;
  };
  assert.equal(await r.scrapeOnce(), 'success');
  assert.equal(r.drift(), 3);
  assert.equal(await driftOnMetrics(), 3);
  mode = 'ok';
});

test('a restored loss count goes on, unless the broker restarted while we were down (uptime) or it was taken against another broker', async () => {
  const fresh = (u = url) => new BrokerReconciler(u, 3_600_000, 300, new IngestStats(), () => 0, new SidecarLogger('silent'));
  const saved = {
    url,
    scrapedAtMs: Date.now() - 5_000,
    brokerUptimeMs: 3_600_000,
    hooks: { on_client_wakeup: { baseAttempts: 100, baseErrors: 2, lastAttempts: 120, lastErrors: 2, received: 20 } },
  };
  // Up for the hour and 5 s since: the same broker, 30 attempted since and none received here.
  broker = { active: 0, queues: 0, attempts: 150, errors: 4, uptimeMs: 3_605_000 };
  const same = fresh();
  assert.equal(same.restoreState(saved), undefined);
  assert.equal(await same.scrapeOnce(), 'success');
  assert.equal(same.missing().get('on_client_wakeup'), 30);
  // A snapshot of a version that kept no gRPC counts: they are taken at this first scrape.
  assert.deepEqual(same.saveState()!.hooks.on_client_wakeup, { baseAttempts: 100, baseErrors: 2, lastAttempts: 150, lastErrors: 4, received: 20, baseGrpcOk: 0, receivedGrpc: 0 });
  // Counters higher than we saw, but up for 1 s only: it restarted, so the count starts over.
  broker.uptimeMs = 1_000;
  const restarted = fresh();
  restarted.restoreState(saved);
  assert.equal(await restarted.scrapeOnce(), 'success');
  assert.equal(restarted.missing().get('on_client_wakeup'), 0);
  assert.match(fresh('http://127.0.0.1:1/metrics').restoreState(saved)!, /taken against/);
  broker = { active: 0, queues: 0, attempts: 100, errors: 2 };
});
