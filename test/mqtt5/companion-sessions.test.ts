/**
 * With the companion plugin, MQTT 5 wakeups pair with its registers: they stop counting as
 * unregistered wakeups (MQTT 5 blind spots), and a wakeup left unpaired is then reported as a
 * lost register, not as an MQTT 5 session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { connect, startTestSidecar, write } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText } from '../../src/reconcile/prometheus-text.js';

const encoder = new FrameEncoder();

test('MQTT 5 wakeups with the companion\'s registers are registered; one without is a lost register', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' }, undefined, { wakeupMatch: { windowMs: 1000 } });
  try {
    const admin = `http://127.0.0.1:${sidecar.adminAddress!.port}`;
    const socket = await connect(sidecar.port);
    const now = Date.now();
    const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
    const frames: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const sessionId = `0b6f3a0e-0000-4000-8000-${String(i).padStart(12, '0')}`;
      frames.push(encoder.encodeFrame({ hook: 'on_client_wakeup', timestamp: ts(now + i), mountpoint: '', clientId: `v311-${i}`, sessionId }));
      frames.push(encoder.encodeFrame({ hook: 'on_register', timestamp: ts(now + i + 1), mountpoint: '', clientId: `v311-${i}`, sessionId, peerAddr: '10.0.0.1', peerPort: 1, username: 'u' }));
    }
    for (let i = 0; i < 3; i++) {
      // An MQTT 5 connect with the companion: the plugin's wakeup (session_id "") and the
      // companion's register (on_register_m5), registers first as the pool may deliver them.
      frames.push(encoder.encodeMqtt5Frame({ hook: 'on_register', timestamp: ts(now + 20 + i), mountpoint: '', clientId: `v5-${i}`, peerAddr: '10.0.0.2', peerPort: 2, username: 'u5' }));
      frames.push(encoder.encodeFrame({ hook: 'on_client_wakeup', timestamp: ts(now + 20 + i), mountpoint: '', clientId: `v5-${i}`, sessionId: '' }));
    }
    // One MQTT 5 wakeup whose register never arrives.
    frames.push(encoder.encodeFrame({ hook: 'on_client_wakeup', timestamp: ts(now + 40), mountpoint: '', clientId: 'v5-lost', sessionId: '' }));
    await write(socket, Buffer.concat(frames));
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, 15));

    const unregistered = async () =>
      parsePrometheusText(await (await fetch(`${admin}/metrics`)).text()).find((s) => s.name === 'vmq_sidecar_session_unregistered_wakeups_total')?.value;
    await eventually(async () => assert.equal(await unregistered(), 1), 10_000, 100);
    const status = (await (await fetch(`${admin}/status`)).json()) as {
      sessions: { unregisteredWakeups: { registered: number; unregistered: number } };
      mqtt5Companion: { seen: boolean; events: Record<string, number> };
    };
    assert.equal(status.sessions.unregisteredWakeups.registered, 7);
    assert.equal(status.sessions.unregisteredWakeups.unregistered, 1);
    assert.equal(status.mqtt5Companion.seen, true);
    assert.equal(status.mqtt5Companion.events.on_register, 3);
    const warnings = sidecar.logLines.filter((l) => l.level === 'warn' && String(l.msg).includes('without on_register'));
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]!.msg), /lost on the way, not MQTT 5 blind spots/);
    // The connected gauge counts the MQTT 5 clients like the others.
    const connected = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text())
      .filter((s) => s.name === 'mqtt_client_connected')
      .reduce((a, s) => a + s.value, 0);
    assert.equal(connected, 8);
    socket.destroy();
  } finally {
    await sidecar.stop();
  }
});

test('until the companion is seen, /status says so', async () => {
  const sidecar = await startTestSidecar({ logLevel: 'info' });
  try {
    const status = (await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/status`)).json()) as { mqtt5Companion: { seen: boolean; firstSeenAt: string | null } };
    assert.deepEqual([status.mqtt5Companion.seen, status.mqtt5Companion.firstSeenAt], [false, null]);
    assert.ok(sidecar.logLines.some((l) => l.level === 'info' && String(l.msg).includes('(vmq_events_sidecar_m5): not seen yet')));
  } finally {
    await sidecar.stop();
  }
});
