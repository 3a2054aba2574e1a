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

test('a register paired by session_id, whichever arrives first; the unpaired wakeup is decided after the window', () => {
  const log = new Warnings();
  const m = new UnregisteredWakeups(log, OPTS);
  m.consume(wakeup('a', 'sa', B), 0);
  m.consume(register('b', 'sb', B + 1), 1); // register before its wakeup
  m.consume(wakeup('b', 'sb', B), 2);
  m.consume(wakeup('mqtt5', '', B + 2), 3);
  m.consume(register('a', 'sa', B + 1), 4000); // 4 s late: still within the window
  m.sweep(5002);
  assert.deepEqual({ registered: m.registered, unregistered: m.unregistered }, { registered: 2, unregistered: 0 }, 'not decided before its window ends');
  m.sweep(5003);
  assert.equal(m.unregistered, 1);
  assert.equal(m.summary().share, 1 / 3);
  assert.equal(m.summary().pending, 0);
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0]!.msg, /MQTT 5/);
  assert.match(log.lines[0]!.msg, /publishes/);
  // The sidecar's own log names no client (README, "Personal data").
  assert.doesNotMatch(JSON.stringify(log.lines[0]!.fields), /mqtt5/);
});

test('without session_id: paired by mountpoint + client id within the broker-time window', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  m.consume(wakeup('c1', '', B), 0);
  m.consume(register('c1', '', B + 3), 10); // same connect
  m.consume(wakeup('c2', '', B), 20);
  m.consume(register('c2', '', B + 60_000), 30); // a later connect of the same client: no pair
  m.consume(wakeup('c3', '', B, 'tenant-a'), 40);
  m.consume(register('c3', '', B, 'tenant-b'), 50); // another mountpoint: another client
  m.sweep(10_000);
  assert.equal(m.registered, 1);
  assert.equal(m.unregistered, 2);
});

test('an MQTT 5 wakeup (session_id "") is not paired with a 3.1.1 register that carries one', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  m.consume(register('same-id', 'uuid-1', B), 0);
  m.consume(wakeup('same-id', '', B), 1);
  m.sweep(10_000);
  assert.equal(m.unregistered, 1);
});

test('nothing is counted while no on_register flows (hook not enabled)', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  for (let i = 0; i < 10; i++) m.consume(wakeup(`c${i}`, '', B + i), i);
  m.sweep(10_000);
  assert.equal(m.unregistered, 0);
  assert.equal(m.summary().withoutRegisterHook, 10);
  assert.equal(m.summary().registersFlowing, false);
  // Registers long ago do not count as flowing either.
  m.consume(register('x', 'sx', B), 10_000);
  m.consume(wakeup('late', '', B), 10_000 + 61_000 + 5000);
  m.sweep(10_000 + 61_000 + 10_001);
  assert.equal(m.unregistered, 0);
});

test('a wakeup decided long after it arrived (a quiet spell) still counts: registers flowed around its arrival', () => {
  const m = new UnregisteredWakeups(null, OPTS);
  m.consume(register('r', 'sr', B), 0);
  m.consume(wakeup('mqtt5', '', B), 10);
  m.sweep(3_600_000);
  assert.equal(m.unregistered, 1);
  assert.equal(m.summary().withoutRegisterHook, 0);
});

test('memory is bounded: past maxPending new events are counted as overflow, and decided ones free room', () => {
  const m = new UnregisteredWakeups(null, { ...OPTS, maxPending: 100 });
  m.consume(register('r', 'sr', B), 0);
  for (let i = 0; i < 150; i++) m.consume(wakeup(`c${i}`, '', B), 1);
  assert.equal(m.summary().pending, 100);
  assert.equal(m.overflow, 51);
  m.sweep(5001);
  assert.equal(m.summary().pending, 0);
  m.consume(register('r2', 'sr2', B), 5001);
  assert.equal(m.unregistered, 99);
  for (let i = 0; i < 50; i++) m.consume(wakeup(`d${i}`, '', B), 5002);
  assert.equal(m.overflow, 51);
});

test('many events: the queue is compacted and every decision is made once', () => {
  const m = new UnregisteredWakeups(null, { ...OPTS, maxPending: 1_000_000 });
  let arrival = 0;
  for (let i = 0; i < 20_000; i++) {
    arrival += 1;
    m.consume(wakeup(`c${i}`, `s${i}`, B + i), arrival);
    if (i % 4 !== 0) m.consume(register(`c${i}`, `s${i}`, B + i), arrival + 3000);
  }
  m.sweep(arrival + 10_000);
  assert.equal(m.registered, 15_000);
  assert.equal(m.unregistered, 5000);
  assert.equal(m.summary().pending, 0);
});
