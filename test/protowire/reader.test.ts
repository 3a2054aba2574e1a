/**
 * The wire reader (src/protowire/reader.ts, any.ts) against protobufjs' writer, the reference
 * encoder: the values it writes read back the same, and what protobuf refuses is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { BAIL, FieldView, int64, length, nextField, readVarint, skipVarint, varint32, type Cursor } from '../../src/protowire/reader.js';
import { AnyView, readAny } from '../../src/protowire/any.js';

const bytes = (write: (w: protobuf.Writer) => void): Buffer => {
  const w = protobuf.Writer.create();
  write(w);
  return Buffer.from(w.finish());
};

/** Runs a throwing reader over all of buf: its value and where it stopped, or 'BAIL'. */
function read<T>(fn: (d: Cursor, buf: Buffer, end: number) => T, buf: Buffer): [T, number] | 'BAIL' {
  const d = { pos: 0 };
  try {
    return [fn(d, buf, buf.length), d.pos];
  } catch (err) {
    if (err === BAIL) return 'BAIL';
    throw err;
  }
}

test('varint32 reads what protobufjs writes as uint32, and leaves a negative int32 to protobufjs', () => {
  for (const v of [0, 1, 127, 128, 300, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 32 - 1]) {
    const buf = bytes((w) => w.uint32(v));
    assert.deepEqual(read(varint32, buf), [v, buf.length], `uint32 ${v}`);
  }
  // A negative int32 is ten bytes on the wire: more than the five an unsigned 32-bit value takes.
  assert.equal(read(varint32, bytes((w) => w.int32(-1))), 'BAIL');
  assert.equal(read(varint32, Buffer.from([0x80, 0x80])), 'BAIL', 'truncated');
  assert.equal(read(varint32, Buffer.alloc(0)), 'BAIL', 'nothing to read');
});

test('int64 reads seconds exactly to 2^53, negative values negative, and refuses overlong or truncated varints', () => {
  for (const v of [0, 1, 1_700_000_000, 2 ** 32, 2 ** 53 - 1, -1, -1_700_000_000, -(2 ** 53)]) {
    const buf = bytes((w) => w.int64(v));
    assert.deepEqual(read(int64, buf), [v, buf.length], `int64 ${v}`);
  }
  assert.equal(read(int64, Buffer.from([...Array(10).fill(0xff), 0x01])), 'BAIL', 'eleven bytes');
  assert.equal(read(int64, Buffer.from([0xff, 0xff])), 'BAIL', 'truncated');
});

test('skipVarint steps over a varint of up to ten bytes; length refuses a body longer than what is left', () => {
  const v = bytes((w) => w.int64(-5).uint32(7));
  assert.deepEqual(read(skipVarint, v), [undefined, 10]);
  assert.equal(read(skipVarint, Buffer.from(Array(11).fill(0x80))), 'BAIL');
  const s = bytes((w) => w.string('hello'));
  assert.deepEqual(read(length, s), [5, 1]);
  assert.equal(read(length, s.subarray(0, 5)), 'BAIL', 'four of five bytes');
});

test('readVarint: five bytes at most, -1 when truncated or longer, the end position through the cursor', () => {
  const at = { pos: -1 };
  const buf = bytes((w) => w.uint32(7).uint32(2 ** 32 - 1));
  assert.equal(readVarint(buf, 0, buf.length, at), 7);
  assert.equal(at.pos, 1);
  assert.equal(readVarint(buf, 1, buf.length, at), 2 ** 32 - 1);
  assert.equal(at.pos, 6);
  assert.equal(readVarint(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), 0, 5, at), 2 ** 35 - 1);
  assert.equal(readVarint(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0, 6, at), -1, 'six bytes');
  assert.equal(readVarint(buf, 1, 3, at), -1, 'truncated by end');
});

test('nextField finds every wire type, skips varints of any length, and refuses groups and truncation', () => {
  const msg = bytes((w) => {
    w.uint32((1 << 3) | 0).int64(-1);
    w.uint32((2 << 3) | 1).fixed64(5);
    w.uint32((3 << 3) | 2).string('abc');
    w.uint32((4 << 3) | 5).fixed32(9);
    w.uint32((100_000 << 3) | 2).bytes(Buffer.alloc(200));
  });
  const f = new FieldView();
  const seen: [number, number, number][] = [];
  let text = '';
  let pos = 0;
  while (pos < msg.length) {
    pos = nextField(msg, pos, msg.length, f);
    assert.ok(pos > 0);
    seen.push([f.field, f.wire, f.end - f.start]);
    if (f.field === 3) text = msg.toString('latin1', f.start, f.end);
  }
  assert.deepEqual(seen, [[1, 0, 10], [2, 1, 8], [3, 2, 3], [4, 5, 4], [100_000, 2, 200]]);
  assert.equal(text, 'abc');
  // Varints are skipped whatever their length, as protobufjs skips them.
  assert.equal(nextField(Buffer.from([0x08, ...Array(12).fill(0x80), 0x01]), 0, 14, f), 14);
  assert.equal(nextField(Buffer.from([0x0b]), 0, 1, f), -1, 'start group');
  assert.equal(nextField(Buffer.from([0x0f]), 0, 1, f), -1, 'wire type 7');
  assert.equal(nextField(Buffer.from([0x09, 1, 2, 3]), 0, 4, f), -1, 'fixed64 cut short');
  assert.equal(nextField(Buffer.from([0x12, 5, 1, 2]), 0, 4, f), -1, 'body cut short');
  assert.equal(nextField(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x08, 0]), 0, 7, f), -1, 'six-byte tag');
  assert.equal(nextField(Buffer.from([0x00, 0x00]), 0, 2, f), 2, 'field 0 is the caller\'s to refuse');
  assert.equal(f.field, 0);
});

test('readAny: the byte ranges of type_url and value, unknown fields skipped, a later occurrence winning', () => {
  const url = 'type.googleapis.com/eventssidecar.v1.OnPublish';
  const any = bytes((w) => {
    w.uint32((7 << 3) | 0).uint32(3);
    w.uint32((1 << 3) | 2).string('first');
    w.uint32((2 << 3) | 2).bytes(Buffer.from([1, 2, 3]));
    w.uint32((1 << 3) | 2).string(url);
    w.uint32((9 << 3) | 5).fixed32(1);
  });
  const out = new AnyView();
  assert.equal(readAny(any, 0, any.length, out), true);
  assert.equal(any.toString('latin1', out.typeUrlStart, out.typeUrlEnd), url);
  assert.deepEqual([...any.subarray(out.valueStart, out.valueEnd)], [1, 2, 3]);
  // No value: an empty range.
  const noValue = bytes((w) => w.uint32(10).string(url));
  assert.equal(readAny(noValue, 0, noValue.length, out), true);
  assert.equal(out.valueEnd - out.valueStart, 0);
  // Refused: no type_url, type_url as a varint, field 0, a truncated value.
  assert.equal(readAny(bytes((w) => w.uint32(18).bytes(Buffer.from([1]))), 0, 3, out), false);
  assert.equal(readAny(Buffer.from([0x08, 0x01]), 0, 2, out), false);
  assert.equal(readAny(Buffer.from([0x00, 0x01]), 0, 2, out), false);
  assert.equal(readAny(any, 0, any.length - 1, out), false);
});
