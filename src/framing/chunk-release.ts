/**
 * Gives a chunk read from a socket back to the allocator as soon as its frames are handled,
 * instead of when the garbage collector finds it.
 *
 * Node allocates every socket read its own ArrayBuffer (up to 64 KiB) outside the JS heap; it is
 * freed only once a scavenge finds the Buffer dead. The hot path allocates so little (about 60
 * bytes of JS heap per event) that scavenges come every ~25,000 events, by which time some 6 MB
 * of read chunks are garbage waiting, more under load: on the metrics path of
 * `npm run bench:ingest` the process's ArrayBuffers peaked at 15 MB, and malloc's heap grew by
 * as much, for chunks nobody referenced. Detaching the ArrayBuffer
 * (`ArrayBuffer.prototype.transfer(0)`) frees its memory at once: the peak went to 2 MB, peak RSS
 * down by about 10 MB.
 *
 * Safe because nothing holds the bytes after the call that handled them: the frame decoder hands
 * frames on as views valid during onFrame() only and copies a frame that spans chunks, and the
 * outputs copy any byte field they keep (event-sink.ts). Were one to break that, it would read an
 * empty buffer, not another event's bytes. Only a Buffer that is its whole ArrayBuffer is
 * released: a slice of a shared pool (Buffer.from of a short string, a test's subarray) is left
 * alone.
 */
export function releaseChunk(chunk: Uint8Array): boolean {
  const ab = chunk.buffer as Transferable;
  if (!(ab instanceof ArrayBuffer) || chunk.byteOffset !== 0 || chunk.byteLength !== ab.byteLength || ab.detached !== false) return false;
  ab.transfer(0);
  return true;
}

/** ES2024's ArrayBuffer members (Node 22 has them; the project's TypeScript lib predates them). */
interface Transferable extends ArrayBuffer {
  readonly detached?: boolean;
  transfer(newByteLength?: number): ArrayBuffer;
}
