import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { connect, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';

const encoder = new FrameEncoder();

async function send(sidecar: SidecarFixture, hook: string, n: number): Promise<void> {
  const before = sidecar.stats.eventsTotal;
  const s = await connect(sidecar.port);
  const now = Math.floor(Date.now() / 1000);
  await write(s, Buffer.concat(Array.from({ length: n }, (_, i) => encoder.encodeFrame({ hook: hook as 'on_client_wakeup', clientId: `c${i}`, mountpoint: '', timestamp: { seconds: now, nanos: i }, reason: 2 }))));
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, before + n));
  s.destroy();
}

test('/status shows which hooks arrive; a gauge missing its hooks is flagged, then cleared', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' }, undefined, { hookCoverage: { minEvents: 10, graceMs: 5 * 60_000 } });
  try {
    const admin = `http://127.0.0.1:${sidecar.adminAddress!.port}`;
    await send(sidecar, 'on_client_wakeup', 20);
    await send(sidecar, 'on_publish', 5);
    // The same 20 clients wake up again: their first connections ended without an offline or a
    // gone, the evidence that those hooks are not sent (hook-coverage-evidence.test.ts has more).
    await send(sidecar, 'on_client_wakeup', 20);
    const status = (await (await fetch(`${admin}/status`)).json()) as {
      events: { byHook: Record<string, { count: number; lastSeen: string | null }> };
      gaugesMissingHooks: { gauge: string; hooks: string[] }[];
    };
    assert.equal(status.events.byHook.on_client_wakeup!.count, 40);
    assert.equal(status.events.byHook.on_publish!.count, 5);
    assert.ok(status.events.byHook.on_client_wakeup!.lastSeen);
    assert.equal(status.events.byHook.on_client_gone!.lastSeen, null);
    assert.deepEqual(status.gaugesMissingHooks, [
      { gauge: 'mqtt.client.connected', hooks: ['on_client_offline', 'on_client_gone'] },
      { gauge: 'mqtt.session.offline', hooks: ['on_client_offline'] },
    ]);
    const warning = sidecar.logLines.find((l) => l.msg === 'gauge without the hooks it is derived from: enable them in vmq_events_sidecar.hooks');
    assert.deepEqual(warning?.missingHooks, ['on_client_offline', 'on_client_gone']);
    let samples = parseExposition(await (await fetch(`${admin}/metrics`)).text());
    const missing = (gauge: string, hook: string) => samples.find((s) => s.name === 'vmq_sidecar_hook_missing' && s.labels.vmq_sidecar_gauge_name === gauge && s.labels.vernemq_hook === hook)?.value;
    assert.equal(missing('mqtt.client.connected', 'on_client_offline'), 1);
    assert.equal(missing('mqtt.client.connected', 'on_client_wakeup'), 0);

    await send(sidecar, 'on_client_offline', 1);
    samples = parseExposition(await (await fetch(`${admin}/metrics`)).text());
    assert.equal(missing('mqtt.client.connected', 'on_client_offline'), 0);
    assert.equal(missing('mqtt.session.offline', 'on_client_offline'), 0);
    assert.ok(sidecar.logLines.some((l) => l.msg === 'gauge hooks now arriving' && l.gauge === 'mqtt.client.connected'));
  } finally {
    await sidecar.stop();
  }
});

test('a quiet start is not flagged: too few events yet', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' });
  try {
    await send(sidecar, 'on_client_wakeup', 5);
    assert.deepEqual(sidecar.status().gaugesMissingHooks, []);
  } finally {
    await sidecar.stop();
  }
});
