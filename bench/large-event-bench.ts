/**
 * How long one legal but huge event keeps the event loop busy in the decoder: an on_register
 * with 1M user properties (about 13 MB) and an on_subscribe / on_unsubscribe with 1M topics.
 *
 *   node dist/bench/large-event-bench.js [items=1000000]
 *
 * Prints the decode time of each frame and how many items the event kept and skipped.
 */
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { EventDecoder } from '../src/decoding/event-decoder.js';
import { readAny, AnyView } from '../src/protowire/any.js';
import type { SimEvent } from '../src/simulator/client-model.js';

const ITEMS = Number(process.argv[2] ?? 1_000_000);
const ts = { seconds: 1_760_000_000, nanos: 0 };
const encoder = new FrameEncoder();

const userProperties: Record<string, string> = {};
for (let i = 0; i < ITEMS; i++) userProperties[`k${i}`] = 'v';
const topics = Array.from({ length: ITEMS }, (_, i) => ({ topic: `t/${i}`, qos: 1, matchedAcl: null }));
const cases: [string, SimEvent][] = [
  ['on_register', { hook: 'on_register', timestamp: ts, peerAddr: '10.0.0.1', peerPort: 1, username: 'u', mountpoint: '', clientId: 'c', userProperties, sessionId: 's' } as unknown as SimEvent],
  ['on_subscribe', { hook: 'on_subscribe', timestamp: ts, username: 'u', mountpoint: '', clientId: 'c', topics, sessionId: 's' } as unknown as SimEvent],
  ['on_unsubscribe', { hook: 'on_unsubscribe', timestamp: ts, username: 'u', mountpoint: '', clientId: 'c', topics: topics.map((t) => t.topic), sessionId: 's' } as unknown as SimEvent],
];

const decoder = new EventDecoder();
const any = new AnyView();
for (const [name, event] of cases) {
  const frame = encoder.encodeFrame(event);
  readAny(frame, 4, frame.length, any);
  let best = Infinity;
  let kept = 0;
  let skipped = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const e = decoder.decode(frame, 4, frame.length, 0) as unknown as Record<string, unknown> | null;
    const ms = performance.now() - t0;
    if (e === null) throw new Error(`${name}: ${decoder.failureDetail}`);
    best = Math.min(best, ms);
    const items = e.userProperties ?? e.topics;
    kept = Array.isArray(items) ? items.length : Object.keys(items as object).length;
    skipped = (e.truncatedItems as number | undefined) ?? 0;
  }
  console.log(`${name}: ${(frame.length / 1e6).toFixed(1)} MB frame, ${ITEMS} items: decode ${best.toFixed(1)} ms (best of 3), kept ${kept}, skipped ${skipped}`);
}
