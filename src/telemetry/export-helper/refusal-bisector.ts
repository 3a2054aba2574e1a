/**
 * Bounded bisection of refused batches. A batch refused for good when the refusal can be about
 * its size or about one record (HTTP 400/413, gRPC INVALID_ARGUMENT/RESOURCE_EXHAUSTED, an
 * exporter that throws: export-rejection.ts) is split in halves that are sent again, so that
 * only the item(s) that cannot be exported are dropped (reason rejected).
 *
 * Bisection is bounded, so that a collector refusing everything costs a small multiple of what
 * plain failure costs, not two requests per record (seen: 57,297 POSTs for 40,000 records):
 * - a batch is split two levels deep (7 requests) for free; deeper only once some part of it
 *   was accepted (the refusal is then about some records, not about everything);
 * - at most 4·⌈log2 n⌉ + 1 requests per batch of n (enough to isolate two bad records);
 * - a batch refused with no part accepted pauses exporting once (pausesExport), with the same
 *   back-off as a failed export.
 * Parts are sent before the queue (queued-exporter.ts); each is final work, so even an exporter
 * that throws for every record cannot make the chain spin.
 */
import type { ExportItem } from './export-item.js';

/** Split levels a refused batch gets before any part of it was accepted. */
const FREE_SPLIT_DEPTH = 2;

/** A refused batch being bisected: what its parts have cost and shown so far. */
export interface RefusedBatch {
  /** Requests sent for it and its parts. */
  sends: number;
  /** Most requests it may cost. */
  readonly budget: number;
  /** A part of it was exported: the refusal is about some items, not every item. */
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

/** A half (of a half...) of a refused batch. */
export interface SplitPart {
  records: ExportItem[];
  origin: RefusedBatch;
  depth: number;
}

/** Drops a refused part for good; `origin`: the batch it was part of (null: a whole batch). */
export type DropRefused = (records: ExportItem[], origin: RefusedBatch | null) => void;

/**
 * Whether dropping refused items of `origin` should pause exporting: when nothing of the batch
 * was taken (the collector may refuse everything), once per batch.
 */
export function pausesExport(origin: RefusedBatch | null): boolean {
  if (origin !== null && (origin.accepted || origin.pausedFor)) return false;
  if (origin !== null) origin.pausedFor = true;
  return true;
}

export class RefusalBisector {
  /** Halves waiting to be sent (a stack: the first half of a split goes first). */
  private splits: SplitPart[] = [];
  /** Items in `splits`. */
  splitRecords = 0;
  /** Items in RefusedBatch.held parts. */
  heldRecords = 0;
  private readonly holding = new Set<RefusedBatch>();

  get hasParts(): boolean {
    return this.splits.length > 0;
  }

  /** The next half to send. */
  next(): SplitPart | undefined {
    const part = this.splits.pop();
    if (part !== undefined) this.splitRecords -= part.records.length;
    return part;
  }

  /**
   * A batch (or part: `part`) refused for good. Returns true if it is bisected or held for
   * later, false if it is to be dropped now (`bisect` false: the refusal is not about items).
   */
  take(batch: ExportItem[], part: SplitPart | null, bisect: boolean): boolean {
    if (!bisect || batch.length < 2) return false;
    const origin = part?.origin ?? { sends: 1, budget: 4 * Math.ceil(Math.log2(batch.length)) + 1, accepted: false, outstanding: 0, pausedFor: false, held: [] };
    const depth = part?.depth ?? 0;
    if (origin.sends + 2 > origin.budget) return false;
    if (depth < FREE_SPLIT_DEPTH || origin.accepted) {
      this.split({ records: batch, origin, depth });
      return true;
    }
    // The part's own answer is counted out after this call: others are still under way.
    if (origin.outstanding > 1) {
      origin.held.push({ records: batch, origin, depth });
      this.heldRecords += batch.length;
      this.holding.add(origin);
      return true;
    }
    return false;
  }

  /** A part was exported: the refusal of its batch is about some items only. */
  accepted(part: SplitPart): void {
    part.origin.accepted = true;
  }

  /** A part's answer came (after take/accepted): its batch's held parts may be settled now. */
  answered(part: SplitPart, drop: DropRefused): void {
    const origin = part.origin;
    origin.outstanding--;
    if (origin.held.length === 0) return;
    if (!origin.accepted && origin.outstanding > 0) return;
    // Split once a part was accepted, dropped once none can be.
    const held = origin.held.splice(0);
    this.holding.delete(origin);
    for (const p of held) {
      this.heldRecords -= p.records.length;
      if (origin.accepted && origin.sends + 2 <= origin.budget) this.split(p);
      else drop(p.records, origin);
    }
  }

  /** Empties the bisector (at shutdown); returns the items of every part it held. */
  clear(): ExportItem[][] {
    const parts = this.splits.map((p) => p.records);
    for (const origin of this.holding) for (const p of origin.held) parts.push(p.records);
    this.holding.clear();
    this.splits = [];
    this.splitRecords = 0;
    this.heldRecords = 0;
    return parts;
  }

  private split(part: SplitPart): void {
    const { records, origin, depth } = part;
    const mid = records.length >> 1;
    // next() pops: the first half goes first.
    this.splits.push({ records: records.slice(mid), origin, depth: depth + 1 }, { records: records.slice(0, mid), origin, depth: depth + 1 });
    this.splitRecords += records.length;
    origin.outstanding += 2;
    origin.sends += 2;
  }
}
