import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { formatEvent } from '../../src/sinks/event-printer.js';
import { HOOKS } from '../../src/events/event-types.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';

const encoder = new FrameEncoder();

/** Every string and number a sample event carries (not the payload, not the timestamp). */
function leafValues(v: unknown, key = ''): string[] {
  if (key === 'payload' || key === 'timestamp' || key === 'hook' || v === null || v === undefined) return [];
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (typeof v === 'number' || typeof v === 'boolean') return [];
  if (Array.isArray(v)) return v.flatMap((x) => leafValues(x));
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => [...(key === 'userProperties' ? [k] : []), ...leafValues(x, k)]);
}

test('--print-events: every field of every hook is on the line; the payload as its size', () => {
  const decoder = new EventDecoder();
  for (const hook of HOOKS) {
    const sample = SAMPLE_EVENTS[hook];
    const frame = encoder.encodeFrame(sample);
    const event = decoder.decode(frame, 4, frame.length, Date.now())!;
    const line = formatEvent(event);
    for (const value of leafValues(sample)) {
      assert.ok(line.includes(value) || line.includes(JSON.stringify(value)), `${hook}: ${value} missing from ${line}`);
    }
    if ('payload' in sample) assert.match(line, new RegExp(` bytes=${(sample.payload as Uint8Array).length}\\b`), hook);
    if ('sessionId' in sample) assert.match(line, / session_id=/, hook);
  }
  const reg = formatEvent(decoder.decode(encoder.encodeFrame(SAMPLE_EVENTS.on_register), 4, encoder.encodeFrame(SAMPLE_EVENTS.on_register).length, Date.now())!);
  assert.match(reg, / user_property\[traceparent\]=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01/);
  const sub = formatEvent(decoder.decode(encoder.encodeFrame(SAMPLE_EVENTS.on_subscribe), 4, encoder.encodeFrame(SAMPLE_EVENTS.on_subscribe).length, Date.now())!);
  assert.match(sub, /;acl=[^;]+;acl_pattern=/, 'subscription ACLs');
});

test('--print-events: lines dropped while stdout does not keep up are shown in /status and logged once a minute', async () => {
  const { Writable } = await import('node:stream');
  const { EventPrinter } = await import('../../src/sinks/event-printer.js');
  const { SidecarLogger } = await import('../../src/logging/sidecar-logger.js');
  // A reader that never reads: the first write fills its buffer, the printer waits for a drain.
  const stuck = new Writable({ highWaterMark: 16, write: () => {} });
  const lines: Record<string, unknown>[] = [];
  const printer = new EventPrinter(stuck, new SidecarLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>)));
  const decoder = new EventDecoder();
  const frame = encoder.encodeFrame(SAMPLE_EVENTS.on_client_wakeup);
  printer.consume(decoder.decode(frame, 4, frame.length, Date.now())!);
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100; i++) printer.consume(decoder.decode(frame, 4, frame.length, Date.now())!);
  assert.deepEqual(printer.status(), { printEvents: { dropped: 100 } });
  const warned = lines.filter((l) => l.msg === '--print-events: stdout does not keep up; event lines dropped');
  assert.equal(warned.length, 1);
  assert.equal(warned[0]!.droppedTotal, 1);
});
