/**
 * The sending queue: items waiting for a batch, bounded by count and by bytes (the Collector's
 * bounded memory queue with its items and bytes sizers). It only stores; the export chain
 * (queued-exporter.ts) decides what is dropped and counts it.
 */
import { itemBytes, type EncodedRecordStore, type ExportItem } from './export-item.js';

/** Put where an item left the array, so that the array holds nothing it does not need. */
const EMPTY_ITEM: ExportItem = -1;

export class BoundedQueue {
  private items: ExportItem[] = [];
  private head = 0;
  /** Bytes of the items from `head` on. */
  private bytes = 0;
  /** Holds the bytes of queued handles (LogRecordEncoder); needed when handles are queued. */
  store: EncodedRecordStore | null = null;

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Queues the item if there is room for it (count and bytes); false if there is not. */
  offer(item: ExportItem): boolean {
    const size = itemBytes(item, this.store);
    if (this.length >= this.maxItems || this.bytes + size > this.maxBytes) return false;
    this.bytes += size;
    this.items.push(item);
    return true;
  }

  /** The first n items (at most what is queued), taken out of the queue. */
  take(n: number): ExportItem[] {
    n = Math.min(n, this.length);
    const batch = this.items.slice(this.head, this.head + n);
    for (let i = 0; i < n; i++) {
      this.bytes -= itemBytes(batch[i]!, this.store);
      // Released now, not when the array is next compacted.
      this.items[this.head + i] = EMPTY_ITEM;
    }
    this.head += n;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /**
   * Puts the first items of `batch` back at the head of the queue, in order, as far as there is
   * room (count and bytes); returns how many went back.
   */
  putBack(batch: readonly ExportItem[]): number {
    const room = Math.max(0, this.maxItems - this.length);
    const limit = Math.min(room, batch.length);
    let keep = 0;
    let bytes = 0;
    while (keep < limit && this.bytes + bytes + itemBytes(batch[keep]!, this.store) <= this.maxBytes) bytes += itemBytes(batch[keep++]!, this.store);
    this.bytes += bytes;
    if (keep === 0) return 0;
    const kept = batch.slice(0, keep);
    if (this.head >= keep) {
      this.head -= keep;
      for (let i = 0; i < keep; i++) this.items[this.head + i] = kept[i]!;
    } else {
      this.items = kept.concat(this.items.slice(this.head));
      this.head = 0;
    }
    return keep;
  }

  /** Empties the queue; returns what was in it. */
  takeAll(): ExportItem[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return all;
  }
}
