/**
 * The seam between decoding and everything that consumes events.
 *
 * consume() is called on the hot path, synchronously, once per event: it must not await, do
 * I/O or keep a reference to byte fields (payload) past the call without copying them.
 */
import type { SidecarEvent } from '../events/event-types.js';

export interface EventSink {
  /** `arrivalMs`: when the bytes carrying the event were read (ms since the epoch). */
  consume(event: SidecarEvent, arrivalMs: number): void;
  /** Pushes out anything buffered; called on shutdown, bounded by the caller's deadline. */
  shutdown?(): Promise<void>;
}

/**
 * Hands each event to several sinks in order. A sink that throws does not keep the event from
 * the others; the error goes to onError.
 */
export class FanoutSink implements EventSink {
  constructor(
    private readonly sinks: readonly EventSink[],
    private readonly onError: (err: unknown, event: SidecarEvent) => void,
  ) {}

  consume(event: SidecarEvent, arrivalMs: number): void {
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.consume(event, arrivalMs);
      } catch (err) {
        this.onError(err, event);
      }
    }
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.shutdown?.()));
  }
}
