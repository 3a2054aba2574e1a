/**
 * Splits a TCP byte stream into length-prefixed frames: a 4-byte big-endian unsigned length,
 * then that many bytes (Netty's LengthFieldBasedFrameDecoder with offset 0, length 4,
 * adjustment 0, strip 4, as the plugin's documentation specifies).
 *
 * A resumable state machine: chunks may split a frame at any byte or carry thousands of frames.
 * Frames wholly inside one chunk are handed on as (chunk, start, end) without copying; only a
 * frame that spans chunks is assembled. A frame up to GROW_FROM bytes is copied exactly once
 * into a buffer of its own size. A longer one is collected in segments allocated as its bytes
 * arrive, each as large as all before it (so at most twice what has arrived, never more than
 * the declared length), and joined once when complete: memory follows what a peer has really
 * sent, not what it announced, no buffer is thrown away while collecting (growing one buffer by
 * copying would leave garbage of the same size behind), and each byte is copied twice. The cost
 * stays linear whatever the split pattern. Buffered bytes are accounted in a FrameBudget shared
 * by every connection.
 */
import type { FrameBudget } from './frame-budget.js';

/** Largest frame any sender could plausibly produce: MQTT's 256 MiB packet limit plus envelope. */
export const UNFRAMEABLE_LENGTH = 256 * 1024 * 1024 + 1024 * 1024;

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Frames up to this length get their whole buffer at once; longer ones are collected in growing segments. */
export const GROW_FROM = 64 * 1024;

export interface FrameHandler {
  /** One complete frame body in buf[start, end). The bytes may be reused after the call returns. */
  onFrame(buf: Buffer, start: number, end: number): void;
  /** A frame longer than the configured maximum was skipped without being buffered. */
  onOversizedFrame(length: number): void;
  /**
   * The stream announced a length no sender can produce: framing is lost and the caller must
   * close the connection. No further bytes are processed after this.
   */
  onUnframeable(length: number): void;
}

const enum State {
  Header = 0,
  Body = 1,
  Discard = 2,
  Failed = 3,
}

export class FrameDecoder {
  private state: State = State.Header;
  /** Bytes of the length header collected so far when it spans chunks. */
  private headerFill = 0;
  private headerValue = 0;
  /** Segments of the frame being assembled across chunks; the last one is being filled. */
  private readonly segments: Buffer[] = [];
  private segmentFill = 0;
  /** Bytes of the frame received so far, and its declared length. */
  private bodyFill = 0;
  private bodyLength = 0;
  /** Bytes of frame buffer this decoder holds (accounted in the budget). */
  held = 0;
  /** Bytes still to skip of an oversized frame. */
  private discardLeft = 0;

  constructor(
    private readonly handler: FrameHandler,
    private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
    private readonly budget: FrameBudget | null = null,
  ) {}

  /** True when the stream stopped in the middle of a frame (header or body). */
  get midFrame(): boolean {
    return this.state === State.Body || this.state === State.Discard || this.headerFill > 0;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  push(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      switch (this.state) {
        case State.Header: {
          if (this.headerFill === 0) {
            // Fast path: the common case is whole frames back to back inside one chunk.
            while (pos + 4 <= len) {
              const frameLen = chunk.readUInt32BE(pos);
              const start = pos + 4;
              const end = start + frameLen;
              if (frameLen <= this.maxFrameBytes && end <= len) {
                pos = end;
                this.handler.onFrame(chunk, start, end);
                if ((this.state as State) === State.Failed) return;
                continue;
              }
              pos = start;
              if (!this.beginFrame(frameLen, len - pos)) return;
              break;
            }
            if (this.state !== State.Header || pos >= len) break;
          }
          // Slow path: the header itself is split across chunks.
          while (pos < len && this.headerFill < 4) {
            this.headerValue = this.headerValue * 256 + chunk[pos++]!;
            this.headerFill++;
          }
          if (this.headerFill === 4) {
            const frameLen = this.headerValue;
            this.headerFill = 0;
            this.headerValue = 0;
            if (!this.beginFrame(frameLen, len - pos)) return;
          }
          break;
        }
        case State.Body: {
          const segments = this.segments;
          let seg = segments[segments.length - 1]!;
          if (this.segmentFill === seg.length) {
            const next = this.addSegment();
            if (next === null) return;
            seg = next;
          }
          const want = seg.length - this.segmentFill;
          const take = want < len - pos ? want : len - pos;
          chunk.copy(seg, this.segmentFill, pos, pos + take);
          this.segmentFill += take;
          this.bodyFill += take;
          pos += take;
          if (this.bodyFill === this.bodyLength) {
            const body = segments.length === 1 ? seg : Buffer.concat(segments, this.bodyLength);
            segments.length = 0;
            this.segmentFill = 0;
            this.bodyFill = 0;
            this.state = State.Header;
            this.releaseHeld();
            this.handler.onFrame(body, 0, body.length);
            if ((this.state as State) === State.Failed) return;
          }
          break;
        }
        case State.Discard: {
          const take = this.discardLeft < len - pos ? this.discardLeft : len - pos;
          this.discardLeft -= take;
          pos += take;
          if (this.discardLeft === 0) this.state = State.Header;
          break;
        }
        case State.Failed:
          return;
      }
    }
  }

  /** Stops all further processing (used when the owner gives up on the stream). */
  fail(): void {
    this.state = State.Failed;
    this.segments.length = 0;
    this.releaseHeld();
  }

  /**
   * The next segment of the frame being assembled: as large as everything received so far,
   * capped at what is still to come. Returns null when the budget's enforcement closed this very
   * stream to make room.
   */
  private addSegment(): Buffer | null {
    const left = this.bodyLength - this.bodyFill;
    const size = this.bodyFill < left ? this.bodyFill : left;
    if (!this.hold(size)) return null;
    const seg = Buffer.allocUnsafe(size);
    this.segments.push(seg);
    this.segmentFill = 0;
    return seg;
  }

  /** Accounts `bytes` more held; false when that got this stream failed (over budget). */
  private hold(bytes: number): boolean {
    this.held += bytes;
    this.budget?.reserve(bytes);
    return this.state !== State.Failed;
  }

  private releaseHeld(): void {
    if (this.held > 0) {
      this.budget?.release(this.held);
      this.held = 0;
    }
  }

  /**
   * Decides what to do with a frame whose length header has just been read and whose body
   * starts at the current position (not wholly available). Returns false if the stream failed.
   */
  private beginFrame(frameLen: number, available: number): boolean {
    if (frameLen > UNFRAMEABLE_LENGTH) {
      this.fail();
      this.handler.onUnframeable(frameLen);
      return false;
    }
    if (frameLen > this.maxFrameBytes) {
      this.handler.onOversizedFrame(frameLen);
      this.discardLeft = frameLen;
      this.state = State.Discard;
      return true;
    }
    if (frameLen === 0) {
      this.handler.onFrame(EMPTY, 0, 0);
      return this.state !== State.Failed;
    }
    // A long frame starts with a buffer for what has arrived so far (at least GROW_FROM) and
    // grows as the rest comes.
    const size = frameLen <= GROW_FROM ? frameLen : Math.min(frameLen, Math.max(GROW_FROM, available));
    this.bodyLength = frameLen;
    this.bodyFill = 0;
    this.state = State.Body;
    if (!this.hold(size)) return false;
    this.segments.push(Buffer.allocUnsafe(size));
    this.segmentFill = 0;
    return true;
  }
}

const EMPTY = Buffer.alloc(0);
