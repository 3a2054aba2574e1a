import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import type { HistogramFamily, MetricStore, SumFamily } from '../../src/metrics/metric-store.js';
import { fakeHost } from '../helpers/fake-host.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

function tracker(maxClients = 1000, now = () => 0) {
  const host = fakeHost({ maxMountpoints: 10 });
  return { store: host.store, t: host.add(new SessionTracker(host, { maxClients, tombstoneMs: 1000 }, now)) };
}

function ev(hook: string, clientId: string, sec: number, mountpoint = ''): SidecarEvent {
  return { hook, clientId, mountpoint, timeSec: sec, timeNanos: 0, reason: 17, reasonName: 'tcp_closed' } as unknown as SidecarEvent;
}

test('wakeup, offline, wakeup, gone in order', () => {
  const { t } = tracker();
  t.consume(ev('on_client_wakeup', 'a', 1));
  assert.equal(t.connectedCount(), 1);
  t.consume(ev('on_client_offline', 'a', 2));
  assert.equal(t.connectedCount(), 0);
  assert.equal(t.offlineCount(), 1);
  t.consume(ev('on_client_wakeup', 'a', 3));
  assert.deepEqual([t.connectedCount(), t.offlineCount()], [1, 0]);
  t.consume(ev('on_client_gone', 'a', 4));
  assert.deepEqual([t.connectedCount(), t.offlineCount()], [0, 0]);
});

test('every arrival order of one client\'s events ends in the state of its newest event', () => {
  const sequence = [ev('on_client_wakeup', 'a', 1), ev('on_client_offline', 'a', 2), ev('on_client_wakeup', 'a', 3), ev('on_client_offline', 'a', 4), ev('on_session_expired', 'a', 5)];
  const permutations = (xs: SidecarEvent[]): SidecarEvent[][] =>
    xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
  for (let cut = 1; cut <= sequence.length; cut++) {
    const prefix = sequence.slice(0, cut);
    const last = prefix[prefix.length - 1]!.hook;
    const expected = last === 'on_client_wakeup' ? [1, 0] : last === 'on_client_offline' ? [0, 1] : [0, 0];
    for (const order of permutations(prefix)) {
      const { t } = tracker();
      for (const e of order) t.consume(e);
      assert.deepEqual([t.connectedCount(), t.offlineCount()], expected, order.map((e) => `${e.hook}@${e.timeSec}`).join(' '));
    }
  }
});

test('gauges never go negative: a disconnect of a client never seen connected changes nothing', () => {
  const { t } = tracker();
  t.consume(ev('on_client_gone', 'x', 1));
  t.consume(ev('on_session_expired', 'y', 1));
  assert.deepEqual([t.connectedCount(), t.offlineCount()], [0, 0]);
});

test('gauges are per mountpoint', () => {
  const { t } = tracker();
  t.consume(ev('on_client_wakeup', 'a', 1, 'm1'));
  t.consume(ev('on_client_wakeup', 'a', 1, 'm2'));
  t.consume(ev('on_client_offline', 'a', 2, 'm2'));
  assert.deepEqual([t.connectedCount('m1'), t.connectedCount('m2'), t.offlineCount('m2')], [1, 0, 1]);
});

test('memory is bounded: past --max-tracked-clients, events are counted as untracked', () => {
  const { t } = tracker(2);
  t.consume(ev('on_client_wakeup', 'a', 1));
  t.consume(ev('on_client_wakeup', 'b', 1));
  t.consume(ev('on_client_wakeup', 'c', 1));
  assert.equal(t.connectedCount(), 2);
  assert.equal(t.untracked, 1);
  assert.equal(t.trackedClients, 2);
});

test('removed sessions are forgotten after the tombstone period, not before', () => {
  let now = 0;
  const { t } = tracker(1000, () => now);
  t.consume(ev('on_client_wakeup', 'a', 1));
  t.consume(ev('on_client_gone', 'a', 2));
  t.expireTombstones();
  assert.equal(t.trackedClients, 1);
  // A late wakeup older than the gone is still recognised as stale.
  t.consume(ev('on_client_wakeup', 'a', 1));
  assert.equal(t.connectedCount(), 0);
  assert.equal(t.stale, 1);
  now = 1001;
  t.expireTombstones();
  assert.equal(t.trackedClients, 0);
});

