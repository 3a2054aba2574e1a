import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIENT_GROUPS_OPTION,
  ClientGrouper,
  ClientGroupsError,
  MAX_CLIENT_GROUP_PATTERNS,
  UNGROUPED,
  globMatches,
  parseClientGroups,
} from '../../src/metrics/client-grouper.js';

const grouper = (spec: string, cacheSize?: number) => new ClientGrouper(parseClientGroups(spec), cacheSize);

test('the first matching pattern wins; client id and username patterns in the order written', () => {
  const g = grouper('client:sensor-*=sensors, user:fleet-*=fleet, client:gw-??=gateways, client:*-test=tests');
  assert.equal(g.group('sensor-17', 'fleet-a'), 'sensors', 'the client pattern comes first');
  assert.equal(g.group('dev-1', 'fleet-a'), 'fleet');
  assert.equal(g.group('gw-01', 'alice'), 'gateways');
  assert.equal(g.group('gw-001', 'alice'), UNGROUPED, '? is exactly one character');
  assert.equal(g.group('x-test', ''), 'tests');
  assert.equal(g.group('anything', 'alice'), UNGROUPED);
});

test('without patterns every client is ungrouped', () => {
  const g = new ClientGrouper([]);
  assert.equal(g.group('sensor-1', 'u'), UNGROUPED);
  assert.deepEqual(g.values, [UNGROUPED]);
});

test('events without a username use the one last seen for the client id', () => {
  const g = grouper('user:tenant-a/*=tenant-a');
  // on_client_wakeup before any on_register: the username is not known yet.
  assert.equal(g.group('c1'), UNGROUPED);
  assert.equal(g.group('c1', 'tenant-a/device'), 'tenant-a', 'on_register carries it');
  assert.equal(g.group('c1'), 'tenant-a', 'on_message_drop does not, the remembered one is used');
  assert.equal(g.group('c1', 'someone-else'), UNGROUPED, 'a new username for the same client id');
  assert.equal(g.group('c1'), UNGROUPED);
  assert.equal(g.group('c2', ''), UNGROUPED, 'an empty username matches no username pattern');
  assert.equal(grouper('user:*=any').group('c3', ''), UNGROUPED);
});

test('the remembered-username table is bounded and starts over when full', () => {
  const g = grouper('user:u*=users', 3);
  for (const c of ['a', 'b', 'c']) assert.equal(g.group(c, 'u1'), 'users');
  assert.equal(g.group('d', 'u1'), 'users');
  assert.equal(g.cacheResets, 1);
  // 'a' was forgotten: without a username it falls back to client id patterns only.
  assert.equal(g.group('a'), UNGROUPED);
  assert.equal(g.group('d'), 'users');
});

test('glob matching: *, ?, escapes, backtracking', () => {
  const m = (glob: string, s: string) => grouper(`client:${glob}=g`).group(s, undefined) === 'g';
  assert.ok(m('*', ''));
  assert.ok(m('*', 'anything'));
  assert.ok(m('a*b*c', 'abc'));
  assert.ok(m('a*b*c', 'axxbyybzc'));
  assert.ok(!m('a*b*c', 'axxbyybz'));
  assert.ok(m('*.eu', 'x.y.eu'));
  assert.ok(!m('*.eu', 'x.y.eux'));
  assert.ok(m('??-*', 'de-123'));
  assert.ok(!m('??-*', 'd-123'));
  assert.ok(m('exact', 'exact'));
  assert.ok(!m('exact', 'exactly'));
  assert.ok(m('lit\\*', 'lit*'));
  assert.ok(!m('lit\\*', 'literal'));
  assert.ok(m('a\\,b*', 'a,bc'), 'an escaped comma is part of the pattern');
  assert.ok(m('k\\=v', 'k=v'), 'an escaped = too');
  assert.ok(m('é*', 'élan'));
  // Pathological input stays linear-ish (no exponential backtracking).
  const codes = Int32Array.from([-1, 0x61, -1, 0x61, -1, 0x61, -1, 0x62]);
  assert.ok(!globMatches(codes, 'a'.repeat(5000)));
});

test('invalid values are refused naming the flag, the item and the reason', () => {
  const refuses = (spec: string, why: RegExp) =>
    assert.throws(() => parseClientGroups(spec), (err: Error) => err instanceof ClientGroupsError && /--client-groups item/.test(err.message) && why.test(err.message));
  refuses('client:a*', /has no =NAME/);
  refuses('a*=x', /does not start with client: or user:/);
  refuses('host:a*=x', /does not start with client: or user:/);
  refuses('client:=x', /empty pattern/);
  refuses('client:a*=', /empty name/);
  refuses('client:a*=other', /reserved/);
  refuses('client:a*=ungrouped', /reserved/);
  refuses('client:a*=in\u0001valid', /control characters/);
  refuses(`client:${'a'.repeat(300)}=x`, /longer than 256/);
  refuses('client:a\\\\\\=x', /has no =NAME/);
  assert.throws(
    () => parseClientGroups(Array.from({ length: MAX_CLIENT_GROUP_PATTERNS + 1 }, (_, i) => `client:c${i}*=g${i}`).join(',')),
    /at most 200/,
  );
});

test('parsing: blanks skipped, names unescaped, spaces around items ignored', () => {
  assert.deepEqual(parseClientGroups(''), []);
  assert.deepEqual(parseClientGroups(' client:s-* = sensors ,, user:u\\,1=a\\,b '), [
    { kind: 'client', glob: 's-*', name: 'sensors' },
    { kind: 'user', glob: 'u\\,1', name: 'a,b' },
  ]);
  assert.equal(CLIENT_GROUPS_OPTION.flag, 'client-groups');
  assert.deepEqual(CLIENT_GROUPS_OPTION.parse(CLIENT_GROUPS_OPTION.default), []);
});

test('values: the configured names once each, plus "ungrouped"', () => {
  assert.deepEqual(grouper('client:a*=x,user:b*=y,client:c*=x').values, ['x', 'y', UNGROUPED]);
});

test('group() returns the same string object for the same group (no per-call strings)', () => {
  const g = grouper('client:s*=sensors');
  const a = g.group('s1', 'u');
  const b = g.group('s2', 'u');
  const c = g.group('s1', 'u');
  assert.equal(a, 'sensors');
  assert.ok(Object.is(a, b) && Object.is(a, c));
});
