import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';

test('lines are JSON with time, level and message; levels below the setting are dropped', () => {
  const lines: string[] = [];
  const log = new SidecarLogger('info', (l) => lines.push(l), () => Date.UTC(2026, 0, 2, 3, 4, 5));
  log.debug('hidden');
  log.info('shown', { peer: '127.0.0.1:1', err: new Error('boom') });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('\n'));
  assert.deepEqual(JSON.parse(lines[0]!), { time: '2026-01-02T03:04:05.000Z', level: 'info', msg: 'shown', peer: '127.0.0.1:1', err: 'boom' });
});

test('limited() writes once per interval and reports how many it held back', () => {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const log = new SidecarLogger('info', (l) => lines.push(JSON.parse(l)), () => now);
  for (let i = 0; i < 100; i++) log.limited('warn', 'k', 1000, 'bad');
  assert.equal(lines.length, 1);
  now = 1000;
  log.limited('warn', 'k', 1000, 'bad');
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.suppressed, 99);
  log.limited('warn', 'other', 1000, 'different key');
  assert.equal(lines.length, 3);
});

test('summarized(): the first line at once, and after a burst one closing line with the state as it is then', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = new SidecarLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  let open = 0;
  for (let i = 0; i < 100; i++) {
    open++;
    log.summarized('info', 'opened', 100, 'connections opened', () => ({ open }));
  }
  assert.deepEqual(
    lines.map((l) => l.open),
    [1],
  );
  await new Promise((r) => setTimeout(r, 160));
  assert.deepEqual(
    lines.map((l) => [l.open, l.suppressed]),
    [
      [1, undefined],
      [100, 99],
    ],
  );
  // A quiet interval: nothing more; the next event after it is written at once.
  await new Promise((r) => setTimeout(r, 160));
  assert.equal(lines.length, 2);
  log.summarized('info', 'opened', 100, 'connections opened', () => ({ open: 101 }));
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.open, 101);
});

test('peer-chosen text in a field cannot forge a line or drive a terminal: still one valid JSON line', () => {
  const lines: string[] = [];
  const logger = new SidecarLogger('info', (l) => lines.push(l));
  const evil = 'a\nb\r\u001b[2J\u009b31m\u007f\u2028\u2029\u0000';
  logger.warn('bad frame', { typeUrl: evil });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.split('\n').length, 2, 'one line');
  assert.doesNotMatch(lines[0]!.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
  assert.equal((JSON.parse(lines[0]!) as { typeUrl: string }).typeUrl, evil, 'the value survives, escaped');
});
