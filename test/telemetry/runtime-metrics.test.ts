/**
 * The sidecar's own process and event loop as metrics: a loop kept busy shows as active time,
 * as utilization and as delay in the window it happened in, and no longer in a later idle one;
 * CPU time and memory are the process's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MetricStore } from '../../src/metrics/metric-store.js';
import { RuntimeMetrics } from '../../src/telemetry/runtime-metrics.js';

function read(store: MetricStore, name: string, attr?: [string, string]): number {
  store.beforeCollect();
  const family = store.families.find((f) => f.def.name === name);
  assert.ok(family, name);
  const series = (family.all() as { attributes: Record<string, unknown>; value: number }[]).find((s) => attr === undefined || s.attributes[attr[0]] === attr[1]);
  assert.ok(series, `${name} ${attr?.join('=') ?? ''}`);
  return series.value;
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

type Window = { eventLoopUtilization: number | null; eventLoopDelayMaxMs: number | null; eventLoopDelayP99Ms: number | null };

// No figure here depends on how fast this machine is or how busy: a loop blocked for 150 ms is
// blocked at least that long whatever else runs, and the window it fell in is compared with a
// later idle one rather than with a bound. The suite runs beside other processes.
test('a loop blocked for 150 ms shows as delay and active time in the window it fell in, not in the next idle one', async () => {
  const store = new MetricStore();
  const runtime = new RuntimeMetrics(400);
  runtime.registerMetrics(store);
  runtime.start();
  try {
    const window = () => runtime.status().runtime as Window;
    assert.equal(window().eventLoopUtilization, null, 'no window before the first closes');
    // Timers fire in order of expiry: by the time this one does, the 400 ms window has closed.
    await sleep(450);
    assert.notEqual(window().eventLoopUtilization, null);

    const activeBefore = read(store, 'nodejs.eventloop.time', ['nodejs.eventloop.state', 'active']);
    await sleep(50);
    busy(150);
    // The window closes right after the block (its timer was due during it) or within 400 ms.
    let blocked: Window | undefined;
    for (let i = 0; i < 9 && blocked === undefined; i++) {
      await sleep(100);
      if ((window().eventLoopDelayMaxMs ?? 0) >= 120) blocked = window();
    }
    assert.ok(blocked, `the block shows as delay: ${JSON.stringify(window())}`);
    assert.ok(read(store, 'nodejs.eventloop.delay.max') >= 0.12);
    assert.ok(read(store, 'nodejs.eventloop.delay.p99') <= read(store, 'nodejs.eventloop.delay.max'));
    assert.ok(read(store, 'nodejs.eventloop.time', ['nodejs.eventloop.state', 'active']) - activeBefore >= 0.14);

    // A later window, with the loop idle, no longer carries the block.
    await sleep(500);
    const idle = window();
    assert.ok(idle.eventLoopDelayMaxMs! < blocked.eventLoopDelayMaxMs!, `idle ${JSON.stringify(idle)}, blocked ${JSON.stringify(blocked)}`);
    assert.ok(idle.eventLoopUtilization! < blocked.eventLoopUtilization!, `idle ${JSON.stringify(idle)}, blocked ${JSON.stringify(blocked)}`);
    assert.ok(read(store, 'nodejs.eventloop.delay.max') < blocked.eventLoopDelayMaxMs! / 1000);
  } finally {
    runtime.stop();
  }
});

test('process.cpu.time is the process\'s own CPU time, by mode; process.memory.usage its resident memory', () => {
  const store = new MetricStore();
  new RuntimeMetrics(400).registerMetrics(store);
  const before = process.cpuUsage();
  const user = read(store, 'process.cpu.time', ['cpu.mode', 'user']);
  const system = read(store, 'process.cpu.time', ['cpu.mode', 'system']);
  const after = process.cpuUsage();
  assert.ok(before.user / 1e6 <= user && user <= after.user / 1e6, `user ${user} s`);
  assert.ok(before.system / 1e6 <= system && system <= after.system / 1e6, `system ${system} s`);
  busy(20);
  assert.ok(read(store, 'process.cpu.time', ['cpu.mode', 'user']) >= user, 'a counter: it never goes down');
  const rss = process.memoryUsage.rss();
  const memory = read(store, 'process.memory.usage');
  assert.ok(memory > rss / 2 && memory < rss * 2, `${memory} bytes against ${rss}`);
});