test('thousands of removed sessions are forgotten in removal order, not before their period', () => {
  let now = 0;
  const { t } = tracker(10_000, () => now);
  for (let i = 0; i < 3000; i++) {
    now = i < 2000 ? 0 : 500;
    t.consume(ev('on_client_wakeup', `c${i}`, 1));
    t.consume(ev('on_client_gone', `c${i}`, 2));
  }
  // Past the period of the first 2000 removals, not of the last 1000.
  now = 1200;
  t.expireTombstones();
  assert.equal(t.clients.size, 1000);
  // One still remembered: its late wakeup is stale.
  t.consume(ev('on_client_wakeup', 'c2500', 1));
  assert.equal(t.stale, 1);
  assert.equal(t.connectedCount(), 0);
  now = 1501;
  t.expireTombstones();
  assert.equal(t.clients.size, 0);
});

test('session duration is recorded from wakeup to disconnect', () => {
  const { t, store } = tracker();
  t.consume(ev('on_client_wakeup', 'a', 100));
  t.consume(ev('on_client_offline', 'a', 160));
  const s = (store.family('mqtt.session.duration') as HistogramFamily).all()[0]!;
  assert.equal(s.count, 1);
  assert.equal(s.sum, 60);
  assert.deepEqual(s.attributes, { 'mqtt.mountpoint': '', 'mqtt.session.persistent': true });
});

test('--client-groups with user: patterns, in the broker\'s order (wakeup, then the register naming the user)', async () => {
  const { MQTT_METRICS } = await import('../../src/metrics/metric-catalog.js');
  const patterns = 'user:fleet-*=fleet,client:sensor-*=sensors';
  const byGroup = (store: MetricStore) => {
    const out: Record<string, number> = {};
    for (const s of (store.family(MQTT_METRICS.connected.name) as SumFamily).all()) out[s.attributes['mqtt.client.group'] as string] = (out[s.attributes['mqtt.client.group'] as string] ?? 0) + s.value;
    return out;
  };
  const events = (id: string, user: string, sec: number) => [
    { hook: 'on_client_wakeup', clientId: id, mountpoint: '', timeSec: sec, timeNanos: 0 },
    { hook: 'on_register', clientId: id, username: user, mountpoint: '', timeSec: sec, timeNanos: 1 },
  ];
  const gone = (id: string, user: string, sec: number) => ({ hook: 'on_client_gone', clientId: id, username: user, mountpoint: '', timeSec: sec, timeNanos: 0, reason: 2, reasonName: 'normal_disconnect' });

  // sessions mode: counted under the username's group once the register names it.
  {
    const host = fakeHost({ clientGroups: patterns });
    const store = host.store;
    const t = host.add(new SessionTracker(host, { maxClients: 100 }));
    assert.ok(t.hooks.includes('on_register'));
    for (const e of [...events('gw-1', 'fleet-a', 1), ...events('sensor-7', '', 1)]) t.consume(e as unknown as SidecarEvent);
    assert.deepEqual(byGroup(store), { ungrouped: 0, fleet: 1, sensors: 1 });
    t.consume(gone('gw-1', 'fleet-a', 2) as unknown as SidecarEvent);
    assert.deepEqual(byGroup(store), { ungrouped: 0, fleet: 0, sensors: 1 });
    // The register before the wakeup (pool reordering): the grouper remembers the username.
    const [w, r] = events('gw-2', 'fleet-b', 3);
    t.consume(r as unknown as SidecarEvent);
    t.consume(w as unknown as SidecarEvent);
    assert.deepEqual(byGroup(store), { ungrouped: 0, fleet: 1, sensors: 1 });
    // A register of an older connection arriving late, naming another user, moves nothing.
    t.consume({ ...events('gw-2', 'someone', 1)[1]!, timeSec: 1 } as unknown as SidecarEvent);
    assert.deepEqual(byGroup(store), { ungrouped: 0, fleet: 1, sensors: 1 });
    // A new one does.
    t.consume({ ...events('gw-2', 'someone', 4)[1]! } as unknown as SidecarEvent);
    assert.deepEqual(byGroup(store), { ungrouped: 1, fleet: 0, sensors: 1 });
  }
  // deltas mode: no state to move a client with, so the +1 and the -1 both follow the client id
  // patterns; user: patterns would put them in different series.
  {
    const host = fakeHost({ clientGroups: patterns });
    const store = host.store;
    const t = host.add(new SessionTracker(host, { maxClients: 100, mode: 'deltas' }));
    assert.ok(!t.hooks.includes('on_register'));
    for (const e of [...events('gw-1', 'fleet-a', 1), gone('gw-1', 'fleet-a', 2)]) t.consume(e as unknown as SidecarEvent);
    assert.ok(Object.values(byGroup(store)).every((v) => v === 0), JSON.stringify(byGroup(store)));
  }
});
