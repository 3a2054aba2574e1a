/**
 * The memory budget for partial frames, shared by every connection: the bytes held in frame
 * buffers waiting for the rest of their frame. Without it, peers that each send all but the
 * last byte of a large frame hold that memory for as long as they like.
 */

export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

/** What the budget asks of the buffers' owner when it is exceeded. */
export interface BudgetEnforcer {
  /**
   * Called while `used` exceeds `limit`: release the largest holder's buffer (closing its
   * connection). Returns false when nothing can be released.
   */
  releaseLargest(): boolean;
}

export class FrameBudget {
  /** Bytes held now by all frame buffers. */
  used = 0;
  /** Highest `used` seen, for reports. */
  peak = 0;

  constructor(
    readonly limit: number = DEFAULT_MAX_BUFFERED_BYTES,
    /** Who releases a holder when the budget is exceeded (the TCP receiver); null: nothing is released. */
    private readonly enforcer: BudgetEnforcer | null = null,
  ) {}

  /**
   * Accounts `bytes` more for a holder (already added to the holder's own count, so that it can
   * be chosen), then releases holders until the total is back within the limit.
   */
  reserve(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    while (this.used > this.limit && this.enforcer !== null && this.enforcer.releaseLargest()) {
      // releaseLargest() gave memory back through release().
    }
  }

  /**
   * Accounts `bytes` only when they fit within the limit (a gRPC message about to be held): the
   * caller refuses what does not fit instead of closing someone else's connection.
   */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}
