import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseChunk } from '../../src/framing/chunk-release.js';
import { FrameDecoder, type FrameHandler } from '../../src/framing/frame-decoder.js';

/** A Buffer that is its whole ArrayBuffer, as Node hands a socket read to 'data' listeners. */
function ownChunk(bytes: Buffer): Buffer {
  const ab = new ArrayBuffer(bytes.length);
  const chunk = Buffer.from(ab);
  bytes.copy(chunk);
  return chunk;
}

function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

test('a chunk that is its whole ArrayBuffer is released at once, and only once', () => {
  const chunk = ownChunk(Buffer.alloc(65536, 1));
  const ab = chunk.buffer;
  assert.equal(releaseChunk(chunk), true);
  assert.equal(ab.byteLength, 0, 'the memory is given back: the ArrayBuffer is detached');
  assert.equal(releaseChunk(chunk), false, 'a released chunk is left alone');
});

test('a view into a shared buffer is never released: its neighbours keep their bytes', () => {
  const pooled = Buffer.from('abc'); // a slice of Buffer's shared 8 KiB pool
  const neighbour = Buffer.from('def');
  assert.equal(releaseChunk(pooled), false);
  assert.equal(pooled.toString(), 'abc');
  assert.equal(neighbour.toString(), 'def');
  const whole = ownChunk(Buffer.from('0123456789'));
  assert.equal(releaseChunk(whole.subarray(2, 6)), false, 'part of a buffer');
  assert.equal(releaseChunk(whole.subarray(0, 6)), false, 'a prefix of a buffer');
  assert.equal(whole.toString(), '0123456789');
});

test('frames keep their bytes when each chunk is released right after the decoder had it', () => {
  // Frames of every size around the chunk edges: whole in a chunk, split across two, across
  // many (a frame over GROW_FROM is collected in segments). The decoder must have copied what it
  // keeps of a chunk before the chunk is released.
  const bodies = [5, 70, 1, 300, 100_000, 3, 64 * 1024 + 7, 20].map((n, i) => Buffer.alloc(n, (i * 37 + 11) & 0xff));
  const stream = Buffer.concat(bodies.map(frame));
  for (const size of [1, 3, 64, 1000, 65536]) {
    const got: Buffer[] = [];
    const handler: FrameHandler = {
      onFrame: (buf, start, end) => got.push(Buffer.from(buf.subarray(start, end))),
      onOversizedFrame: () => assert.fail('oversized'),
      onUnframeable: () => assert.fail('unframeable'),
    };
    const decoder = new FrameDecoder(handler);
    for (let i = 0; i < stream.length; i += size) {
      const chunk = ownChunk(stream.subarray(i, i + size));
      decoder.push(chunk);
      assert.equal(releaseChunk(chunk), true);
    }
    assert.deepEqual(got, bodies, `chunks of ${size} bytes`);
  }
});
