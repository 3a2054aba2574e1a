/**
 * The sidecar's own process and event loop as metrics: a loop kept busy shows as active time,
 * as utilization and as delay in the window it happened in; an idle one reads about 0.
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

test('a loop blocked for 150 ms: active time, the window\'s utilization and its delay say so; idle windows read about 0', async () => {
  const store = new MetricStore();
  const runtime = new RuntimeMetrics(400);
  runtime.registerMetrics(store);
  runtime.start();
  try {
    // An idle window first.
    await sleep(450);
    const idle = runtime.status().runtime as { eventLoopUtilization: number; eventLoopDelayMaxMs: number };
    // Loose bounds: the suite runs files in parallel on two cores.
    assert.ok(idle.eventLoopUtilization < 0.5, JSON.stringify(idle));
    assert.ok(idle.eventLoopDelayMaxMs < 100, JSON.stringify(idle));
    assert.ok(read(store, 'nodejs.eventloop.delay.p99') < 0.1);

    const activeBefore = read(store, 'nodejs.eventloop.time', ['nodejs.eventloop.state', 'active']);
    const cpuBefore = read(store, 'process.cpu.time', ['cpu.mode', 'user']);
    await sleep(50);
    busy(150);
    // The window the block fell in, or the next one, closes within 900 ms.
    let seen = { utilization: 0, max: 0 };
    for (let i = 0; i < 9 && seen.max < 0.1; i++) {
      await sleep(100);
      const w = runtime.status().runtime as { eventLoopUtilization: number | null; eventLoopDelayMaxMs: number | null };
      seen = { utilization: Math.max(seen.utilization, w.eventLoopUtilization ?? 0), max: Math.max(seen.max, (w.eventLoopDelayMaxMs ?? 0) / 1000) };
    }
    assert.ok(seen.max >= 0.12 && seen.max < 0.4, `delay max ${seen.max} s`);
    assert.ok(seen.utilization >= 0.3, `utilization ${seen.utilization}`);
    assert.ok(read(store, 'nodejs.eventloop.delay.max') >= 0.12);
    assert.ok(read(store, 'nodejs.eventloop.delay.p99') <= read(store, 'nodejs.eventloop.delay.max'));
    assert.ok(read(store, 'nodejs.eventloop.time', ['nodejs.eventloop.state', 'active']) - activeBefore >= 0.14);
    // CPU time, not wall time: the busy loop may share its core.
    assert.ok(read(store, 'process.cpu.time', ['cpu.mode', 'user']) - cpuBefore >= 0.03);
    assert.ok(read(store, 'process.memory.usage') > 10 * 1024 * 1024);
  } finally {
    runtime.stop();
  }
});
