/**
 * The session tracker's state on disk, so that a restarted sidecar's gauges continue where they
 * were instead of counting from zero (IoT devices stay connected for days).
 *
 * Format (version 2, little-endian):
 *   magic "VMQSNAP\n" | u32 version | f64 writtenAtMs | u32 clientCount
 *   clientCount x [ u16 len, mountpoint | u16 len, clientId | u8 flags (1 connected, 2 offline)
 *                   | f64 sec | u32 nanos | f64 sinceMs | f64 removedAt ]
 *   u32 len, section: state another part keeps with the sessions (the broker reconciliation's
 *                     loss count, UTF-8 JSON; len 0 when there is none)
 *   32-byte SHA-256 of everything before it
 * Version 1 (no section) is still read.
 *
 * Writing is incremental (a slice of clients per event-loop turn, appended to a temporary file
 * that is renamed into place), so a million clients never pause ingest for long; the snapshot
 * is then fuzzy by the second or so it takes, which the tracker's timestamp ordering absorbs.
 * Loading happens before the sidecar accepts connections. A snapshot that is corrupt, truncated,
 * of another version or too old is reported and ignored, never fatal.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, accessSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { lstat, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ClientState, KEY_SEP, clientKey, type SessionTracker } from './session-tracker.js';
import type { Mountpoint } from '../metrics/bounded-values.js';

const MAGIC = Buffer.from('VMQSNAP\n', 'latin1');
export const SNAPSHOT_VERSION = 2;
/** Versions this sidecar reads: 1 lacks the section. */
const READABLE_VERSIONS = [1, 2];
const HEADER_BYTES = MAGIC.length + 4 + 8 + 4;
const DIGEST_BYTES = 32;
/** Clients serialized per event-loop turn while writing. */
const SLICE = 5000;

export interface SnapshotWriteResult {
  clients: number;
  bytes: number;
  ms: number;
}

export type SnapshotLoadResult =
  | { loaded: true; clients: number; ageMs: number; writtenAtMs: number; section: 'restored' | 'none' | { ignored: string } }
  | { loaded: false; reason: string };

export class SnapshotError extends Error {}

/** State that another part of the sidecar keeps in the snapshot, next to the sessions. */
export interface SnapshotSection {
  /** The bytes to keep, taken as the write finishes (so they are the freshest); undefined for none. */
  save(): Buffer | undefined;
  /** The bytes a loaded snapshot kept; returns why they were not used, when not. */
  restore(bytes: Buffer): string | undefined;
}

/** Rebuilds tracker state from a snapshot file's bytes; throws SnapshotError when unusable. */
export function decodeSnapshot(
  buf: Buffer,
  maxAgeMs: number,
  nowMs: number,
  apply: (key: string, mountpoint: string, state: ClientState) => void,
): { clients: number; writtenAtMs: number; section: Buffer | undefined } {
  if (buf.length < HEADER_BYTES + DIGEST_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SnapshotError('not a vmq-otel-sidecar snapshot (bad magic or too short)');
  }
  const version = buf.readUInt32LE(MAGIC.length);
  if (!READABLE_VERSIONS.includes(version)) throw new SnapshotError(`snapshot version ${version} is not supported (this sidecar reads versions ${READABLE_VERSIONS.join(', ')})`);
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(buf.subarray(buf.length - DIGEST_BYTES))) throw new SnapshotError('snapshot is corrupt or truncated (checksum mismatch)');
  const writtenAtMs = buf.readDoubleLE(MAGIC.length + 4);
  const count = buf.readUInt32LE(MAGIC.length + 12);
  const age = nowMs - writtenAtMs;
  if (age > maxAgeMs) throw new SnapshotError(`snapshot is ${Math.round(age / 1000)} s old, older than --state-max-age (${Math.round(maxAgeMs / 1000)} s)`);
  if (age < -60_000) throw new SnapshotError('snapshot was written in the future (clock went back?)');
  let pos = HEADER_BYTES;
  const end = body.length;
  const str = (): string => {
    if (pos + 2 > end) throw new SnapshotError('snapshot is truncated');
    const n = body.readUInt16LE(pos);
    pos += 2;
    if (pos + n > end) throw new SnapshotError('snapshot is truncated');
    const s = body.toString('utf8', pos, pos + n);
    pos += n;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const mountpoint = str();
    const clientId = str();
    if (pos + 29 > end) throw new SnapshotError('snapshot is truncated');
    const flags = body[pos]!;
    const c = new ClientState(mountpoint as Mountpoint) // folded again by tracker.restore();
    c.connected = (flags & 1) !== 0;
    c.offline = (flags & 2) !== 0;
    c.sec = body.readDoubleLE(pos + 1);
    c.nanos = body.readUInt32LE(pos + 9);
    c.sinceMs = body.readDoubleLE(pos + 13);
    c.removedAt = body.readDoubleLE(pos + 21);
    pos += 29;
    apply(clientKey(mountpoint, clientId), mountpoint, c);
  }
  let section: Buffer | undefined;
  if (version >= 2) {
    if (pos + 4 > end) throw new SnapshotError('snapshot is truncated');
    const n = body.readUInt32LE(pos);
    pos += 4;
    if (pos + n > end) throw new SnapshotError('snapshot is truncated');
    if (n > 0) section = Buffer.from(body.subarray(pos, pos + n));
    pos += n;
  }
  if (pos !== end) throw new SnapshotError('snapshot has trailing bytes');
  return { clients: count, writtenAtMs, section };
}

