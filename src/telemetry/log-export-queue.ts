/**
 * A batching export queue for log records that never blocks the hot path and accounts for
 * every record: exported, or dropped with a reason (queue_full, export_failed, rejected,
 * shutdown).
 *
 * The SDK's BatchLogRecordProcessor drops silently when full and does not retry; here a batch
 * that fails for a reason that may pass (network, timeout, 429/502/503/504, UNAVAILABLE...) is
 * put back at the head of the queue (when there is room) and exporting pauses with an
 * exponential back-off, so an unreachable collector costs a bounded queue, one log line per
 * interval, and counted drops, never memory growth or a flood of connection errors.
 *
 * A batch refused for good (export-rejection.ts says which errors those are) is never retried:
 * when the refusal can be about its size or about one record (HTTP 400/413, gRPC
 * INVALID_ARGUMENT/RESOURCE_EXHAUSTED, an exporter that throws), it is bisected and the halves
 * sent again, so only the record(s) that cannot be exported are dropped (reason rejected); any
 * other refusal (401, 403, 404...) drops the batch at once.
 *
 * Bisection is bounded, so that a collector refusing everything costs a small multiple of what
 * plain failure costs, not two requests per record (seen: 57,297 POSTs for 40,000 records):
 * - a batch is split two levels deep (7 requests) for free; deeper only once some part of it
 *   was accepted (the refusal is then about some records, not about everything);
 * - at most 4·⌈log2 n⌉ + 1 requests per batch of n (enough to isolate two bad records);
 * - a batch refused with no part accepted pauses exporting with the same exponential back-off
 *   as a failed export (reset by the next success).
 * Each refused record is counted once, when its part is dropped.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ErrorTypeCounts } from './export-error-type.js';
import { firstLine } from './export-outage.js';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { classifyExportFailure } from './export-rejection.js';

/**
 * A record as queued: an object, its OTLP protobuf bytes, or a handle to them in the store
 * (LogRecordEncoder, log-protobuf-serializer.ts).
 */
export type QueuedLogRecord = ReadableLogRecord | Uint8Array | number;

/** Where handles' bytes are: their size, and their release once they leave for good. */
export interface EncodedRecordStore {
  size(handle: number): number;
  release(handle: number): void;
}

/** What a record object counts against maxQueueBytes (an estimate: it is not serialized yet). */
export const RECORD_OBJECT_BYTES = 1024;

export interface LogExportQueueOptions {
  maxQueueSize: number;
  /** Bytes of queued records at most (encoded size, or RECORD_OBJECT_BYTES per object); default unlimited. */
  maxQueueBytes?: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  /** Batches in flight at once. */
  maxConcurrentExports?: number;
  /** First and longest pause after a failed export. */
  minBackoffMillis?: number;
  maxBackoffMillis?: number;
}

/** Split levels a refused batch gets before any part of it was accepted. */
const FREE_SPLIT_DEPTH = 2;

/** A refused batch being bisected: what its parts have cost and shown so far. */
interface RefusedBatch {
  /** Requests sent for it and its parts. */
  sends: number;
  /** Most requests it may cost. */
  readonly budget: number;
  /** A part of it was exported: the refusal is about some records, not every record. */
  accepted: boolean;
  /** Parts waiting to be sent or answered. */
  outstanding: number;
  /** Exporting was paused for it already (once per batch, however many of its parts are dropped). */
  pausedFor: boolean;
  /**
   * Refused parts past the free depth, waiting for the outstanding parts' answers: split further
   * when one of them is accepted, dropped when none is.
   */
  held: SplitPart[];
}

/** A half (of a half...) of a refused batch, waiting to be sent. */
interface SplitPart {
  records: QueuedLogRecord[];
  origin: RefusedBatch;
  depth: number;
}

/** Put where a record left the queue array, so that the array holds nothing it does not need. */
const EMPTY_RECORD: QueuedLogRecord = -1;

export type LogDropReason = 'queue_full' | 'export_failed' | 'rejected' | 'shutdown';

export class LogExportQueue {
  exported = 0;
  failedExports = 0;
  /** The same failures by error.type. */
  readonly failedByType = new ErrorTypeCounts();
  readonly dropped: Record<LogDropReason, number> = { queue_full: 0, export_failed: 0, rejected: 0, shutdown: 0 };

