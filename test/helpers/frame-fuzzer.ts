/**
 * Seeded fuzzing of plugin frames: valid frames of all 13 events with extreme values (int64
 * timestamps, any int32 QoS and reason, NUL/newline/escape codes and invalid UTF-8 in strings,
 * large maps and lists), then byte-level mutations (flipped bytes, wrong length prefixes, cut and
 * spliced frames). Used by the fuzz test (a short run) and bench/fuzz-bench.ts (10M frames).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Prng } from '../../src/simulator/prng.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { HOOKS } from '../../src/events/event-types.js';
import type { SimEvent } from '../../src/simulator/client-model.js';
import { SAMPLE_EVENTS } from './sample-events.js';

/** Replaced by invalid UTF-8 after encoding (same length). */
const MARK = 'ZQZQ';
const INVALID_UTF8 = Buffer.from([0xc3, 0x28, 0xff, 0xfe]);

const SECONDS = [0, -1, 1, 1e13, -1e13, 9223372036854775000, -9223372036854775000, 18446744073, 18446744074, 1764133200, 253402300800];
const NANOS = [0, -1, 999_999_999, 1_000_000_000, 2147483647, -2147483648];
const INT32 = [0, 1, 2, 3, 128, 129, -1, 2147483647, -2147483648, 255];
const STRINGS = ['', 'a', 'x\ny', 'nul\u0000byte', '\u001b[2J\r', '\u2028', 'é€😀', MARK, `${MARK}${MARK}`, 'k='.repeat(50), '"quoted"', ' spaced out '];

function str(r: Prng): string {
  if (r.chance(0.02)) return 'L'.repeat(r.pick([300, 5000, 70_000]));
  return r.pick(STRINGS) + (r.chance(0.5) ? String(r.int(1000)) : '');
}

/** One event with extreme values, derived from the sample of its hook. */
export function extremeEvent(r: Prng): SimEvent {
  const hook = r.pick(HOOKS);
  const e: SimEvent = { ...SAMPLE_EVENTS[hook] };
  e.timestamp = r.chance(0.5) ? { seconds: r.pick(SECONDS), nanos: r.pick(NANOS) } : { seconds: 1764133200 + r.int(1000), nanos: r.int(1e9) };
  for (const f of ['clientId', 'mountpoint', 'username', 'topic', 'peerAddr', 'sessionId']) if (f in e && r.chance(0.5)) e[f] = str(r);
  if ('qos' in e && r.chance(0.5)) e.qos = r.pick(INT32);
  if ('reason' in e && r.chance(0.5)) e.reason = typeof e.reason === 'string' ? str(r) : r.pick(INT32);
  if ('peerPort' in e && r.chance(0.3)) e.peerPort = r.pick([0, 65535, 4294967295]);
  // The sample on_publish carries 1 MiB: mostly small payloads, so runs go fast.
  if ('payload' in e) e.payload = r.chance(0.002) ? Buffer.alloc(1_000_000, 0xff) : Buffer.from(str(r));
  if ('matchedAcl' in e && r.chance(0.3)) e.matchedAcl = r.chance(0.5) ? null : { name: str(r), pattern: str(r) };
  // Large maps and lists, rarely huge (decoding a huge one is the decoder's budget, not ours).
  if ('userProperties' in e && r.chance(0.3)) {
    const n = r.chance(0.02) ? 20_000 : r.pick([0, 17, 300]);
    const props: Record<string, string> = {};
    for (let i = 0; i < n; i++) props[`${str(r)}${i}`] = str(r);
    e.userProperties = props;
  }
  if ('topics' in e && r.chance(0.3)) {
    const n = r.chance(0.02) ? 5000 : r.pick([0, 1, 101, 300]);
    e.topics =
      hook === 'on_subscribe'
        ? Array.from({ length: n }, () => ({ topic: str(r), qos: r.pick(INT32), matchedAcl: null }))
        : Array.from({ length: n }, () => str(r));
  }
  return e;
}

