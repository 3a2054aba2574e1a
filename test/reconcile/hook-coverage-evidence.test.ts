/**
 * The hooks-missing check warns only on evidence: a hook enabled but with nothing to report (no
 * clean session ever goes offline) is not missing; a hook truly not configured still is, once
 * events show it should have fired. The broker's own count of attempts proves a hook enabled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import type { SimEvent } from '../../src/simulator/client-model.js';
import { connect, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';

const encoder = new FrameEncoder();
const WARNING = 'gauge without the hooks it is derived from: enable them in vmq_events_sidecar.hooks';
const T0 = Math.floor(Date.now() / 1000) - 3600;

/**
 * Connections of `clients` clients, one after the other per client, in broker-time order: wakeup,
 * register, subscribe, publishes with deliveries, then the end (gone for clean sessions, offline
 * for persistent ones, unless that hook is left out), until `total` events.
 */
function workload(total: number, opts: { persistentShare: number; leaveOut: string[]; clients?: number }): SimEvent[] {
  const out: SimEvent[] = [];
  const clients = opts.clients ?? 100;
  let t = 0;
  const at = () => ({ seconds: T0 + Math.floor(t / 1000), nanos: (t++ % 1000) * 1e6 });
  for (let conn = 0; out.length < total; conn++) {
    const c = conn % clients;
    const clientId = `dev-${c}`;
    const sessionId = `s-${conn}`;
    const persistent = c < clients * opts.persistentShare;
    const base = { clientId, mountpoint: '', sessionId };
    const conv: SimEvent[] = [
      { hook: 'on_client_wakeup', ...base, timestamp: at() },
      { hook: 'on_register', ...base, username: '', peerAddr: '10.0.0.1', peerPort: 1000 + c, timestamp: at() },
      { hook: 'on_subscribe', ...base, username: '', topics: [{ topic: `d/${c}/cmd`, qos: 1 }], timestamp: at() },
    ];
    for (let i = 0; i < 3; i++) {
      conv.push({ hook: 'on_publish', ...base, username: '', topic: `d/${c}/t`, qos: 1, payload: Buffer.from('{}'), timestamp: at() });
      conv.push({ hook: 'on_deliver', ...base, username: '', topic: `d/${c}/t`, qos: 1, payload: Buffer.from('{}'), timestamp: at() });
      conv.push({ hook: 'on_delivery_complete', ...base, username: '', topic: `d/${c}/t`, qos: 1, payload: Buffer.from('{}'), timestamp: at() });
    }
    conv.push({ hook: persistent ? 'on_client_offline' : 'on_client_gone', ...base, username: '', reason: 1, timestamp: at() });
    out.push(...conv.filter((e) => !opts.leaveOut.includes(e.hook)));
  }
  return out.slice(0, total);
}

/**
 * Sent over four connections as the plugin's pool would (each event on one of them): arrival
 * order differs from broker order, so a connection's end can arrive after the client's next
 * wakeup. Every tenth end is moved after the next event of the stream to make sure of it.
 */
async function send(sidecar: SidecarFixture, events: SimEvent[]): Promise<void> {
  const reordered = events.slice();
  let ends = 0;
  for (let i = 0; i + 1 < reordered.length; i++) {
    const h = reordered[i]!.hook;
    if ((h === 'on_client_gone' || h === 'on_client_offline') && ends++ % 10 === 0) [reordered[i], reordered[i + 1]] = [reordered[i + 1]!, reordered[i]!];
  }
  const before = sidecar.stats.eventsTotal;
  const sockets: net.Socket[] = await Promise.all([0, 1, 2, 3].map(() => connect(sidecar.port)));
  const parts: Buffer[][] = [[], [], [], []];
  reordered.forEach((e, i) => parts[(i * 7) % 4]!.push(encoder.encodeFrame(e)));
  await Promise.all(sockets.map((s, i) => write(s, Buffer.concat(parts[i]!))));
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, before + events.length));
  for (const s of sockets) s.destroy();
}

async function hookMissing(sidecar: SidecarFixture): Promise<Map<string, number>> {
  const samples = parseExposition(await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text());
  return new Map(samples.filter((s) => s.name === 'vmq_sidecar_hook_missing').map((s) => [`${s.labels.vmq_sidecar_gauge_name}/${s.labels.vernemq_hook}`, s.value]));
}

