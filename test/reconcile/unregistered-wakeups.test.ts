import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnregisteredWakeups, type LimitedLogger } from '../../src/reconcile/unregistered-wakeups.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

const T0 = 1_764_133_200;

function wakeup(clientId: string, sessionId: string, brokerMs: number, mountpoint = ''): SidecarEvent {
  return { hook: 'on_client_wakeup', hookIndex: 2, timeSec: Math.floor(brokerMs / 1000), timeNanos: (brokerMs % 1000) * 1e6, timeMissing: false, truncatedItems: 0, mountpoint, clientId, sessionId };
}

function register(clientId: string, sessionId: string, brokerMs: number, mountpoint = ''): SidecarEvent {
  return {
    hook: 'on_register',
    hookIndex: 0,
    timeSec: Math.floor(brokerMs / 1000),
    timeNanos: (brokerMs % 1000) * 1e6,
    timeMissing: false,
    truncatedItems: 0,
    mountpoint,
    clientId,
    sessionId,
    peerAddr: '10.0.0.1',
    peerPort: 1,
    username: '',
    userProperties: {},
  };
}

class Warnings implements LimitedLogger {
  lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  private next = 0;
  limited(_level: 'warn', _key: string, intervalMs: number, msg: string, fields?: Record<string, unknown>): void {
    // Rate limited by the number of calls here: the real logger limits by its clock.
    if (this.lines.length === 0 || this.next <= 0) {
      this.lines.push({ msg, fields });
      this.next = intervalMs;
    }
  }
}

const B = T0 * 1000;
const OPTS = { windowMs: 5000, registerFlowMs: 60_000, maxPending: 1000 };

/** Any other event: it moves broker time (the watermark) on. */
function publish(brokerMs: number): SidecarEvent {
  return { hook: 'on_publish', hookIndex: 2, timeSec: Math.floor(brokerMs / 1000), timeNanos: (brokerMs % 1000) * 1e6, timeMissing: false, truncatedItems: 0, mountpoint: '', clientId: 'p', sessionId: 'sp' } as unknown as SidecarEvent;
}

test('a register paired by session_id, whichever arrives first; the unpaired wakeup is decided once broker time passes its window', () => {
  const log = new Warnings();
  const m = new UnregisteredWakeups(log, OPTS);
  m.consume(wakeup('a', 'sa', B), 0);
  m.consume(register('b', 'sb', B + 1), 1); // register before its wakeup
  m.consume(wakeup('b', 'sb', B), 2);
  m.consume(wakeup('v5-sensor-7', '', B + 2), 3);
  m.consume(publish(B + 4000), 4);
  m.consume(register('a', 'sa', B + 1), 5); // after later events: still within the window
  m.consume(publish(B + 5001), 6);
  assert.deepEqual({ registered: m.registered, unregistered: m.unregistered }, { registered: 2, unregistered: 0 }, 'not decided before broker time passes its window');
  m.consume(publish(B + 5002), 7);
  assert.equal(m.unregistered, 1);
  assert.equal(m.summary().share, 1 / 3);
  assert.equal(m.summary().pending, 0);
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0]!.msg, /MQTT 5/);
  assert.match(log.lines[0]!.msg, /publishes/);
  // The sidecar's own log names no client (README, "Personal data").
  assert.doesNotMatch(JSON.stringify(log.lines[0]!.fields), /v5-sensor-7/);
});

test('without session_id: paired by mountpoint + client id within the broker-time window', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  m.consume(wakeup('c1', '', B), 0);
  m.consume(register('c1', '', B + 3), 10); // same connect
  m.consume(wakeup('c2', '', B), 20);
  m.consume(register('c2', '', B + 60_000), 30); // a later connect of the same client: no pair
  m.consume(wakeup('c3', '', B, 'tenant-a'), 40);
  m.consume(register('c3', '', B, 'tenant-b'), 50); // another mountpoint: another client
  m.consume(publish(B + 70_000), 60);
  assert.equal(m.registered, 1);
  assert.equal(m.unregistered, 2);
});

test('an MQTT 5 wakeup (session_id "") is not paired with a 3.1.1 register that carries one', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  m.consume(register('same-id', 'uuid-1', B), 0);
  m.consume(wakeup('same-id', '', B), 1);
  m.consume(publish(B + 10_000), 2);
  assert.equal(m.unregistered, 1);
});

