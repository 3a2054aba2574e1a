/**
 * No MQTT 5 count while the broker is failing to send: MQTT 3.1.1 wakeups whose on_register the
 * broker failed to send (as after a sidecar restart, while the plugin's pool comes back) look
 * like MQTT 5 sessions; with the broker's metrics, the scrape that shows the failed sends holds
 * them off. And the pairing decides by broker time: a sidecar whose event loop is blocked past
 * the window still pairs the registers it reads afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import type { SimEvent } from '../../src/simulator/client-model.js';
import { connect, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { UnregisteredWakeups } from '../../src/reconcile/unregistered-wakeups.js';

const encoder = new FrameEncoder();
const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
const wakeup = (clientId: string, sessionId: string, ms: number): SimEvent => ({ hook: 'on_client_wakeup', timestamp: ts(ms), mountpoint: '', clientId, sessionId });
const register = (clientId: string, sessionId: string, ms: number): SimEvent => ({ hook: 'on_register', timestamp: ts(ms), mountpoint: '', clientId, sessionId, peerAddr: '10.0.0.1', peerPort: 1, username: '' });

async function send(sidecar: SidecarFixture, events: SimEvent[]): Promise<void> {
  const before = sidecar.stats.eventsTotal;
  const s = await connect(sidecar.port);
  await write(s, Buffer.concat(events.map((e) => encoder.encodeFrame(e))));
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, before + events.length));
  s.destroy();
}

test('wakeups whose registers the broker failed to send are held off, not counted as MQTT 5; MQTT 5 wakeups outside the failures are', async () => {
  // The broker's counters per hook: what it attempted, and what failed.
  const attempts: Record<string, number> = { on_register: 0, on_client_wakeup: 0 };
  const errors: Record<string, number> = { on_register: 0, on_client_wakeup: 0 };
  let scrapes = 0;
  const server = http.createServer((_req, res) => {
    scrapes++;
    const node = 'node="VerneMQ@127.0.0.1"';
    const lines = Object.keys(attempts).flatMap((h) => [`sidecar_events{${node},hook="${h}"} ${attempts[h]}`, `sidecar_events_error{${node},hook="${h}"} ${errors[h]}`]);
    res.writeHead(200, { 'content-type': 'text/plain' }).end([...lines, `active_mqtt_connections{${node}} 0`, ''].join('\n'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const sidecar = await startTestSidecar(
    { logLevel: 'warn', brokerMetricsUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, brokerScrapeIntervalMs: 300 },
    undefined,
    { wakeupMatch: { windowMs: 1000 } },
  );
  const m = sidecar.component(UnregisteredWakeups)!;
  const sent = (events: SimEvent[]) => {
    for (const e of events) attempts[e.hook] = (attempts[e.hook] ?? 0) + 1;
    return send(sidecar, events);
  };
  try {
    await eventually(() => assert.ok(scrapes >= 1));
    // 3.1.1 connects that went through: wakeup and register.
    const t0 = Date.now();
    await sent(Array.from({ length: 10 }, (_, i) => [wakeup(`ok-${i}`, `so-${i}`, t0 + i), register(`ok-${i}`, `so-${i}`, t0 + i + 1)]).flat());
    // 14 3.1.1 connects whose register the broker failed to send (its pool reconnecting).
    const t1 = Date.now();
    await sent(Array.from({ length: 14 }, (_, i) => wakeup(`lost-${i}`, `sl-${i}`, t1 + i)));
    attempts.on_register! += 14;
    errors.on_register! += 14;
    // The next scrapes see the failures; then, a window later, 5 MQTT 5 clients connect.
    const seen = scrapes;
    await eventually(() => assert.ok(scrapes >= seen + 2));
    await new Promise((r) => setTimeout(r, 1200));
    const t2 = Date.now();
    await sent(Array.from({ length: 5 }, (_, i) => wakeup(`v5-${i}`, '', t2 + i)));
    await sent([register('later', 'slater', t2 + 10), wakeup('later', 'slater', t2 + 9)]);
    await eventually(() => assert.equal(m.summary().pending, 0), 15_000, 100);
    assert.deepEqual({ registered: m.registered, unregistered: m.unregistered, heldOff: m.heldOff }, { registered: 11, unregistered: 5, heldOff: 14 });
  } finally {
    await sidecar.stop();
    server.close();
  }
});

test('a blocked event loop misclassifies nothing: registers read after a block longer than the window still pair', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'warn' }, undefined, { wakeupMatch: { windowMs: 1000 } });
  const m = sidecar.component(UnregisteredWakeups)!;
  try {
    const t0 = Date.now();
    await send(sidecar, [register('r', 'sr', t0)]);
    const wakeups = Array.from({ length: 20 }, (_, i) => wakeup(`c${i}`, `s${i}`, t0 + 1 + i));
    await send(sidecar, wakeups);
    // The registers are in the socket, unread, when the loop blocks for three windows.
    const s = await connect(sidecar.port);
    await write(s, Buffer.concat(wakeups.map((w, i) => encoder.encodeFrame(register(w.clientId as string, w.sessionId as string, t0 + 2 + i)))));
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      // Busy: no timer, no socket read.
    }
    await eventually(() => assert.equal(m.registered, 20), 10_000, 50);
    s.destroy();
    assert.equal(m.unregistered, 0);
  } finally {
    await sidecar.stop();
  }
});
