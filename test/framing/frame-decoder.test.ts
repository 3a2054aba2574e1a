import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, UNFRAMEABLE_LENGTH, type FrameHandler } from '../../src/framing/frame-decoder.js';

class Recorder implements FrameHandler {
  frames: Buffer[] = [];
  oversized: number[] = [];
  unframeable: number[] = [];
  onFrame(buf: Buffer, start: number, end: number): void {
    this.frames.push(Buffer.from(buf.subarray(start, end)));
  }
  onOversizedFrame(length: number): void {
    this.oversized.push(length);
  }
  onUnframeable(length: number): void {
    this.unframeable.push(length);
  }
}

function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

function bodies(n: number, size = (i: number) => 1 + (i % 13)): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size(i), i & 0xff));
}

test('every split point of a multi-frame buffer yields the same frames', () => {
  const parts = [...bodies(5), Buffer.alloc(0), Buffer.alloc(300, 7)];
  const stream = Buffer.concat(parts.map(frame));
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b += 7) {
      const r = new Recorder();
      const d = new FrameDecoder(r);
      d.push(stream.subarray(0, a));
      d.push(stream.subarray(a, b));
      d.push(stream.subarray(b));
      assert.deepEqual(r.frames, parts, `split at ${a}/${b}`);
      assert.equal(d.midFrame, false);
    }
  }
});

test('one-byte writes yield every frame', () => {
  const parts = bodies(50);
  const stream = Buffer.concat(parts.map(frame));
  const r = new Recorder();
  const d = new FrameDecoder(r);
  for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1));
  assert.deepEqual(r.frames, parts);
});

test('thousands of frames in one write are all delivered in order, without copying', () => {
  const parts = bodies(5000);
  const stream = Buffer.concat(parts.map(frame));
  const seen: { buf: Buffer; start: number; end: number }[] = [];
  const d = new FrameDecoder({
    onFrame: (buf, start, end) => seen.push({ buf, start, end }),
    onOversizedFrame: () => assert.fail('no oversized frame'),
    onUnframeable: () => assert.fail('no unframeable stream'),
  });
  d.push(stream);
  assert.equal(seen.length, 5000);
  // Every frame is a view into the one chunk written.
  assert.ok(seen.every((f) => f.buf === stream));
  assert.deepEqual(
    seen.map((f) => f.buf.subarray(f.start, f.end)),
    parts,
  );
});

test('a frame of exactly the maximum size is delivered; one byte over is skipped and framing survives', () => {
  const max = 4096;
  const atMax = Buffer.alloc(max, 1);
  const over = Buffer.alloc(max + 1, 2);
  const after = Buffer.from('after');
  const stream = Buffer.concat([frame(atMax), frame(over), frame(after)]);
  for (const chunk of [stream.length, 1000, 1]) {
    const r = new Recorder();
    const d = new FrameDecoder(r, max);
    for (let i = 0; i < stream.length; i += chunk) d.push(stream.subarray(i, i + chunk));
    assert.deepEqual(r.frames, [atMax, after], `chunk ${chunk}`);
    assert.deepEqual(r.oversized, [max + 1]);
  }
});

test('an oversized frame is skipped without being buffered', () => {
  const r = new Recorder();
  const d = new FrameDecoder(r, 1024);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(200 * 1024 * 1024);
  const before = process.memoryUsage().arrayBuffers;
  d.push(head);
  for (let i = 0; i < 100; i++) d.push(Buffer.alloc(64 * 1024));
  assert.ok(process.memoryUsage().arrayBuffers - before < 50 * 1024 * 1024);
  assert.deepEqual(r.oversized, [200 * 1024 * 1024]);
  assert.equal(d.midFrame, true);
});

test('a length beyond any plausible frame fails the stream and stops processing', () => {
  const r = new Recorder();
  const d = new FrameDecoder(r);
  const bad = Buffer.alloc(4);
  bad.writeUInt32BE(UNFRAMEABLE_LENGTH + 1);
  d.push(Buffer.concat([frame(Buffer.from('ok')), bad, frame(Buffer.from('never'))]));
  assert.deepEqual(r.frames, [Buffer.from('ok')]);
  assert.deepEqual(r.unframeable, [UNFRAMEABLE_LENGTH + 1]);
  assert.equal(d.failed, true);
  d.push(frame(Buffer.from('still never')));
  assert.equal(r.frames.length, 1);
});

test('a stream that stops mid-header or mid-body reports midFrame', () => {
  const f = frame(Buffer.from('hello'));
  for (let cut = 1; cut < f.length; cut++) {
    const d = new FrameDecoder(new Recorder());
    d.push(f.subarray(0, cut));
    assert.equal(d.midFrame, true, `cut at ${cut}`);
  }
});

test('random bytes never throw (100,000 buffers)', () => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 100_000; i++) {
    const d = new FrameDecoder(new Recorder(), 1 << 20);
    const b = Buffer.alloc(1 + (rnd() % 64));
    for (let j = 0; j < b.length; j++) b[j] = rnd();
    d.push(b);
  }
});
