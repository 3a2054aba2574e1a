/**
 * One plugin connection: bytes -> frames, and each frame to the ingest core (decode, count,
 * outputs). What it keeps itself is the framing and the connection's own figures. Knows
 * nothing about sockets, so it can be driven by any byte source (tests feed it chunks directly).
 */
import { FrameDecoder, type FrameHandler } from '../framing/frame-decoder.js';
import type { FrameBudget } from '../framing/frame-budget.js';
import type { IngestCore, IngestSource, RejectLog } from '../ingest/ingest-core.js';
import type { CloseReason, IngestStats, RejectReason, TransportCounters } from './ingest-stats.js';

export class ConnectionHandler implements FrameHandler, IngestSource {
  frames = 0;
  events = 0;
  /**
   * The latest broker timestamp (ms) among this connection's events: each plugin connection is a
   * queue, so it says how far in broker time this connection has been read (the wakeup matcher
   * waits for the slowest connection).
   */
  latestBrokerMs = -Infinity;
  bytes = 0;
  reads = 0;
  rejected = 0;
  /** Set when the stream cannot be framed any more; the owner must close the connection. */
  unframeable = false;
  /** Set when the receiver closed the connection on purpose (the stream's remainder is not "truncated"). */
  closedFor: CloseReason | null = null;
  /** Milliseconds since the epoch of the last bytes received (or of the connection's start). */
  lastActivityMs = Date.now();

  /** The TCP transport's counters (IngestSource): what the core counts for this connection too. */
  readonly counters: TransportCounters;
  readonly rejectLog: RejectLog;

  private readonly frameDecoder: FrameDecoder;
  private readonly stats: IngestStats;
  private nowMs = 0;

  constructor(
    peer: string,
    private readonly ingest: IngestCore,
    maxFrameBytes: number,
    budget: FrameBudget | null = null,
  ) {
    this.frameDecoder = new FrameDecoder(this, maxFrameBytes, budget);
    this.stats = ingest.stats;
    this.counters = ingest.stats.tcp;
    this.rejectLog = { message: 'frame rejected', keyPrefix: '', peer };
  }

  push(chunk: Buffer): void {
    // One clock read per chunk, not per event: a chunk is read in well under a millisecond.
    this.nowMs = Date.now();
    this.lastActivityMs = this.nowMs;
    this.bytes += chunk.length;
    this.reads++;
    this.counters.bytesReceived += chunk.length;
    this.frameDecoder.push(chunk);
  }

  /** Bytes of partial frame this connection holds. */
  get buffered(): number {
    return this.frameDecoder.held;
  }

  /**
   * The receiver closes this connection on purpose: further bytes are ignored, its buffer is
   * released at once, and a partial frame it held is counted under `reason`.
   */
  closeFor(reason: CloseReason): void {
    if (this.closedFor !== null) return;
    this.closedFor = reason;
    this.stats.connectionsClosed[reason]++;
    if (reason === 'buffer_budget' && this.frameDecoder.midFrame) {
      this.reject('buffer_budget', `holding ${this.frameDecoder.held} bytes of a partial frame while partial frames passed --max-buffered-bytes; closing the connection`);
    }
    this.frameDecoder.fail();
  }

  /** The byte stream ended; counts a frame left half-received. */
  end(): void {
    if (this.frameDecoder.midFrame && !this.unframeable && this.closedFor === null) {
      this.reject('truncated', 'connection closed in the middle of a frame');
    }
    this.frameDecoder.fail();
  }

  onFrame(buf: Buffer, start: number, end: number): void {
    this.frames++;
    this.counters.framesReceived++;
    const event = this.ingest.ingest(buf, start, end, this.nowMs, this);
    // How far this connection has been read in broker time (the wakeup matcher's low watermark).
    if (event !== null && !event.timeMissing) {
      const t = event.timeSec * 1000 + event.timeNanos / 1e6;
      if (t > this.latestBrokerMs) this.latestBrokerMs = t;
    }
  }

  onOversizedFrame(length: number): void {
    this.reject('oversized', `frame of ${length} bytes is over --max-frame-bytes; skipped`);
  }

  onUnframeable(length: number): void {
    this.unframeable = true;
    this.reject('unframeable', `length header ${length} is beyond any frame the plugin can send; closing the connection`);
  }

  private reject(reason: RejectReason, detail: string): void {
    this.ingest.reject(this, reason, detail);
  }
}
