/**
 * One plugin connection: bytes -> frames -> events -> sink. Knows nothing about sockets, so it
 * can be driven by any byte source (tests feed it chunks directly).
 */
import { FrameDecoder, type FrameHandler } from '../framing/frame-decoder.js';
import type { FrameBudget } from '../framing/frame-budget.js';
import { EventDecoder } from '../decoding/event-decoder.js';
import type { EventSink } from '../sinks/event-sink.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { CloseReason, IngestStats, RejectReason } from './ingest-stats.js';

/** At most one log line per reject reason and interval, across all connections. */
const REJECT_LOG_INTERVAL_MS = 10_000;

export class ConnectionHandler implements FrameHandler {
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

  private readonly frameDecoder: FrameDecoder;
  private readonly eventDecoder: EventDecoder;
  private nowMs = 0;

  constructor(
    private readonly peer: string,
    private readonly sink: EventSink,
    private readonly stats: IngestStats,
    private readonly logger: SidecarLogger,
    maxFrameBytes: number,
    eventDecoder: EventDecoder = new EventDecoder(),
    budget: FrameBudget | null = null,
  ) {
    this.frameDecoder = new FrameDecoder(this, maxFrameBytes, budget);
    this.eventDecoder = eventDecoder;
  }

  push(chunk: Buffer): void {
    // One clock read per chunk, not per event: a chunk is read in well under a millisecond.
    this.nowMs = Date.now();
    this.lastActivityMs = this.nowMs;
    this.bytes += chunk.length;
    this.reads++;
    this.stats.bytesReceived += chunk.length;
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
    const stats = this.stats;
    stats.framesReceived++;
    const dec = this.eventDecoder;
    const event = dec.decode(buf, start, end, this.nowMs);
    if (event === null) {
      this.reject(dec.failure, dec.failureDetail);
      return;
    }
    this.events++;
    stats.countEvent(event, this.nowMs);
    if (!event.timeMissing) {
      const t = event.timeSec * 1000 + event.timeNanos / 1e6;
      if (t > this.latestBrokerMs) this.latestBrokerMs = t;
    }
    try {
      this.sink.consume(event, this.nowMs);
    } catch (err) {
      // A bug in a sink, not bad input: logged as an error, with the hook that triggered it.
      this.reject('sink_error', (err as Error)?.stack ?? String(err), 'error', event.hook);
    }
  }

  onOversizedFrame(length: number): void {
    this.reject('oversized', `frame of ${length} bytes is over --max-frame-bytes; skipped`);
  }

  onUnframeable(length: number): void {
    this.unframeable = true;
    this.reject('unframeable', `length header ${length} is beyond any frame the plugin can send; closing the connection`);
  }

  private reject(reason: RejectReason, detail: string, level: 'warn' | 'error' = 'warn', hook?: string): void {
    this.rejected++;
    this.stats.rejected[reason]++;
    this.logger.limited(level, reason, REJECT_LOG_INTERVAL_MS, level === 'error' ? 'event sink failed' : 'frame rejected', {
      reason,
      peer: this.peer,
      ...(hook === undefined ? {} : { hook }),
      detail,
    });
  }
}
