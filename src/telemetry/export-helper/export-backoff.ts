/**
 * The pause after a failed or wholly refused export: exponential, from the first to the longest
 * interval, back to the first after a success (the Collector's retry sender's back-off). While
 * it runs no batch leaves; the items wait in the queue.
 */
export class ExportBackoff {
  private until = 0;
  private nextMs: number;

  constructor(
    readonly minMs: number,
    readonly maxMs: number,
  ) {
    this.nextMs = minMs;
  }

  /** Whether exporting is paused now. */
  get active(): boolean {
    return Date.now() < this.until;
  }

  /** Milliseconds left of the pause (0 or less: none). */
  get remainingMs(): number {
    return this.until - Date.now();
  }

  /** Pauses exporting for the next interval and doubles the one after; returns the pause. */
  pause(): number {
    const ms = this.nextMs;
    this.until = Date.now() + ms;
    this.nextMs = Math.min(ms * 2, this.maxMs);
    return ms;
  }

  /** An export succeeded: the next pause is the first interval again. */
  reset(): void {
    this.nextMs = this.minMs;
  }

  /** Ends the current pause (at shutdown, to export what is left). */
  lift(): void {
    this.until = 0;
  }
}