/**
 * Throws an Error saying what is wrong when `file` cannot be written as a state file: its
 * directory is missing, not a directory, or not writable. Checked at start, so that a typo
 * fails the start instead of the first write a minute later.
 */
export function checkStateFileDirectory(file: string): void {
  const dir = path.dirname(path.resolve(file));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new Error(`directory ${dir} is not writable`);
  }
  // lstat, never open, first: opening a FIFO blocks the start forever, and a device (size 0)
  // would be replaced by the first snapshot's rename (as root, --state-file /dev/null replaced
  // the machine's /dev/null).
  let st2;
  try {
    st2 = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return;
  }
  // A link is refused rather than followed: the snapshot is renamed into place, which would
  // replace the link itself, not write where it points.
  if (st2.isSymbolicLink()) throw new Error(`${file} is a symbolic link; point --state-file at the file itself`);
  if (!st2.isFile()) throw new Error(`${file} is ${fileKind(st2)}, not a regular file; point --state-file at a regular file or a new path`);
  // A file that is there and not a snapshot is someone's data (a mistyped path): the first
  // snapshot written would replace it.
  if (st2.size > 0 && !startsWithMagic(file)) throw new Error(`${file} exists and is not a vmq-otel-sidecar snapshot: it would be overwritten; point --state-file at a new file, or remove it`);
}

