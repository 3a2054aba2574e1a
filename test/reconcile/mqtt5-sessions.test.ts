/**
 * The "Done when" of MQTT 5 visibility: a scripted stream, as the plugin's pool delivers it
 * (events spread over connections, each register arriving after its wakeup), ends with the
 * MQTT 5 sessions counted on /metrics and their share in /status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import type { SimEvent } from '../../src/simulator/client-model.js';
import { connect, startTestSidecar, write } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';

const encoder = new FrameEncoder();

test('10 registered and 5 MQTT 5 sessions over several connections, registers after wakeups: 5 unregistered wakeups', async () => {
  // A short window keeps the test fast; the pairing is the same as with the default 5 s.
  const sidecar = await startTestSidecar({ logLevel: 'info' }, undefined, { wakeupMatch: { windowMs: 1500 } });
  try {
    const admin = `http://127.0.0.1:${sidecar.adminAddress!.port}`;
    const sockets = await Promise.all([0, 1, 2, 3].map(() => connect(sidecar.port)));
    const now = Date.now();
    const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
    const wakeups: SimEvent[] = [];
    const registers: SimEvent[] = [];
    for (let i = 0; i < 10; i++) {
      // As VerneMQ fires them for an MQTT 3.1.1 connect: wakeup, then register, one session_id.
      const sessionId = `0b6f3a0e-0000-4000-8000-${String(i).padStart(12, '0')}`;
      wakeups.push({ hook: 'on_client_wakeup', timestamp: ts(now + i), mountpoint: '', clientId: `v311-${i}`, sessionId });
      registers.push({ hook: 'on_register', timestamp: ts(now + i + 1), mountpoint: '', clientId: `v311-${i}`, sessionId, peerAddr: '10.0.0.1', peerPort: 40000 + i, username: 'u' });
    }
    for (let i = 0; i < 5; i++) {
      // An MQTT 5 connect: a wakeup with session_id "" and nothing else.
      wakeups.push({ hook: 'on_client_wakeup', timestamp: ts(now + 20 + i), mountpoint: '', clientId: `v5-${i}`, sessionId: '' });
    }
    // Wakeups spread over the connections, all arrived before any register is sent.
    await Promise.all(sockets.map((s, k) => write(s, Buffer.concat(wakeups.filter((_, i) => i % sockets.length === k).map((e) => encoder.encodeFrame(e))))));
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, 15));
    await Promise.all(sockets.map((s, k) => write(s, Buffer.concat(registers.filter((_, i) => (i + 1) % sockets.length === k).map((e) => encoder.encodeFrame(e))))));
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, 25));

    const unregistered = async () =>
      parseExposition(await (await fetch(`${admin}/metrics`)).text()).find((s) => s.name === 'vmq_sidecar_session_unregistered_wakeups_total')?.value;
    await eventually(async () => assert.equal(await unregistered(), 5), 10_000, 100);
    const status = (await (await fetch(`${admin}/status`)).json()) as { sessions: { unregisteredWakeups: { registered: number; unregistered: number; share: number; pending: number } } };
    assert.deepEqual(
      { ...status.sessions.unregisteredWakeups, share: Number(status.sessions.unregisteredWakeups.share.toFixed(3)) },
      { decided: 15, registered: 10, unregistered: 5, share: 0.333, withoutRegisterHook: 0, heldOff: 0, pending: 0, overflow: 0, registersFlowing: true },
    );
    const warnings = sidecar.logLines.filter((l) => l.level === 'warn' && String(l.msg).includes('without on_register'));
    assert.equal(warnings.length, 1, 'one WARN, rate-limited');
    assert.match(String(warnings[0]!.msg), /MQTT 5 sessions/);
    for (const s of sockets) s.destroy();
  } finally {
    await sidecar.stop();
  }
});