function mutate(r: Prng, frame: Buffer): Buffer {
  const f = Buffer.from(frame);
  switch (r.int(6)) {
    case 0: // flip bytes anywhere past the length prefix
      for (let i = 0, n = 1 + r.int(8); i < n && f.length > 4; i++) f[4 + r.int(f.length - 4)] = r.int(256);
      return f;
    case 1: // a length prefix that lies (shorter: the rest is read as the next frame)
      if (f.length > 8) f.writeUInt32BE(Math.max(1, f.length - 4 - 1 - r.int(Math.min(64, f.length - 5))), 0);
      return f;
    case 2: // cut short: the next frame's bytes complete this one
      return f.subarray(0, 4 + r.int(Math.max(1, f.length - 4)));
    case 3: // random bytes inside the message
      return Buffer.concat([f, Buffer.from(Array.from({ length: r.int(32) }, () => r.int(256)))]);
    case 4: // a varint at its longest, or a length field pointing far away
      if (f.length > 12) f.fill(0xff, 4 + r.int(f.length - 12), f.length - r.int(4));
      return f;
    default: // an empty frame
      return Buffer.from([0, 0, 0, 0]);
  }
}

/** Valid frames kept for mutation. */
const POOL = 200;

export class FrameFuzzer {
  private readonly r: Prng;
  private readonly enc = new FrameEncoder();
  /** Valid frames, kept to be mutated (encoding is the costly part of a run). */
  private readonly pool: Buffer[] = [];

  constructor(seed: number) {
    this.r = new Prng(seed);
  }

  /** A valid frame with extreme values (about 2 in 5 after the first POOL), or a mutated one. */
  next(): Buffer {
    const r = this.r;
    if (this.pool.length < POOL || r.chance(0.05)) {
      const frame = this.enc.encodeFrame(extremeEvent(r));
      const at = frame.indexOf(MARK, 4, 'latin1');
      if (at >= 0) INVALID_UTF8.copy(frame, at);
      if (this.pool.length < POOL) this.pool.push(frame);
      else this.pool[r.int(this.pool.length)] = frame;
      return frame;
    }
    const base = this.pool[r.int(this.pool.length)]!;
    return r.chance(0.4) ? base : mutate(r, base);
  }

  /**
   * Like next(), but the length prefix always matches the bytes that follow, so the stream stays
   * framed and every frame is read (the mutation is in the Any and the event inside it).
   */
  nextFramed(): Buffer {
    const f = this.next();
    if (f.readUInt32BE(0) !== f.length - 4) {
      const copy = f === this.pool[0] ? Buffer.from(f) : f;
      copy.writeUInt32BE(copy.length - 4, 0);
      return copy;
    }
    return f;
  }
}

/**
 * The longest time the event loop went without running a timer that must fire every 10 ms:
 * a spin or a long synchronous task shows here.
 */
export class StallWatchdog {
  /** The longest gap between two 10 ms ticks, wall clock. */
  maxStallMs = 0;
  /**
   * The longest gap counting only the CPU time the process spent in it: a gap the machine caused
   * (the process waiting for a core beside other work) is not a stall of ours; a spin is.
   */
  maxBusyStallMs = 0;
  private last = performance.now();
  private lastCpu = process.cpuUsage();
  private readonly timer: NodeJS.Timeout;
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.histogram.enable();
    this.timer = setInterval(() => {
      const now = performance.now();
      const cpu = process.cpuUsage(this.lastCpu);
      this.maxStallMs = Math.max(this.maxStallMs, now - this.last - 10);
      this.maxBusyStallMs = Math.max(this.maxBusyStallMs, Math.min(now - this.last - 10, (cpu.user + cpu.system) / 1000));
      this.last = now;
      this.lastCpu = process.cpuUsage();
    }, 10);
  }

  /** The event loop delay histogram's maximum, ms. */
  get maxDelayMs(): number {
    return this.histogram.max / 1e6;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
