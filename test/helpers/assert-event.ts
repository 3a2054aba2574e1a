import assert from 'node:assert/strict';
import type { SidecarEvent } from '../../src/events/event-types.js';

/** JSON-like copy without null fields: decoded messages keep defaults on their prototype. */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x === null ? undefined : x)));
}

/** Checks that a decoded event carries every field of the sample it was encoded from. */
export function assertMatchesSample(event: SidecarEvent, sample: Record<string, unknown>): void {
  assert.equal(event.hook, sample.hook);
  const ts = sample.timestamp as { seconds: number; nanos: number };
  assert.equal(event.timeSec, ts.seconds);
  assert.equal(event.timeNanos, ts.nanos);
  assert.equal(event.timeMissing, false);
  for (const [key, expected] of Object.entries(sample)) {
    if (key === 'hook' || key === 'timestamp') continue;
    const actual = (event as unknown as Record<string, unknown>)[key];
    if (expected instanceof Uint8Array) {
      assert.ok(actual instanceof Uint8Array, `${sample.hook}.${key} is bytes`);
      assert.ok(Buffer.from(expected).equals(Buffer.from(actual)), `${sample.hook}.${key} bytes equal`);
    } else {
      assert.deepEqual(plain(actual), plain(expected), `${sample.hook}.${key}`);
    }
  }
}

