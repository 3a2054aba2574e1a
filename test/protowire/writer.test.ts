/**
 * The wire writer (src/protowire/writer.ts) against protobufjs' reader and writer: what it writes
 * reads back the same, byte for byte where protobufjs writes the same value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { int64Size, LEN, utf8Length, varintSize, writeVarint, Writer } from '../../src/protowire/writer.js';

const reference = (write: (w: protobuf.Writer) => void): Buffer => {
  const w = protobuf.Writer.create();
  write(w);
  return Buffer.from(w.finish());
};
const written = (w: Writer): Buffer => Buffer.from(w.buf.subarray(0, w.pos));

test('varints and int64s are the bytes protobufjs writes, and their sizes what they take', () => {
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
    const w = new Writer(0); // grows from nothing
    w.varint(v);
    assert.deepEqual(written(w), reference((r) => r.uint64(v)), `varint ${v}`);
    assert.equal(varintSize(v), w.pos);
    const buf = Buffer.alloc(10);
    assert.equal(writeVarint(buf, 0, v), w.pos);
    assert.deepEqual(buf.subarray(0, w.pos), written(w));
  }
  for (const v of [0, 5, 1_700_000_000, -1, -(2 ** 53)]) {
    const w = new Writer(4);
    w.int64(v);
    assert.deepEqual(written(w), reference((r) => r.int64(v)), `int64 ${v}`);
    assert.equal(int64Size(v), w.pos);
  }
});

test('strings: UTF-8 lengths as Buffer counts them, lone surrogates as U+FFFD, fields protobufjs reads back', () => {
  for (const s of ['', 'client-1', 'é', '€uro', '😀 pair', 'lone \ud800 high', 'lone \udc00 low', 'x'.repeat(300)]) {
    assert.equal(utf8Length(s), Buffer.byteLength(s), JSON.stringify(s));
    const w = new Writer(1);
    w.stringField(3, s);
    const r = protobuf.Reader.create(written(w));
    assert.equal(r.uint32(), (3 << 3) | LEN);
    assert.equal(r.string(), Buffer.from(s).toString());
  }
});

test('nested fields of any length get their length prefix, bodies moved only when it is not two bytes', () => {
  for (const n of [0, 1, 127, 128, 16383, 16384, 70_000]) {
    const w = new Writer(8);
    w.varint(1);
    w.nested(5, () => w.raw(Buffer.alloc(n, 0xab)));
    w.fixed32(0xdeadbeef);
    w.double(0.5);
    const expected = reference((r) => r.uint32(1).uint32((5 << 3) | 2).bytes(Buffer.alloc(n, 0xab)).fixed32(0xdeadbeef).double(0.5));
    assert.deepEqual(written(w), expected, `body of ${n} bytes`);
  }
});

test('times: unix nanoseconds as fixed64, exactly, and 0 for a time fixed64 cannot hold', () => {
  const cases: [number, number, bigint][] = [
    [0, 0, 0n],
    [1_700_000_000, 123_456_789, 1_700_000_000_123_456_789n],
    [18_446_744_072, 999_999_999, 18_446_744_072_999_999_999n],
    [18_446_744_074, 0, 0n], // past 2^64 ns
    [-1, 0, 0n],
    [5, 1e9, 0n], // nanos out of range
  ];
  for (const [s, ns, want] of cases) {
    const w = new Writer(0);
    w.time(s, ns);
    assert.equal(written(w).readBigUInt64LE(0), want, `${s} s ${ns} ns`);
    const h = new Writer(0);
    h.hrTime([s, ns]);
    assert.deepEqual(written(h), written(w));
  }
});

test('hex ids are written as their bytes', () => {
  const w = new Writer(0);
  w.hex(9, '0af7651916cd43dd8448eb211c80319c');
  assert.deepEqual(written(w), reference((r) => r.uint32((9 << 3) | 2).bytes(Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'))));
});