test('nothing is counted while no on_register flows (hook not enabled)', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  for (let i = 0; i < 10; i++) m.consume(wakeup(`c${i}`, '', B + i), i);
  m.consume(publish(B + 10_000), 10);
  assert.equal(m.unregistered, 0);
  assert.equal(m.summary().withoutRegisterHook, 10);
  assert.equal(m.summary().registersFlowing, false);
  // A register stamped more than registerFlowMs before the wakeup does not count as flowing.
  m.consume(register('x', 'sx', B + 10_000), 11);
  m.consume(wakeup('late', '', B + 10_000 + 61_000), 12);
  m.consume(publish(B + 10_000 + 61_000 + 5001), 13);
  assert.equal(m.unregistered, 0);
  assert.equal(m.summary().withoutRegisterHook, 11);
});

test('a busy event loop misclassifies nothing: a register read long after its wakeup, with no later-stamped events in between, still pairs', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  m.consume(register('r', 'sr', B), 0);
  m.consume(wakeup('c', 'sc', B + 10), 0);
  // 20 s of the sidecar's clock pass, with events arriving (a saturated loop): none stamped past the window.
  for (let t = 1000; t <= 20_000; t += 1000) {
    m.consume(publish(B + 10 + t / 10), t - 1);
    m.sweep(t);
  }
  m.consume(register('c', 'sc', B + 11), 20_500);
  assert.deepEqual({ registered: m.registered, unregistered: m.unregistered }, { registered: 1, unregistered: 0 });
});

test('one plugin connection read late holds decisions back: its register, behind the others\' later events, still pairs', () => {
  // Connection B's queue is read late: the latest broker time read from it stays behind.
  let low: number | undefined = B;
  const pool = { connectionsAccepted: 2, connectionsOpen: 2, lastAcceptedAt: 0, lastClosedAt: 0, lowWatermark: () => low };
  const m = new UnregisteredWakeups(null, OPTS, { pool });
  m.consume(register('r', 'sr', B), 0);
  m.consume(wakeup('c', 'sc', B + 10), 1);
  m.consume(publish(B + 5000), 2);
  assert.equal(m.summary().pending, 2, 'nothing decided before the first sweep has looked at the connections');
  m.sweep(1000);
  m.consume(publish(B + 20_000), 3); // connection A is 20 s ahead
  m.sweep(2000);
  assert.equal(m.unregistered, 0, 'B has not been read past the wakeup\'s window');
  m.consume(register('c', 'sc', B + 11), 4); // from B, at last
  low = B + 20_000;
  m.sweep(3000);
  assert.deepEqual({ registered: m.registered, unregistered: m.unregistered }, { registered: 1, unregistered: 0 });
  // An idle connection (nothing received since the last sweep) holds nothing back.
  low = undefined;
  m.consume(wakeup('mqtt5', '', B + 21_000), 5);
  m.consume(publish(B + 30_000), 6);
  m.sweep(4000);
  assert.equal(m.unregistered, 1);
});

test('a quiet spell: with no event at all for two sweeps and a window of the sidecar\'s clock, broker time moves with it', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  m.consume(register('r', 'sr', B), 0);
  m.consume(wakeup('mqtt5', '', B), 10);
  m.sweep(1000); // events since the last sweep: not quiet
  m.sweep(2000);
  m.sweep(3000);
  assert.equal(m.unregistered, 0, 'two quiet sweeps, but not yet a window since the last event');
  m.sweep(5010);
  assert.equal(m.unregistered, 1);
  assert.equal(m.summary().withoutRegisterHook, 0);
});

test('held off while the broker reports failed register sends: a wakeup waits for the scrape that covers it', () => {
  let knownUntil = B;
  const m = new UnregisteredWakeups(null, OPTS, { broker: { knownUntil: () => knownUntil } });
  m.consume(register('r', 'sr', B), 0);
  for (let i = 0; i < 14; i++) m.consume(wakeup(`v311-${i}`, `s${i}`, B + 1000 + i), 1); // registers failed
  m.consume(publish(B + 20_000), 2);
  assert.equal(m.summary().pending, 15, 'broker time has passed, but the broker has not reported on it yet (14 wakeups, 1 register)');
  // The scrape at B + 15 s: register sends failed since the one at B.
  m.holdOff(B - 5000, B + 15_000 + 5000);
  knownUntil = B + 15_000;
  m.consume(wakeup('mqtt5', '', B + 21_000), 3);
  m.consume(publish(B + 40_000), 4);
  assert.equal(m.heldOff, 14);
  assert.equal(m.unregistered, 0);
  assert.equal(m.summary().pending, 1, 'the MQTT 5 wakeup waits for the next scrape');
  knownUntil = B + 30_000;
  m.sweep(0);
  assert.equal(m.unregistered, 1, 'outside the failures: counted');
  // Without broker reports (scrapes failing) nothing waits.
  const n = new UnregisteredWakeups(null, OPTS, { broker: { knownUntil: () => undefined } });
  n.consume(register('r', 'sr', B), 0);
  n.consume(wakeup('mqtt5', '', B), 1);
  n.consume(publish(B + 6000), 2);
  assert.equal(n.unregistered, 1);
});

