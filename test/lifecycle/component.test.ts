import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ComponentSet, mergeStatus, type Component } from '../../src/lifecycle/component.js';

test('status reports merge one level deep; null never hides a value another component gave', () => {
  assert.deepEqual(
    mergeStatus([
      { version: '1', logs: null, connections: { open: 1 } },
      { connections: { accepting: true }, logs: { exported: 3 } },
      { logs: { emitted: 4 }, rejected: { oversized: 0 } },
    ]),
    { version: '1', logs: { exported: 3, emitted: 4 }, connections: { open: 1, accepting: true }, rejected: { oversized: 0 } },
  );
});

test('components start in order and stop in reverse, each with the deadline; a failed start stops those already started', async () => {
  const calls: string[] = [];
  const part = (name: string, failStart = false): Component => ({
    start: () => {
      calls.push(`start ${name}`);
      if (failStart) throw new Error(`${name} cannot bind`);
    },
    stop: (deadline) => {
      calls.push(`stop ${name} ${typeof deadline}`);
    },
  });
  const set = new ComponentSet([part('admin'), part('outputs'), part('receiver')]);
  await set.start();
  await set.stop(Date.now() + 1000);
  await set.stop(Date.now() + 1000);
  assert.deepEqual(calls, ['start admin', 'start outputs', 'start receiver', 'stop receiver number', 'stop outputs number', 'stop admin number']);

  calls.length = 0;
  const failing = new ComponentSet([part('admin'), part('receiver', true), part('never')]);
  await assert.rejects(failing.start(), /receiver cannot bind/);
  assert.deepEqual(calls, ['start admin', 'start receiver', 'stop admin number']);
});
