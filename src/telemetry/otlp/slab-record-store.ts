/**
 * Where encoded records live until they leave the export queue: written in place into slabs of
 * SLAB bytes, each record a length-delimited field (its tag, its length, its body), known by a
 * handle (a small integer). The export queue holds handles, not an object per record, so that
 * queued records cost the garbage collector nothing (measured: with a view object per record,
 * the old generation grew by ~75 MB of dead views between major collections at full rate).
 * A slab is reused once every record in it has been released (exported or dropped).
 */
import { LEN, Writer, varintSize, writeVarint } from '../../protowire/writer.js';
import type { EncodedRecordStore } from '../export-helper/export-item.js';

const SLAB = 256 * 1024;
const SLAB_MIN_ROOM = 16 * 1024;
/** Emptied slabs kept for reuse at most (4 MiB). */
const MAX_FREE_SLABS = 16;
/** Room kept before a record's body for its tag and a length of up to 3 bytes. */
const HEADER_ROOM = 4;

const EMPTY_BUFFER = Buffer.alloc(0);

/** A slab and how many of its records are still queued. */
class Slab {
  live = 0;
  /** No more records go into it. */
  sealed = false;
  constructor(
    readonly id: number,
    readonly buf: Buffer,
  ) {}
}

export class SlabRecordStore implements EncodedRecordStore {
  /** Writes the record being encoded, into the current slab. */
  protected readonly w = new Writer(0);
  /** Where the record being written starts: HEADER_ROOM bytes come first. */
  private recordAt = 0;
  private slab: Slab | null = null;
  private readonly slabsById: (Slab | undefined)[] = [];
  private readonly free: Slab[] = [];
  // Records by handle: slab id, first and last byte (start -1: the handle is free).
  private slabOf = new Int32Array(4096);
  private startOf = new Int32Array(4096).fill(-1);
  private endOf = new Int32Array(4096);
  private freeHandles = new Int32Array(4096);
  private freeCount = 0;
  private nextHandle = 0;

  /** Records written and not released. */
  get live(): number {
    return this.nextHandle - this.freeCount;
  }

  /** Byte length of a record (its tag and length included). */
  size(handle: number): number {
    return this.endOf[handle]! - this.startOf[handle]!;
  }

  /** A view of a record's bytes, valid until it is released. */
  bytes(handle: number): Buffer {
    return this.slabsById[this.slabOf[handle]!]!.buf.subarray(this.startOf[handle]!, this.endOf[handle]!);
  }

  copyTo(handle: number, out: Buffer, at: number): number {
    return this.slabsById[this.slabOf[handle]!]!.buf.copy(out, at, this.startOf[handle]!, this.endOf[handle]!);
  }

  /** A record leaves the queue for good: its bytes will not be read again. */
  release(handle: number): void {
    if (handle < 0 || handle >= this.nextHandle || this.startOf[handle]! < 0) return;
    this.startOf[handle] = -1;
    this.freeHandles[this.freeCount++] = handle;
    const slab = this.slabsById[this.slabOf[handle]!]!;
    slab.live--;
    if (slab.sealed && slab.live === 0) this.recycle(slab);
  }

  /** Starts a record: `w` is positioned at its body. */
  protected beginRecord(): void {
    const w = this.w;
    // A record rarely takes more than a few hundred bytes; a longer one grows the slab (ensure).
    if (this.slab === null || w.buf.length - w.pos < SLAB_MIN_ROOM) {
      this.seal();
      const slab = this.free.pop() ?? this.newSlab(Buffer.allocUnsafeSlow(SLAB));
      this.slab = slab;
      w.buf = slab.buf;
      w.pos = 0;
    }
    this.recordAt = w.pos;
    w.pos += HEADER_ROOM;
  }

  /** Ends the record begun last as length-delimited field `field` (1-15); returns its handle. */
  protected endRecord(field: number): number {
    const w = this.w;
    if (w.buf !== this.slab!.buf) {
      // The record outgrew the slab and ensure() moved everything into a larger buffer: that
      // buffer is the slab from now on (the records before stay in the old one).
      this.seal();
      this.slab = this.newSlab(w.buf);
    }
    const bodyAt = this.recordAt + HEADER_ROOM;
    const len = w.pos - bodyAt;
    const lenSize = varintSize(len);
    if (lenSize > HEADER_ROOM - 1) {
      // 2 MiB or more (attribute limits set very high): moved into a slab of its own.
      const o = Writer.over(Buffer.allocUnsafeSlow(1 + lenSize + len));
      o.tag(field, LEN);
      o.varint(len);
      w.buf.copy(o.buf, o.pos, bodyAt, w.pos);
      w.pos = this.recordAt;
      const own = this.newSlab(o.buf);
      own.sealed = true;
      return this.newHandle(own, 0, o.buf.length);
    }
    // The header goes right before the body; the one or two bytes it does not need stay unused.
    const start = bodyAt - 1 - lenSize;
    const b = w.buf;
    b[start] = (field << 3) | LEN;
    writeVarint(b, start + 1, len);
    return this.newHandle(this.slab!, start, w.pos);
  }

  private newHandle(slab: Slab, start: number, end: number): number {
    let h: number;
    if (this.freeCount > 0) h = this.freeHandles[--this.freeCount]!;
    else {
      h = this.nextHandle++;
      if (h === this.startOf.length) this.growHandles();
    }
    this.slabOf[h] = slab.id;
    this.startOf[h] = start;
    this.endOf[h] = end;
    slab.live++;
    return h;
  }

  private growHandles(): void {
    const grow = (a: Int32Array, fill: number) => {
      const b = new Int32Array(a.length * 2).fill(fill);
      b.set(a);
      return b;
    };
    this.slabOf = grow(this.slabOf, 0);
    this.startOf = grow(this.startOf, -1);
    this.endOf = grow(this.endOf, 0);
    this.freeHandles = grow(this.freeHandles, 0);
  }

  private newSlab(buf: Buffer): Slab {
    const slab = new Slab(this.slabsById.length, buf);
    this.slabsById.push(slab);
    return slab;
  }

  private recycle(slab: Slab): void {
    slab.sealed = false;
    if (this.free.length < MAX_FREE_SLABS && slab.buf.length === SLAB) this.free.push(slab);
    // Its id stays taken (ids are few: a slab is retired only when MAX_FREE_SLABS are spare).
    else this.slabsById[slab.id] = new Slab(slab.id, EMPTY_BUFFER);
  }

  private seal(): void {
    const slab = this.slab;
    if (slab === null) return;
    slab.sealed = true;
    if (slab.live === 0) this.recycle(slab);
    this.slab = null;
  }
}
