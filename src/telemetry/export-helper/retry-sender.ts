/**
 * What becomes of an export attempt (the Collector's retry sender). Exported: counted, the
 * back-off reset. Failed for a reason that may pass (network, timeout, 429/502/503/504,
 * UNAVAILABLE...): the batch goes back to the head of the queue as far as there is room (the
 * rest is dropped, export_failed) and exporting pauses with the exponential back-off, so an
 * unreachable collector costs a bounded queue, one log line per interval and counted drops.
 * Refused for good: bisected when one item may be the cause (refusal-bisector.ts), else dropped
 * (rejected), never retried.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { SidecarLogger } from '../../logging/sidecar-logger.js';
import { classifyExportFailure } from '../export-rejection.js';
import { firstLine } from '../export-outage.js';
import type { BoundedQueue } from './bounded-queue.js';
import type { ExportAccounting } from './export-accounting.js';
import type { ExportBackoff } from './export-backoff.js';
import type { ExportItem, ExportSignal } from './export-item.js';
import { pausesExport, type RefusalBisector, type RefusedBatch, type SplitPart } from './refusal-bisector.js';

export class RetrySender {
  constructor(
    private readonly queue: BoundedQueue,
    private readonly bisector: RefusalBisector,
    private readonly backoff: ExportBackoff,
    private readonly accounting: ExportAccounting,
    private readonly logger: SidecarLogger,
    private readonly signal: ExportSignal,
    /** Asks for a later turn of the batch sender (after a back-off, or for put-back items). */
    private readonly schedule: () => void,
  ) {}

  /** An attempt's answer (BatchSender's AnswerHandler). */
  settle(batch: ExportItem[], part: SplitPart | null, result: ExportResult, thrown: boolean): void {
    if (result.code === ExportResultCode.SUCCESS) {
      this.accounting.succeeded(batch);
      this.backoff.reset();
      if (part !== null) this.bisector.accepted(part);
    } else {
      const verdict = classifyExportFailure(result.error, thrown);
      if (verdict === 'retry') this.failed(batch, result.error);
      else if (!this.bisector.take(batch, part, verdict === 'split')) this.drop(batch, result.error, part?.origin ?? null);
    }
    if (part !== null) this.bisector.answered(part, (records, origin) => this.drop(records, undefined, origin));
  }

  /** Refused items leave for good: counted once, here. `origin`: the batch they were part of, if split. */
  private drop(batch: ExportItem[], error: Error | undefined, origin: RefusedBatch | null): void {
    this.accounting.drop('rejected', batch);
    // Nothing of this batch was taken: the collector may refuse everything. Pause as after a
    // failure (once per batch), so that a refusing collector is not sent one batch after another.
    if (pausesExport(origin)) this.backoff.pause();
    this.logger.limited('warn', `${this.signal.name}-export-rejected`, 10_000, `${this.signal.items} refused by the exporter for good: dropped, not retried`, {
      ...(error ? { error: firstLine(error), code: (error as { code?: unknown }).code } : {}),
      records: batch.length,
      droppedRejected: this.accounting.dropped.rejected,
    });
    this.schedule();
  }

  private failed(batch: ExportItem[], error: Error | undefined): void {
    this.accounting.failed(error);
    const backoffMs = this.backoff.pause();
    this.logger.limited('warn', `${this.signal.name}-export-failed`, 10_000, `${this.signal.name} export failed; retrying with back-off`, {
      error: firstLine(error),
      backoffMs,
      // The failed batch goes back to the queue after this line: counted here, not twice.
      queued: this.queue.length,
      retrying: batch.length,
      failedExports: this.accounting.failedExports,
      droppedQueueFull: this.accounting.dropped.queue_full,
    });
    // Retry: back at the head of the queue, as far as there is room.
    const keep = this.queue.putBack(batch);
    if (keep < batch.length) this.accounting.drop('export_failed', batch, keep);
    this.schedule();
  }
}
