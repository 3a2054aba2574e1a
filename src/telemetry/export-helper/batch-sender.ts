/**
 * Batching and dispatch (the Collector's batch sender and its consumers): a batch leaves when
 * maxExportBatchSize items are queued or scheduledDelayMillis after the first, at most
 * maxConcurrentExports at once, never while the back-off runs; halves of refused batches go
 * first. Each attempt's answer goes to the retry sender (retry-sender.ts).
 */
import type { ExportResult } from '@opentelemetry/core';
import type { BoundedQueue } from './bounded-queue.js';
import type { ExportBackoff } from './export-backoff.js';
import type { ExportItem, ItemExporter } from './export-item.js';
import { exportWithTimeout } from './export-timeout.js';
import type { RefusalBisector, SplitPart } from './refusal-bisector.js';

export interface BatchOptions {
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  /** Batches in flight at once. */
  maxConcurrentExports: number;
}

/** An attempt's answer; `part`: the half of a refused batch it carried, if it did. */
export type AnswerHandler = (batch: ExportItem[], part: SplitPart | null, result: ExportResult, thrown: boolean) => void;

export class BatchSender {
  private inFlight = 0;
  /** Items handed to the exporter and not answered yet. */
  inFlightRecords = 0;
  /** Set once the chain stopped: late answers change nothing. */
  stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private repump = false;
  private repumpPartial = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly queue: BoundedQueue,
    private readonly bisector: RefusalBisector,
    private readonly backoff: ExportBackoff,
    private readonly exporter: ItemExporter,
    private readonly options: BatchOptions,
    private readonly answer: AnswerHandler,
  ) {}

  /** Items are waiting or in flight. */
  get busy(): boolean {
    return this.queue.length > 0 || this.bisector.hasParts || this.inFlight > 0;
  }

  /** An item was queued: a full batch leaves now, a partial one after the delay. */
  queued(): void {
    if (this.queue.length >= this.options.maxExportBatchSize) this.pump();
    else this.schedule();
  }

  schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    const wait = Math.max(this.options.scheduledDelayMillis, this.backoff.remainingMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump(true);
    }, wait);
    this.timer.unref();
  }

  /**
   * Sends what may leave now (`partial`: batches smaller than the batch size too). An exporter
   * that completes synchronously calls back into pump() from inside send(); the nested call only
   * marks that another turn is wanted, so the stack stays flat however many batches (or halves
   * of refused batches) complete in one go.
   */
  pump(partial = false): void {
    if (this.pumping) {
      this.repump = true;
      this.repumpPartial ||= partial;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        this.pumpOnce(partial || this.repumpPartial);
        this.repumpPartial = false;
      } while (this.repump);
    } finally {
      this.pumping = false;
    }
  }

  /** Resolves when an answer came that may let the caller go on, or at the deadline. */
  waitForProgress(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Stops sending: no more batches, answers still to come are ignored. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlightRecords = 0;
    this.wake();
  }

  private wake(): void {
    this.idleWaiters.splice(0).forEach((w) => w());
  }

  private pumpOnce(partial: boolean): void {
    if (this.stopped) return;
    if (this.backoff.active) {
      this.schedule();
      return;
    }
    const max = this.options.maxConcurrentExports;
    // Halves of refused batches first (refusal-bisector.ts bounds them per batch).
    while (this.inFlight < max && this.bisector.hasParts && !this.backoff.active) {
      const part = this.bisector.next()!;
      this.send(part.records, part);
    }
    // The back-off is checked on every turn: an exporter that fails synchronously (a serializer
    // or formatter that throws) puts its batch back at once, and without this check the loop
    // would send it again immediately, forever, without yielding.
    const size = this.options.maxExportBatchSize;
    while (!this.bisector.hasParts && this.inFlight < max && this.queue.length > 0 && (partial || this.queue.length >= size) && !this.backoff.active) {
      this.send(this.queue.take(size), null);
    }
    if (this.queue.length > 0 || this.bisector.hasParts) this.schedule();
  }

  private send(batch: ExportItem[], part: SplitPart | null): void {
    this.inFlight++;
    this.inFlightRecords += batch.length;
    exportWithTimeout(this.exporter, batch, this.options.exportTimeoutMillis, (result, thrown) => {
      this.inFlight--;
      if (this.stopped) return;
      this.inFlightRecords -= batch.length;
      this.answer(batch, part, result, thrown);
      const more = this.queue.length > 0 || this.bisector.hasParts;
      if (this.inFlight === 0 || more) this.wake();
      if (more) this.pump(true);
    });
  }
}
