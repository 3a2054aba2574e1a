/**
 * The accounting of an export chain (the Collector's obsreport sender): every item ends exported
 * or dropped with a reason, counted once, and released once when it leaves for good so that its
 * bytes can be reused. The pipeline turns these counts into the otel.sdk.* self-metrics
 * (writeExportCounts).
 */
import { ErrorTypeCounts } from '../export-error-type.js';
import type { SumFamily } from '../../metrics/metric-store.js';
import type { EncodedRecordStore, ExportItem } from './export-item.js';

export type DropReason = 'queue_full' | 'export_failed' | 'rejected' | 'shutdown';

export class ExportAccounting {
  exported = 0;
  /** Exports that failed for a reason that may pass (retried). */
  failedExports = 0;
  /** The same failures by error.type. */
  readonly failedByType = new ErrorTypeCounts();
  readonly dropped: Record<DropReason, number> = { queue_full: 0, export_failed: 0, rejected: 0, shutdown: 0 };
  /**
   * Told of every item that leaves for good (exported or dropped), so that the encoder can reuse
   * its bytes. Items still in flight at shutdown are not reported: they are simply garbage.
   */
  onRelease: ((item: ExportItem) => void) | null = null;
  /** Holds the bytes of handles (LogRecordEncoder): a handle leaving for good is released there. */
  store: EncodedRecordStore | null = null;

  /** Items lost for any reason. */
  get droppedTotal(): number {
    let n = 0;
    for (const k in this.dropped) n += this.dropped[k as DropReason];
    return n;
  }

  succeeded(batch: readonly ExportItem[]): void {
    this.exported += batch.length;
    this.release(batch);
  }

  failed(error: Error | undefined): void {
    this.failedExports++;
    this.failedByType.add(error);
  }

  /** items[from..to) leave for good, dropped for `reason`. */
  drop(reason: DropReason, items: readonly ExportItem[], from = 0, to = items.length): void {
    this.dropped[reason] += to - from;
    this.release(items, from, to);
  }

  /** Items leave for good without a count of their own (already counted, or in flight and lost). */
  release(items: readonly ExportItem[], from = 0, to = items.length): void {
    const r = this.onRelease;
    const store = this.store;
    for (let i = from; i < to; i++) {
      const x = items[i]!;
      if (typeof x === 'number') store?.release(x);
      if (r !== null) r(x);
    }
  }
}

/** The counters of one chain as the SDK's self-metrics (semconv otel.sdk.*). */
export interface ExportCountSeries {
  /** otel.sdk.{log,span}.processed (the batching processor's part). */
  processed: SumFamily;
  /** otel.sdk.exporter.{log,span}.exported. */
  exported: SumFamily;
  queueSize: SumFamily;
  queueCapacity: SumFamily;
  exportFailures: SumFamily;
}

/**
 * Writes one chain's counts: `processor` (batching_log_processor, batching_span_processor) and
 * `exporter` (otlp_http_log_exporter...) are the component types, each instance /0.
 */
export function writeExportCounts(
  a: ExportAccounting,
  queue: { queued: number; capacity: number },
  series: ExportCountSeries,
  processor: string,
  exporter: string,
): void {
  const d = a.dropped;
  const p = `${processor}/0`;
  const e = `${exporter}/0`;
  series.processed.get(processor, p, '').value = a.exported + d.export_failed + d.rejected;
  series.processed.get(processor, p, 'queue_full').value = d.queue_full;
  series.processed.get(processor, p, 'shutdown').value = d.shutdown;
  series.exported.get(exporter, e, '').value = a.exported;
  series.exported.get(exporter, e, 'export_failed').value = d.export_failed;
  series.exported.get(exporter, e, 'rejected').value = d.rejected;
  series.queueSize.get(processor, p).value = queue.queued;
  series.queueCapacity.get(processor, p).value = queue.capacity;
  // A zero series without error.type, so that rate() reads 0 before the first failure.
  series.exportFailures.get(exporter, '');
  for (const [type, n] of a.failedByType.counts) series.exportFailures.get(exporter, type).value = n;
}
