/**
 * An exporter behind the export chain, as the Collector's exporterhelper chains its senders:
 * the sending queue (bounded-queue.ts), batching (batch-sender.ts), retry and bisection of
 * refused batches (retry-sender.ts, refusal-bisector.ts, export-backoff.ts), one attempt with a
 * deadline (export-timeout.ts), and the accounting of every item (export-accounting.ts):
 * exported, or dropped with a reason (queue_full, export_failed, rejected, shutdown).
 *
 * It plays the SDK's batching processor's part for log records and for spans; unlike that
 * processor it never drops silently and retries what may pass. add() is the hot path: it never
 * awaits and allocates nothing per item but the queue's slot.
 */
import type { SidecarLogger } from '../../logging/sidecar-logger.js';
import { BoundedQueue } from './bounded-queue.js';
import { BatchSender } from './batch-sender.js';
import { ExportAccounting, type DropReason } from './export-accounting.js';
import { ExportBackoff } from './export-backoff.js';
import { LOG_SIGNAL, type EncodedRecordStore, type ExportItem, type ExportSignal, type ItemExporter } from './export-item.js';
import { RefusalBisector } from './refusal-bisector.js';
import { RetrySender } from './retry-sender.js';

export interface QueuedExporterOptions {
  maxQueueSize: number;
  /** Bytes of queued items at most (encoded size, or RECORD_OBJECT_BYTES per object); default unlimited. */
  maxQueueBytes?: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  /** Batches in flight at once. */
  maxConcurrentExports?: number;
  /** First and longest pause after a failed export. */
  minBackoffMillis?: number;
  maxBackoffMillis?: number;
  /** Default: log records. */
  signal?: ExportSignal;
}

export class QueuedExporter {
  /** The counts of exported and dropped items. */
  readonly accounting = new ExportAccounting();
  private readonly queue: BoundedQueue;
  private readonly bisector = new RefusalBisector();
  private readonly backoff: ExportBackoff;
  private readonly batches: BatchSender;
  private readonly signal: ExportSignal;

  constructor(
    private readonly exporter: ItemExporter,
    readonly options: QueuedExporterOptions,
    private readonly logger: SidecarLogger,
  ) {
    this.signal = options.signal ?? LOG_SIGNAL;
    this.queue = new BoundedQueue(options.maxQueueSize, options.maxQueueBytes ?? Infinity);
    this.backoff = new ExportBackoff(options.minBackoffMillis ?? 1000, options.maxBackoffMillis ?? 30_000);
    const batching = { ...options, maxConcurrentExports: options.maxConcurrentExports ?? 2 };
    const retry = new RetrySender(this.queue, this.bisector, this.backoff, this.accounting, logger, this.signal, () => this.batches.schedule());
    this.batches = new BatchSender(this.queue, this.bisector, this.backoff, exporter, batching, (b, p, r, t) => retry.settle(b, p, r, t));
  }

  get exported(): number {
    return this.accounting.exported;
  }

  get failedExports(): number {
    return this.accounting.failedExports;
  }

  get failedByType() {
    return this.accounting.failedByType;
  }

  get dropped(): Readonly<Record<DropReason, number>> {
    return this.accounting.dropped;
  }

  /** Items lost for any reason. */
  get droppedTotal(): number {
    return this.accounting.droppedTotal;
  }

  /** The longest pause between two attempts while exports fail. */
  get maxBackoff(): number {
    return this.backoff.maxMs;
  }

  /** Told of every item that leaves for good (ExportAccounting.onRelease). */
  set onRelease(f: ((item: ExportItem) => void) | null) {
    this.accounting.onRelease = f;
  }

  /** Holds the bytes of queued handles (LogRecordEncoder); needed when handles are queued. */
  set store(s: EncodedRecordStore | null) {
    this.queue.store = s;
    this.accounting.store = s;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Bytes of the items queued (not yet handed to the exporter). */
  get bytesQueued(): number {
    return this.queue.byteSize;
  }

  /** Items queued or being exported: neither exported nor dropped yet. */
  get pending(): number {
    return this.queue.length + this.exporting;
  }

  /**
   * Items handed to the exporter and not answered yet (or halves of a refused batch waiting
   * their turn): during an outage, the batch the exporter keeps retrying.
   */
  get exporting(): number {
    return this.bisector.splitRecords + this.bisector.heldRecords + this.batches.inFlightRecords;
  }

  add(item: ExportItem): void {
    if (this.batches.stopped) {
      this.accounting.drop('shutdown', [item]);
      return;
    }
    if (!this.queue.offer(item)) {
      this.accounting.drop('queue_full', [item]);
      this.logger.limited('warn', `${this.signal.name}-queue-full`, 10_000, `${this.signal.name} export queue full: dropping ${this.signal.items}`, {
        dropped: this.accounting.dropped.queue_full,
        maxQueueSize: this.options.maxQueueSize,
        maxQueueBytes: this.options.maxQueueBytes,
        queuedBytes: this.queue.byteSize,
      });
      return;
    }
    this.batches.queued();
  }

  /**
   * Exports what it can within timeoutMs (default: the export timeout), then counts whatever is
   * still queued or in flight as dropped (reason shutdown) and stops the exporter, also within
   * the deadline: an exporter that does not stop in time is left behind.
   */
  async shutdown(timeoutMs = this.options.exportTimeoutMillis): Promise<void> {
    if (this.batches.stopped) return;
    const deadline = Date.now() + timeoutMs;
    await this.drain(deadline);
    this.abandon();
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exporter.shutdown().catch(() => {}),
      new Promise<void>((r) => (t = setTimeout(r, Math.max(1, deadline - Date.now())))),
    ]);
    clearTimeout(t);
  }

  /**
   * Stops exporting now: items still queued or in flight are counted as dropped (reason
   * shutdown) and logged once. Idempotent; the caller's deadline may call it before shutdown()
   * finishes.
   */
  abandon(): void {
    if (this.batches.stopped) return;
    const left = this.pending;
    this.batches.stop();
    if (left > 0) {
      this.accounting.dropped.shutdown += left;
      this.logger.warn(`${this.signal.items} not exported before the shutdown deadline`, { dropped: left });
    }
    // In-flight items are not released: the exporter may still be reading them.
    this.accounting.release(this.queue.takeAll());
    for (const part of this.bisector.clear()) this.accounting.release(part);
  }

  /** Exports everything queued, ignoring back-off, until empty or the deadline. */
  private async drain(deadline: number): Promise<void> {
    this.backoff.lift();
    while (!this.batches.stopped && this.batches.busy && Date.now() < deadline) {
      this.batches.pump(true);
      // An exporter that completes synchronously (the console one) has already woken the
      // waiters inside pump(): waiting now would sleep until the deadline.
      if (!this.batches.busy) break;
      // A failed export during drain puts items back; stop retrying once past the deadline.
      await this.batches.waitForProgress(deadline);
    }
  }
}
