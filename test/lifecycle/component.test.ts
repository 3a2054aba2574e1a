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

test('stopBy: a stop that outlives the deadline is told once (onLate), then every started component abandons its work, the stuck one too', async () => {
  const calls: string[] = [];
  const part = (name: string, hangs = false): Component => ({
    start: () => {},
    stop: () => {
      calls.push(`stop ${name}`);
      return hangs ? new Promise<void>(() => {}) : undefined;
    },
    abandon: () => {
      calls.push(`abandon ${name}`);
    },
  });
  const quick = new ComponentSet([part('admin'), part('receiver')]);
  await quick.start();
  assert.equal(await quick.stopBy(Date.now() + 1000, () => calls.push('late')), false);
  assert.deepEqual(calls, ['stop receiver', 'stop admin']);

  calls.length = 0;
  const stuck = new ComponentSet([part('admin'), part('telemetry', true), part('receiver'), { status: () => ({}) }]);
  await stuck.start();
  assert.equal(await stuck.stopBy(Date.now() + 50, () => calls.push('late')), true);
  // The admin listener is never reached by stop(): abandon() is what closes it.
  assert.deepEqual(calls, ['stop receiver', 'stop telemetry', 'late', 'abandon receiver', 'abandon telemetry', 'abandon admin']);
});

test('an assembly builds each component when first asked for, once, and lists them in the factories\' order', async () => {
  const { Assembly } = await import('../../src/lifecycle/assembly.js');
  const built: string[] = [];
  const make = (name: string): Component => {
    built.push(name);
    return { status: () => ({ [name]: true }) };
  };
  interface Parts {
    admin: Component;
    outputs: Component;
    optional: Component | null;
    receiver: Component;
  }
  // The outputs ask for the receiver listed after them: it is built first, and still starts last.
  const a = new Assembly<{ withOptional: boolean }, Parts>(
    { withOptional: false },
    {
      admin: () => make('admin'),
      outputs: (x) => (x.get('receiver'), make('outputs')),
      optional: (x) => (x.host.withOptional ? make('optional') : null),
      receiver: () => make('receiver'),
    },
  );
  const order = a.components().map((c) => Object.keys(c.status!())[0]);
  assert.deepEqual(order, ['admin', 'outputs', 'receiver']);
  assert.deepEqual(built, ['admin', 'receiver', 'outputs']);
  assert.equal(a.get('receiver'), a.components()[2]);
  const loop = new Assembly<null, { x: Component }>(null, { x: (y) => y.get('x') });
  assert.throws(() => loop.get('x'), /x needs itself/);
});