function fileKind(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Opens without following a link and without blocking on a FIFO; the caller checks the type. */
const SAFE_READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function startsWithMagic(file: string): boolean {
  const head = Buffer.alloc(MAGIC.length);
  const fd = openSync(file, SAFE_READ_FLAGS);
  try {
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(MAGIC);
  } finally {
    closeSync(fd);
  }
}

/**
 * The temporary file is created exclusively and never through a symbolic link (O_EXCL,
 * O_NOFOLLOW) under an unpredictable name: someone who can write to the directory cannot make
 * the sidecar overwrite another file by planting a link where the temporary file will be.
 */
const TEMP_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** A temporary file is named `<state file>.tmp-<16 hex digits>`. */
const TEMP_INFIX = '.tmp-';
const TEMP_SUFFIX = /^[0-9a-f]{16}$/;

/** The whole file, when it is a regular file; opened without following a link or blocking. */
async function readRegularFile(file: string): Promise<Buffer> {
  const fh = await open(file, SAFE_READ_FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${file} is ${fileKind(st)}, not a regular file`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

export class SessionSnapshot {
  constructor(
    readonly path: string,
    private readonly tracker: SessionTracker,
    private readonly section?: SnapshotSection,
    /** The temporary file's suffix (random; tests fix it to plant a link there). */
    private readonly tempSuffix: () => string = () => randomBytes(8).toString('hex'),
  ) {}

  /**
   * Removes temporary files an earlier process left behind (killed mid-write: kill -9, OOM), so
   * that a crash loop does not fill the volume. Only names of our own pattern (the state file's
   * name, ".tmp-", 16 hex digits) that are regular files; returns the names removed.
   */
  async removeStaleTemporaries(): Promise<string[]> {
    const dir = path.dirname(path.resolve(this.path));
    const base = path.basename(this.path);
    const removed: string[] = [];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return removed;
    }
    for (const name of names) {
      if (!name.startsWith(base + TEMP_INFIX) || !TEMP_SUFFIX.test(name.slice(base.length + TEMP_INFIX.length))) continue;
      const full = path.join(dir, name);
      try {
        if (!(await lstat(full)).isFile()) continue;
        await unlink(full);
        removed.push(name);
      } catch {
        // Gone meanwhile, or not ours to remove: the next start tries again.
      }
    }
    return removed;
  }

  /** Loads the snapshot into the (empty) tracker; returns why not when it cannot. */
  async load(maxAgeMs: number, nowMs = Date.now()): Promise<SnapshotLoadResult> {
    let buf: Buffer;
    try {
      buf = await readRegularFile(this.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { loaded: false, reason: code === 'ENOENT' ? 'no snapshot file yet' : `cannot read: ${(err as Error).message}` };
    }
    const staged: [string, string, ClientState][] = [];
    try {
      const r = decodeSnapshot(buf, maxAgeMs, nowMs, (key, mp, state) => staged.push([key, mp, state]));
      // Only a snapshot that decoded completely touches the tracker.
      for (const [key, mp, state] of staged) this.tracker.restore(key, mp, state);
      this.tracker.sortTombstones();
      let section: 'restored' | 'none' | { ignored: string } = 'none';
      if (r.section && this.section) {
        const why = this.section.restore(r.section);
        section = why === undefined ? 'restored' : { ignored: why };
      }
      return { loaded: true, clients: r.clients, ageMs: nowMs - r.writtenAtMs, writtenAtMs: r.writtenAtMs, section };
    } catch (err) {
      if (err instanceof SnapshotError || err instanceof RangeError) return { loaded: false, reason: err.message };
      throw err;
    }
  }

  /**
   * Writes the tracker's state atomically: a new temporary file, fsync, rename over the state
   * file, fsync of the directory (so the rename itself survives a power cut). On any failure
   * the temporary file is removed.
   */
  async write(nowMs = Date.now()): Promise<SnapshotWriteResult> {
    const started = performance.now();
    const tmp = `${this.path}${TEMP_INFIX}${this.tempSuffix()}`;
    const fh = await open(tmp, TEMP_FLAGS, 0o600);
    let written: { clients: number; bytes: number };
    try {
      written = await this.writeContents(fh, nowMs);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
    try {
      await fh.close();
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await syncDirectory(path.dirname(this.path));
    return { ...written, ms: performance.now() - started };
  }

  /** The whole file (format at the top), written into `fh` from offset 0. */
  private async writeContents(fh: FileHandle, nowMs: number): Promise<{ clients: number; bytes: number }> {
    let bytes = 0;
    const put = async (b: Buffer) => {
      await fh.write(b, 0, b.length, bytes);
      bytes += b.length;
    };
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(SNAPSHOT_VERSION, MAGIC.length);
    header.writeDoubleLE(nowMs, MAGIC.length + 4);
    // The count is patched in after the last slice (clients come and go while writing).
    await put(header);
    const encoder = new ClientSliceEncoder(this.tracker.clients.entries());
    let count = 0;
    for (;;) {
      const slice = encoder.next();
      count += encoder.count;
      // The file write copies nothing: the slice is written before the encoder fills its buffer again.
      if (slice.length > 0) await put(slice);
      if (encoder.done) break;
      // Let ingest run between slices.
      await new Promise((r) => setImmediate(r));
    }
    const section = this.section?.save();
    const sectionLength = Buffer.alloc(4);
    sectionLength.writeUInt32LE(section?.length ?? 0);
    await put(sectionLength);
    if (section) await put(section);
    // Patch the client count, then compute the digest over the final bytes.
    const countBuf = Buffer.alloc(4);
    countBuf.writeUInt32LE(count);
    await fh.write(countBuf, 0, 4, MAGIC.length + 12);
    await put(await digestOf(fh, bytes));
    return { clients: count, bytes };
  }
}

/** The client records of a snapshot, SLICE clients at a time. */
class ClientSliceEncoder {
  /** Clients in the last slice, and whether the clients are all encoded. */
  count = 0;
  done = false;
  private buf = Buffer.allocUnsafe(SLICE * 96);

  constructor(private readonly clients: Iterator<[string, ClientState]>) {}

  /** The next slice's bytes, valid until the next call (the buffer is reused). */
  next(): Buffer {
    let p = 0;
    let n = 0;
    while (n < SLICE) {
      const next = this.clients.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const [key, c] = next.value;
      // Worst case for this record: 3 bytes per UTF-16 unit of the key, plus fixed fields.
      const worst = key.length * 3 + 4 + 29;
      if (p + worst > this.buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, p + worst));
        this.buf.copy(bigger, 0, 0, p);
        this.buf = bigger;
      }
      p = encodeClient(this.buf, p, key, c);
      n++;
    }
    this.count = n;
    return this.buf.subarray(0, p);
  }
}

/** One client record at `p` (room checked by the caller); returns the offset after it. */
function encodeClient(buf: Buffer, p: number, key: string, c: ClientState): number {
  const sep = key.indexOf(KEY_SEP);
  const mpLen = buf.write(key.slice(0, sep), p + 2, 'utf8');
  buf.writeUInt16LE(mpLen, p);
  p += 2 + mpLen;
  const idLen = buf.write(key.slice(sep + 1), p + 2, 'utf8');
  buf.writeUInt16LE(idLen, p);
  p += 2 + idLen;
  buf[p] = (c.connected ? 1 : 0) | (c.offline ? 2 : 0);
  buf.writeDoubleLE(c.sec, p + 1);
  buf.writeUInt32LE(c.nanos, p + 9);
  buf.writeDoubleLE(c.sinceMs, p + 13);
  buf.writeDoubleLE(c.removedAt, p + 21);
  return p + 29;
}

async function syncDirectory(dir: string): Promise<void> {
  const d = await open(dir, constants.O_RDONLY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** SHA-256 of the first `length` bytes of an open file, read in large chunks. */
async function digestOf(fh: FileHandle, length: number): Promise<Buffer> {
  const h = createHash('sha256');
  const chunk = Buffer.allocUnsafe(1024 * 1024);
  for (let pos = 0; pos < length; ) {
    const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, length - pos), pos);
    if (bytesRead === 0) break;
    h.update(chunk.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return h.digest();
}
