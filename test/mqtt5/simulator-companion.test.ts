/**
 * `simulate --mqtt5-companion`: the MQTT 5 clients' per-client events arrive as the companion's
 * messages; the sidecar counts them under network.protocol.version=5, equal to what was sent, and
 * pairs every MQTT 5 wakeup with a register.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulator } from '../../src/simulator/simulator.js';
import { startTestSidecar } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText } from '../../src/reconcile/prometheus-text.js';
import { UnregisteredWakeups } from '../../src/reconcile/unregistered-wakeups.js';

test('--mqtt5-share with --mqtt5-companion: MQTT 5 counts equal what was sent, no unregistered wakeups', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'warn' }, undefined, { wakeupMatch: { windowMs: 2000 } });
  try {
    const summary = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 20, clients: 300, seed: 26, rate: 0, events: 20_000, mqtt5Share: 0.3, mqtt5Companion: true });
    assert.equal(summary.droppedBacklog, 0);
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, summary.total));
    const sent5 = summary.expected.mqtt5Sent;
    for (const h of ['on_register', 'on_publish', 'on_subscribe', 'on_deliver']) assert.ok((sent5[h as keyof typeof sent5] ?? 0) > 20, `${h}: ${sent5[h as keyof typeof sent5]}`);
    assert.equal(summary.expected.mqtt5Wakeups, 0);
    const events = sidecar.capture.events;
    for (const h of Object.keys(sent5)) assert.equal(events.filter((e) => e.hook === h && e.protocolVersion === '5').length, sent5[h as keyof typeof sent5], h);
    assert.ok(!events.some((e) => e.protocolVersion === '5' && (e.hook === 'on_delivery_complete' || e.hook === 'on_register_failed')));

    const admin = `http://127.0.0.1:${sidecar.adminAddress!.port}`;
    const samples = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text());
    const sum = (name: string, version: string) => samples.filter((s) => s.name === name && s.labels.network_protocol_version === version).reduce((a, s) => a + s.value, 0);
    assert.equal(sum('mqtt_client_registrations_total', '5'), sent5.on_register);
    assert.equal(sum('mqtt_message_published_total', '5'), sent5.on_publish);
    assert.equal(sum('mqtt_message_delivered_total', '5'), sent5.on_deliver);
    assert.equal(sum('mqtt_message_published_total', '5') + sum('mqtt_message_published_total', '3.1.1'), summary.sent.on_publish);
    await eventually(
      () => {
        const w = sidecar.component(UnregisteredWakeups)!.summary();
        assert.equal(w.pending, 0);
        assert.equal(w.unregistered, 0);
      },
      15_000,
      200,
    );
  } finally {
    await sidecar.stop();
  }
});
