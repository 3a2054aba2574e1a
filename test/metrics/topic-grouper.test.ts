import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicGrouper, parseTopicGroups, topicMatches } from '../../src/metrics/topic-grouper.js';
import { BoundedValues } from '../../src/metrics/bounded-values.js';

const m = (filter: string, topic: string) => topicMatches(filter.split('/'), topic);

test('MQTT topic filter matching', () => {
  assert.ok(m('a/b', 'a/b'));
  assert.ok(!m('a/b', 'a/bc'));
  assert.ok(!m('a/b', 'a/b/c'));
  assert.ok(m('a/+', 'a/x'));
  assert.ok(m('a/+', 'a/'));
  assert.ok(!m('a/+', 'a'));
  assert.ok(!m('a/+', 'a/x/y'));
  assert.ok(m('a/#', 'a'));
  assert.ok(m('a/#', 'a/x/y'));
  assert.ok(m('#', 'anything/at/all'));
  assert.ok(m('+/+/telemetry', 'devices/1/telemetry'));
  assert.ok(!m('+/+/telemetry', 'devices/1/status'));
  assert.ok(!m('#', '$SYS/broker'), 'wildcards do not match $ topics at the first level');
  assert.ok(m('$SYS/#', '$SYS/broker'));
});

test('the ACL name wins, then the first matching configured filter, then "unmatched"', () => {
  const g = new TopicGrouper(parseTopicGroups('devices/+/telemetry=telemetry, devices/#=devices'), new BoundedValues('mqtt.topic.group', 10));
  assert.equal(g.group({ name: 'acl-name', pattern: 'x' }, 'devices/1/telemetry'), 'acl-name');
  assert.equal(g.group(null, 'devices/1/telemetry'), 'telemetry');
  assert.equal(g.group({ name: '', pattern: '' }, 'devices/1/status'), 'devices');
  assert.equal(g.group(null, 'other/topic'), 'unmatched');
});

test('group names are bounded; extra ones become "other" and are counted', () => {
  const names = new BoundedValues('mqtt.topic.group', 4);
  const g = new TopicGrouper([], names);
  assert.equal(g.group({ name: 'a', pattern: '' }, 't'), 'a');
  assert.equal(g.group({ name: 'b', pattern: '' }, 't'), 'b');
  // Past half the places, a new name gets its place at its second sighting.
  assert.equal(g.group({ name: 'c', pattern: '' }, 't'), 'other');
  assert.equal(g.group({ name: 'c', pattern: '' }, 't'), 'c');
  assert.equal(g.group({ name: 'd', pattern: '' }, 't'), 'other');
  assert.equal(g.group({ name: 'd', pattern: '' }, 't'), 'd');
  assert.equal(g.group({ name: 'e', pattern: '' }, 't'), 'other');
  assert.equal(g.group({ name: 'e', pattern: '' }, 't'), 'other');
  assert.equal(names.folded, 4);
});

test('configured group names never wait for a second sighting', () => {
  const names = new BoundedValues('mqtt.topic.group', 2);
  const g = new TopicGrouper(parseTopicGroups('a/#=alpha,b/#=beta'), names);
  assert.equal(g.group({ name: 'flood', pattern: '' }, 't'), 'other');
  assert.equal(g.group(null, 'a/1'), 'alpha');
  assert.equal(g.group(null, 'b/1'), 'beta');
});

test('invalid filters are refused with the reason', () => {
  assert.throws(() => parseTopicGroups('a/#/b=x'), /not an MQTT topic filter/);
  assert.throws(() => parseTopicGroups('a/b+=x'), /not an MQTT topic filter/);
  assert.throws(() => parseTopicGroups('=x'), /empty pattern/);
  assert.deepEqual(parseTopicGroups('a/+'), [{ pattern: 'a/+', name: 'a/+' }]);
});
