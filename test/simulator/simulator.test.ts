import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runSimulator } from '../../src/simulator/simulator.js';
import { HOOKS } from '../../src/events/event-types.js';
import { startTestSidecar, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';

let sidecar: SidecarFixture;
before(async () => {
  sidecar = await startTestSidecar({ logLevel: 'warn' });
});
after(async () => {
  await sidecar.stop();
});

test("the simulator's totals equal what the sidecar received, per event type, across 100 connections", async () => {
  const summary = await runSimulator({
    target: { host: '127.0.0.1', port: sidecar.port },
    connections: 100,
    clients: 500,
    seed: 11,
    rate: 0,
    events: 60_000,
  });
  assert.ok(summary.total >= 60_000);
  assert.equal(summary.droppedBacklog, 0);
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, summary.total));
  for (const hook of HOOKS) {
    assert.equal(sidecar.stats.eventsOf(hook), summary.sent[hook] ?? 0, hook);
    // A realistic mix: every hook is exercised.
    assert.ok((summary.sent[hook] ?? 0) > 0, `${hook} was sent`);
  }
  assert.equal(sidecar.stats.connectionsAccepted, 100);
  assert.equal(sidecar.stats.rejectedTotal(), 0);
  assert.equal(sidecar.stats.bytesReceived, summary.bytes);
  await eventually(() => assert.equal(sidecar.stats.connectionsOpen, 0));
});

test('the same seed gives the same events; a rate bound and a duration bound stop the run', async () => {
  const opts = { target: { host: '127.0.0.1', port: sidecar.port }, connections: 4, clients: 50, seed: 3, rate: 0, events: 3000 };
  const a = await runSimulator(opts);
  const b = await runSimulator(opts);
  assert.deepEqual(a.expected.sent, b.expected.sent);
  assert.deepEqual(a.expected.disconnects, b.expected.disconnects);
  assert.deepEqual(a.expected.publishedByQos, b.expected.publishedByQos);

  const started = Date.now();
  const timed = await runSimulator({ ...opts, events: undefined, rate: 2000, durationMs: 500 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5000, `stopped by itself (${elapsed} ms)`);
  // Roughly rate x duration: bounds loose enough for a loaded CI machine.
  assert.ok(timed.total > 200 && timed.total < 1500, `sent ${timed.total}`);
});

test('pre-encoded runs send exactly what they count', async () => {
  const before = sidecar.stats.eventsTotal;
  const s = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 10, clients: 100, seed: 5, rate: 0, events: 20_000, preencode: true });
  await eventually(() => assert.equal(sidecar.stats.eventsTotal - before, s.total));
});

test('a sidecar that goes away mid-run: the simulator stops then, not at the end of its duration, and counts the connections it lost', { timeout: 20_000 }, async () => {
  // A "sidecar" that reads for a while, then resets every connection.
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const killer = setTimeout(() => {
    for (const s of sockets) s.resetAndDestroy();
    server.close();
  }, 300);
  try {
    const t0 = Date.now();
    const summary = await runSimulator({ target: { host: '127.0.0.1', port }, connections: 8, clients: 200, seed: 3, rate: 500, durationMs: 10_000 });
    assert.equal(summary.connectionsLost, 8);
    assert.ok(summary.total > 0);
    // Killed at 300 ms: the run ended soon after, and sent no more than 500 events/s until then.
    assert.ok(Date.now() - t0 < 5_000, `ran ${Date.now() - t0} ms`);
    assert.ok(summary.total < 2_000, `sent ${summary.total}`);
  } finally {
    clearTimeout(killer);
    server.close();
  }
});

test('a sidecar that is still starting: the simulator keeps trying to connect for --connect-timeout', async () => {
  // A port free now, listened on 700 ms after the simulator started.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  let late: SidecarFixture | undefined;
  const starting = new Promise<void>((resolve, reject) =>
    setTimeout(() => {
      startTestSidecar({ logLevel: 'warn', listen: { host: '127.0.0.1', port } })
        .then((s) => {
          late = s;
          resolve();
        })
        .catch(reject);
    }, 700),
  );
  try {
    const s = await runSimulator({ target: { host: '127.0.0.1', port }, connections: 5, clients: 50, seed: 9, rate: 0, events: 500, connectTimeoutMs: 5_000 });
    await starting;
    await eventually(() => assert.equal(late!.stats.eventsTotal, s.total));
    // Without a wait (the library's default), a port nobody listens on is refused at once.
    const t0 = Date.now();
    await assert.rejects(runSimulator({ target: { host: '127.0.0.1', port: 1 }, connections: 1, clients: 1, seed: 1, rate: 0, events: 1 }), { code: 'ECONNREFUSED' });
    assert.ok(Date.now() - t0 < 1000);
  } finally {
    await starting.catch(() => {});
    await late?.stop();
  }
});
