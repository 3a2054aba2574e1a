import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulator } from '../../src/simulator/simulator.js';
import { startTestSidecar } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';
import type { SidecarEvent } from '../../src/events/event-types.js';
import { UnregisteredWakeups } from '../../src/reconcile/unregistered-wakeups.js';

test("--mqtt5-share: the sidecar's unregistered wakeups equal the simulator's MQTT 5 wakeups, over a reordering pool", async () => {
  const sidecar = await startTestSidecar({ logLevel: 'warn' }, undefined, { wakeupMatch: { windowMs: 3000 } });
  try {
    // 50 connections, a random one per event: a register often arrives before or after its wakeup.
    const summary = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 50, clients: 400, seed: 21, rate: 0, events: 40_000, mqtt5Share: 0.25 });
    assert.equal(summary.droppedBacklog, 0);
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, summary.total));
    const truth = summary.expected.mqtt5Wakeups;
    assert.ok(truth > 100, `MQTT 5 wakeups sent: ${truth}`);
    const admin = `http://127.0.0.1:${sidecar.adminAddress!.port}`;
    await eventually(
      async () => {
        const samples = parseExposition(await (await fetch(`${admin}/metrics`)).text());
        assert.equal(samples.find((s) => s.name === 'vmq_sidecar_session_unregistered_wakeups_total')?.value, truth);
        assert.equal(sidecar.component(UnregisteredWakeups)!.summary().pending, 0);
      },
      15_000,
      200,
    );

    // The MQTT 5 clients look as the real plugin shows them: session events only, no session_id,
    // no username, every disconnect reason unspecified.
    const events = sidecar.capture.events as SidecarEvent[];
    const mqtt5 = new Set(events.filter((e) => e.hook === 'on_client_wakeup' && e.sessionId === '').map((e) => e.clientId));
    assert.ok(mqtt5.size > 50 && mqtt5.size < 150, `${mqtt5.size} of 400 clients`);
    const perClient = new Set(['on_register', 'on_register_failed', 'on_publish', 'on_subscribe', 'on_unsubscribe', 'on_deliver', 'on_delivery_complete']);
    const seen = new Set<string>();
    for (const e of events) {
      if (!mqtt5.has(e.clientId)) continue;
      seen.add(e.hook);
      assert.ok(!perClient.has(e.hook), `${e.hook} for MQTT 5 client ${e.clientId}`);
      if (e.hook === 'on_client_offline' || e.hook === 'on_client_gone') {
        assert.equal(e.reasonName, 'unspecified');
        assert.equal(e.username, '');
      }
      if ('sessionId' in e) assert.equal(e.sessionId, '');
    }
    for (const h of ['on_client_wakeup', 'on_client_offline', 'on_client_gone', 'on_session_expired', 'on_offline_message']) assert.ok(seen.has(h), `MQTT 5 clients produce ${h}`);
  } finally {
    await sidecar.stop();
  }
});