test('a clean-session-only workload of 5,000 events: no hooks-missing warning, vmq_sidecar_hook_missing 0 everywhere', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' });
  try {
    const events = workload(5000, { persistentShare: 0, leaveOut: [] });
    assert.equal(events.filter((e) => e.hook === 'on_client_offline').length, 0, 'nothing for on_client_offline to report');
    await send(sidecar, events);
    assert.equal(sidecar.stats.eventsTotal, 5000);
    assert.deepEqual(sidecar.status().gaugesMissingHooks, []);
    const missing = await hookMissing(sidecar);
    assert.ok(missing.size >= 4, 'a series per gauge and hook');
    for (const [series, v] of missing) assert.equal(v, 0, series);
    assert.ok(!sidecar.logLines.some((l) => l.msg === WARNING));
  } finally {
    await sidecar.stop();
  }
});

test('on_client_offline truly absent: persistent sessions reconnect without their offline, and the offline gauge is flagged', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' });
  try {
    await send(sidecar, workload(5000, { persistentShare: 0.3, leaveOut: ['on_client_offline'] }));
    assert.deepEqual(sidecar.status().gaugesMissingHooks, [{ gauge: 'mqtt.session.offline', hooks: ['on_client_offline'] }]);
    const missing = await hookMissing(sidecar);
    assert.equal(missing.get('mqtt.session.offline/on_client_offline'), 1);
    assert.equal(missing.get('mqtt.client.connected/on_client_offline'), 0, 'the connected gauge has on_client_gone');
    const warning = sidecar.logLines.find((l) => l.msg === WARNING);
    assert.deepEqual(warning?.missingHooks, ['on_client_offline']);
  } finally {
    await sidecar.stop();
  }
});

test('neither on_client_offline nor on_client_gone configured: both gauges flagged', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' });
  try {
    await send(sidecar, workload(3000, { persistentShare: 0, leaveOut: ['on_client_offline', 'on_client_gone'] }));
    assert.deepEqual(sidecar.status().gaugesMissingHooks, [
      { gauge: 'mqtt.client.connected', hooks: ['on_client_offline', 'on_client_gone'] },
      { gauge: 'mqtt.session.offline', hooks: ['on_client_offline'] },
    ]);
  } finally {
    await sidecar.stop();
  }
});

test('on_client_wakeup not configured: registers show connections that must have woken up', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' });
  try {
    await send(sidecar, workload(2000, { persistentShare: 0, leaveOut: ['on_client_wakeup'] }));
    assert.deepEqual(sidecar.status().gaugesMissingHooks, [
      { gauge: 'mqtt.client.connected', hooks: ['on_client_wakeup'] },
      { gauge: 'mqtt.session.offline', hooks: ['on_client_wakeup'] },
    ]);
  } finally {
    await sidecar.stop();
  }
});

test('the broker attempted the hook: enabled, even though none of its events arrived here', async () => {
  const server = http.createServer((_req, res) => {
    const node = 'node="VerneMQ@127.0.0.1"';
    // All thirteen hooks are served, enabled or not; only a count above 0 says enabled.
    const hooks = ['on_register', 'on_client_wakeup', 'on_client_gone', 'on_client_offline', 'on_publish', 'on_session_expired'];
    const counts: Record<string, number> = { on_client_offline: 40, on_session_expired: 0 };
    res.writeHead(200, { 'content-type': 'text/plain' }).end(hooks.map((h) => `sidecar_events{${node},hook="${h}"} ${counts[h] ?? 1000}\n`).join('') + `active_mqtt_connections{${node}} 0\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const sidecar = await startTestSidecar({ logLevel: 'info', brokerMetricsUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` });
  try {
    await eventually(() => assert.ok(sidecar.status().broker));
    await eventually(async () => assert.ok(((await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/status`)).json()) as { broker: { lastScrape: string | null } }).broker.lastScrape));
    // The offlines were lost on the way (vmq_sidecar.upstream.missing says so), not left out.
    await send(sidecar, workload(5000, { persistentShare: 0.3, leaveOut: ['on_client_offline'] }));
    assert.deepEqual(sidecar.status().gaugesMissingHooks, []);
    assert.ok(!sidecar.logLines.some((l) => l.msg === WARNING));
  } finally {
    await sidecar.stop();
    server.close();
  }
});