  private queue: QueuedLogRecord[] = [];
  /** Bytes of the records in `queue` from `head` on. */
  private queuedBytes = 0;
  private readonly maxBytes: number;
  private head = 0;
  private inFlight = 0;
  private inFlightRecords = 0;
  /** Halves of refused batches, sent before the queue (see the header comment). */
  private splits: SplitPart[] = [];
  private splitRecords = 0;
  /** Records in RefusedBatch.held parts. */
  private heldRecords = 0;
  private readonly holding = new Set<RefusedBatch>();
  /** Set once what was left at shutdown has been counted: late completions change nothing. */
  private abandoned = false;
  private pumping = false;
  private repump = false;
  private repumpPartial = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffUntil = 0;
  private backoffMs: number;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];
  /**
   * Told of every record that leaves for good (exported or dropped), so that the encoder can
   * reuse its bytes (LogRecordEncoder.release). Records still in flight at shutdown are not
   * reported: they are simply garbage.
   */
  onRelease: ((record: QueuedLogRecord) => void) | null = null;
  /** Holds the bytes of queued handles (LogRecordEncoder); needed when handles are queued. */
  store: EncodedRecordStore | null = null;

  private bytesOf(r: QueuedLogRecord): number {
    if (typeof r === 'number') return this.store!.size(r);
    return r instanceof Uint8Array ? r.length : RECORD_OBJECT_BYTES;
  }
  private readonly maxConcurrent: number;
  private readonly minBackoff: number;
  /** The longest pause between two attempts while exports fail. */
  readonly maxBackoff: number;

  constructor(
    private readonly exporter: LogRecordExporter,
    readonly options: LogExportQueueOptions,
    private readonly logger: SidecarLogger,
  ) {
    this.maxConcurrent = options.maxConcurrentExports ?? 2;
    this.minBackoff = options.minBackoffMillis ?? 1000;
    this.maxBackoff = options.maxBackoffMillis ?? 30_000;
    this.backoffMs = this.minBackoff;
    this.maxBytes = options.maxQueueBytes ?? Infinity;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Records queued or being exported: neither exported nor dropped yet. */
  get pending(): number {
    return this.queued + this.splitRecords + this.heldRecords + this.inFlightRecords;
  }

  /**
   * Records handed to the exporter and not answered yet (or halves of a refused batch waiting
   * their turn): during an outage, the batch the exporter keeps retrying.
   */
  get exporting(): number {
    return this.splitRecords + this.heldRecords + this.inFlightRecords;
  }

  /** Records lost for any reason. */
  get droppedTotal(): number {
    let n = 0;
    for (const k in this.dropped) n += this.dropped[k as LogDropReason];
    return n;
  }

  /** Bytes of the records queued (not yet handed to the exporter). */
  get bytesQueued(): number {
    return this.queuedBytes;
  }

  private release(records: readonly QueuedLogRecord[], from = 0, to = records.length): void {
    const r = this.onRelease;
    const store = this.store;
    for (let i = from; i < to; i++) {
      const x = records[i]!;
      if (typeof x === 'number') store?.release(x);
      if (r !== null) r(x);
    }
  }

  add(record: QueuedLogRecord): void {
    if (this.closed) {
      this.dropped.shutdown++;
      this.release([record]);
      return;
    }
    const size = this.bytesOf(record);
    if (this.queued >= this.options.maxQueueSize || this.queuedBytes + size > this.maxBytes) {
      this.dropped.queue_full++;
      this.logger.limited('warn', 'log-queue-full', 10_000, 'log export queue full: dropping log records', {
        dropped: this.dropped.queue_full,
        maxQueueSize: this.options.maxQueueSize,
        maxQueueBytes: this.options.maxQueueBytes,
        queuedBytes: this.queuedBytes,
      });
      this.release([record]);
      return;
    }
    this.queuedBytes += size;
    this.queue.push(record);
    if (this.queued >= this.options.maxExportBatchSize) this.pump();
    else this.schedule();
  }

  /**
   * Exports what it can within timeoutMs (default: the export timeout), then counts whatever is
   * still queued or in flight as dropped (reason shutdown) and stops the exporter, also within
   * the deadline: an exporter that does not stop in time is left behind.
   */
  async shutdown(timeoutMs = this.options.exportTimeoutMillis): Promise<void> {
    if (this.closed) return;
    const deadline = Date.now() + timeoutMs;
    await this.drain(timeoutMs);
    this.abandon();
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exporter.shutdown().catch(() => {}),
      new Promise<void>((r) => (t = setTimeout(r, Math.max(1, deadline - Date.now())))),
    ]);
    clearTimeout(t);
  }

  /**
   * Stops exporting now: records still queued or in flight are counted as dropped (reason
   * shutdown) and logged once. Idempotent; the caller's deadline may call it before shutdown()
   * finishes.
   */
  abandon(): void {
    this.closed = true;
    if (this.abandoned) return;
    this.abandoned = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.pending;
    if (left > 0) {
      this.dropped.shutdown += left;
      this.logger.warn('log records not exported before the shutdown deadline', { dropped: left });
    }
    this.release(this.queue, this.head);
    for (const part of this.splits) this.release(part.records);
    for (const origin of this.holding) for (const part of origin.held) this.release(part.records);
    this.holding.clear();
    this.heldRecords = 0;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.splits = [];
    this.splitRecords = 0;
    this.inFlightRecords = 0;
    this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** Exports everything queued, ignoring back-off, until empty or the deadline. */
  private async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.backoffUntil = 0;
    while (!this.abandoned && (this.queued > 0 || this.splitRecords > 0 || this.inFlight > 0) && Date.now() < deadline) {
      this.pump(true);
      // An exporter that completes synchronously (the console one) has already woken the
      // waiters inside pump(): waiting now would sleep until the deadline.
      if (this.queued === 0 && this.splitRecords === 0 && this.inFlight === 0) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      // A failed export during drain puts records back; stop retrying once past the deadline.
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    const wait = Math.max(this.options.scheduledDelayMillis, this.backoffUntil - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump(true);
    }, wait);
    this.timer.unref();
  }

  /**
   * An exporter that completes synchronously calls back into pump() from inside send(); the
   * nested call only marks that another turn is wanted, so the stack stays flat however many
   * batches (or halves of refused batches) complete in one go.
   */
  private pump(partial = false): void {
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

  private pumpOnce(partial: boolean): void {
    if (this.abandoned) return;
    if (Date.now() < this.backoffUntil) {
      this.schedule();
      return;
    }
    // Halves of refused batches first; each split is final work (bounded per batch, see the
    // header comment), so even an exporter that throws for every record cannot make this loop spin.
    while (this.inFlight < this.maxConcurrent && this.splits.length > 0 && Date.now() >= this.backoffUntil) {
      const part = this.splits.pop()!;
      this.splitRecords -= part.records.length;
      this.send(part.records, part);
    }
    // The back-off is checked on every turn: an exporter that fails synchronously (a serializer
    // or formatter that throws) puts its batch back at once, and without this check the loop
    // would send it again immediately, forever, without yielding.
    while (
      this.splits.length === 0 &&
      this.inFlight < this.maxConcurrent &&
      this.queued > 0 &&
      (partial || this.queued >= this.options.maxExportBatchSize) &&
      Date.now() >= this.backoffUntil
    ) {
      const n = Math.min(this.queued, this.options.maxExportBatchSize);
      const batch = this.queue.slice(this.head, this.head + n);
      for (let i = 0; i < n; i++) {
        this.queuedBytes -= this.bytesOf(batch[i]!);
        // Released now, not when the queue array is next compacted.
        this.queue[this.head + i] = EMPTY_RECORD;
      }
      this.head += n;
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.send(batch);
    }
    if (this.queued > 0 || this.splits.length > 0) this.schedule();
  }

  private send(batch: QueuedLogRecord[], part: SplitPart | null = null): void {
    this.inFlight++;
    this.inFlightRecords += batch.length;
    let settled = false;
    let thrown = false;
    const done = (result: ExportResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      this.inFlight--;
      if (this.abandoned) return;
      this.inFlightRecords -= batch.length;
      if (result.code === ExportResultCode.SUCCESS) {
        this.exported += batch.length;
        this.release(batch);
        this.backoffMs = this.minBackoff;
        if (part !== null) part.origin.accepted = true;
      } else {
        const verdict = classifyExportFailure(result.error, thrown);
        if (verdict === 'retry') this.failed(batch, result.error);
        else this.refused(batch, result.error, verdict === 'split', part);
      }
      if (part !== null) {
        part.origin.outstanding--;
        this.settleHeld(part.origin);
      }
      const more = this.queued > 0 || this.splits.length > 0;
      if (this.inFlight === 0 || more) this.idleWaiters.splice(0).forEach((w) => w());
      if (more) this.pump(true);
    };
    const guard = setTimeout(() => done({ code: ExportResultCode.FAILED, error: new Error(`export timed out after ${this.options.exportTimeoutMillis} ms`) }), this.options.exportTimeoutMillis);
    guard.unref();
    try {
      // Batches of bytes go to an exporter with the wire serializer (exporters.ts).
      this.exporter.export(batch as ReadableLogRecord[], done);
    } catch (err) {
      thrown = true;
      done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  /** A batch refused for good: bisected when one record may be the cause (within bounds), else dropped. */
  private refused(batch: QueuedLogRecord[], error: Error | undefined, bisect: boolean, part: SplitPart | null): void {
    if (bisect && batch.length > 1 && !this.closed) {
      const origin = part?.origin ?? { sends: 1, budget: 4 * Math.ceil(Math.log2(batch.length)) + 1, accepted: false, outstanding: 0, pausedFor: false, held: [] };
      const depth = part?.depth ?? 0;
      if (origin.sends + 2 <= origin.budget) {
        if (depth < FREE_SPLIT_DEPTH || origin.accepted) {
          this.split({ records: batch, origin, depth });
          return;
        }
        // The part's own answer is counted out after this call: others are still under way.
        if (origin.outstanding > 1) {
          origin.held.push({ records: batch, origin, depth });
          this.heldRecords += batch.length;
          this.holding.add(origin);
          return;
        }
      }
    }
    this.drop(batch, error, part?.origin ?? null);
  }

  private split(part: SplitPart): void {
    const { records, origin, depth } = part;
    const mid = records.length >> 1;
    // pop() takes the first half first.
    this.splits.push({ records: records.slice(mid), origin, depth: depth + 1 }, { records: records.slice(0, mid), origin, depth: depth + 1 });
    this.splitRecords += records.length;
    origin.outstanding += 2;
    origin.sends += 2;
  }

  /** Held parts of a refused batch: split once a part was accepted, dropped once none can be. */
  private settleHeld(origin: RefusedBatch): void {
    if (origin.held.length === 0 || this.abandoned) return;
    if (!origin.accepted && origin.outstanding > 0) return;
    const held = origin.held.splice(0);
    this.holding.delete(origin);
    for (const p of held) {
      this.heldRecords -= p.records.length;
      if (origin.accepted && !this.closed && origin.sends + 2 <= origin.budget) this.split(p);
      else this.drop(p.records, undefined, origin);
    }
  }

  /** Refused records leave for good: counted once, here. `origin`: the batch they were part of, if split. */
  private drop(batch: QueuedLogRecord[], error: Error | undefined, origin: RefusedBatch | null): void {
    this.dropped.rejected += batch.length;
    this.release(batch);
    if (origin === null || (!origin.accepted && !origin.pausedFor)) {
      // Nothing of this batch was taken: the collector may refuse everything. Pause as after a
      // failure (once per batch), so that a refusing collector is not sent one batch after another.
      if (origin !== null) origin.pausedFor = true;
      this.backoffUntil = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoff);
    }
    this.logger.limited('warn', 'log-export-rejected', 10_000, 'log records refused by the exporter for good: dropped, not retried', {
      ...(error ? { error: firstLine(error), code: (error as { code?: unknown }).code } : {}),
      records: batch.length,
      droppedRejected: this.dropped.rejected,
    });
    this.schedule();
  }

  private failed(batch: QueuedLogRecord[], error: Error | undefined): void {
    this.failedExports++;
    this.failedByType.add(error);
    this.backoffUntil = Date.now() + this.backoffMs;
    this.logger.limited('warn', 'log-export-failed', 10_000, 'log export failed; retrying with back-off', {
      error: firstLine(error),
      backoffMs: this.backoffMs,
      // The failed batch goes back to the queue after this line: counted here, not twice.
      queued: this.queued,
      retrying: batch.length,
      failedExports: this.failedExports,
      droppedQueueFull: this.dropped.queue_full,
    });
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoff);
    // Retry: back at the head of the queue, as far as there is room.
    const room = this.closed ? 0 : Math.max(0, this.options.maxQueueSize - this.queued);
    let keep = 0;
    let bytes = 0;
    while (keep < Math.min(room, batch.length) && this.queuedBytes + bytes + this.bytesOf(batch[keep]!) <= this.maxBytes) bytes += this.bytesOf(batch[keep++]!);
    this.queuedBytes += bytes;
    if (keep < batch.length) {
      this.dropped.export_failed += batch.length - keep;
      this.release(batch, keep);
    }
    if (keep > 0) {
      const kept = batch.slice(0, keep);
      if (this.head >= keep) {
        this.head -= keep;
        for (let i = 0; i < keep; i++) this.queue[this.head + i] = kept[i]!;
      } else {
        this.queue = kept.concat(this.queue.slice(this.head));
        this.head = 0;
      }
    }
    this.schedule();
  }
}