test('held off while the plugin\'s pool reconnects: after a connection is lost, and after a restart from a snapshot', () => {
  const pool = { connectionsAccepted: 4, connectionsOpen: 4, lastAcceptedAt: B - 60_000, lastClosedAt: 0 };
  const m = new UnregisteredWakeups(null, OPTS, { pool, restarted: () => false });
  m.consume(register('r', 'sr', B), 0);
  m.consume(wakeup('before', '', B + 100), 1);
  m.consume(publish(B + 6000), 2);
  assert.equal(m.unregistered, 1, 'a first start holds nothing for the pool it opened');
  // One connection lost at B + 10 s, back at B + 12 s: registers cast on it meanwhile are lost.
  pool.connectionsOpen = 3;
  pool.lastClosedAt = B + 10_000;
  m.sweep(0);
  m.consume(wakeup('lost-register', '', B + 11_000), 3);
  pool.connectionsAccepted = 5;
  pool.connectionsOpen = 4;
  pool.lastAcceptedAt = B + 12_000;
  m.sweep(0);
  m.consume(wakeup('after', '', B + 12_500), 4);
  m.consume(publish(B + 20_000), 5);
  assert.deepEqual({ unregistered: m.unregistered, heldOff: m.heldOff }, { unregistered: 2, heldOff: 1 });

  // A restarted process: the pool was there before it, every connection is a return.
  const pool2 = { connectionsAccepted: 0, connectionsOpen: 0, lastAcceptedAt: 0, lastClosedAt: 0 };
  const r = new UnregisteredWakeups(null, OPTS, { pool: pool2, restarted: () => true });
  Object.assign(pool2, { connectionsAccepted: 1, connectionsOpen: 1, lastAcceptedAt: B });
  r.consume(register('r', 'sr', B), 0);
  r.consume(wakeup('w1', '', B + 500), 1);
  Object.assign(pool2, { connectionsAccepted: 2, connectionsOpen: 2, lastAcceptedAt: B + 2000 });
  r.sweep(0);
  r.consume(wakeup('w2', '', B + 3000), 2);
  r.consume(publish(B + 9000), 3);
  assert.deepEqual({ unregistered: r.unregistered, heldOff: r.heldOff }, { unregistered: 1, heldOff: 1 }, 'stamped before the last return: held off');
});

test('memory is bounded: past maxPending new events are counted as overflow, and decided ones free room', () => {
  const m = new UnregisteredWakeups(null, { ...OPTS, maxPending: 100 });
  m.consume(register('r', 'sr', B), 0);
  for (let i = 0; i < 150; i++) m.consume(wakeup(`c${i}`, '', B), 1);
  assert.equal(m.summary().pending, 100);
  assert.equal(m.overflow, 51);
  m.consume(publish(B + 5001), 2);
  assert.equal(m.summary().pending, 0);
  assert.equal(m.unregistered, 99);
  for (let i = 0; i < 50; i++) m.consume(wakeup(`d${i}`, '', B + 5002), 3);
  assert.equal(m.overflow, 51);
});

test('many events: the queue is compacted and every decision is made once', () => {
  const m = new UnregisteredWakeups(null, { ...OPTS, maxPending: 1_000_000 });
  let arrival = 0;
  for (let i = 0; i < 20_000; i++) {
    arrival += 1;
    m.consume(wakeup(`c${i}`, `s${i}`, B + i), arrival);
    if (i % 4 !== 0) m.consume(register(`c${i}`, `s${i}`, B + i), arrival);
  }
  m.consume(publish(B + 30_000), arrival + 1);
  assert.equal(m.registered, 15_000);
  assert.equal(m.unregistered, 5000);
  assert.equal(m.summary().pending, 0);
});
