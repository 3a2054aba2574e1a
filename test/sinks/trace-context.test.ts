import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PayloadTraceFinder, parseTraceparent, traceFromUserProperties } from '../../src/sinks/trace-context.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

test('valid traceparents parse; invalid ones do not', () => {
  assert.deepEqual(parseTraceparent(TP), { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
  assert.equal(parseTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01'), null);
  assert.equal(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'), null);
  assert.equal(parseTraceparent('ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), null);
  assert.equal(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra'), null);
  assert.equal(parseTraceparent('00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01'), null);
  assert.ok(parseTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future'), 'later versions may add fields');
});

test('user properties carry traceparent and tracestate', () => {
  assert.deepEqual(traceFromUserProperties({ traceparent: TP, tracestate: 'a=b' }), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    traceState: 'a=b',
  });
  assert.equal(traceFromUserProperties({ other: 'x' }), null);
});

test('a JSON payload\'s traceparent is found without parsing JSON; other payloads are passed quickly', () => {
  const f = new PayloadTraceFinder();
  assert.equal(f.find(Buffer.from(`{"a":1,"traceparent":"${TP}"}`))?.spanId, 'b7ad6b7169203331');
  assert.equal(f.find(Buffer.from(` \n{ "traceparent" : "${TP}" }`))?.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(f.find(Buffer.from(`["traceparent","${TP}"]`)), null, 'not an object');
  assert.equal(f.find(Buffer.from(`{"traceparent": 5}`)), null);
  assert.equal(f.find(Buffer.from(`{"traceparent": "garbage"}`)), null);
  assert.equal(f.find(Buffer.from([0xff, 0x00, 0x7b])), null);
  assert.equal(f.find(new Uint8Array(0)), null);
  const custom = new PayloadTraceFinder('trace');
  assert.equal(custom.find(Buffer.from(`{"trace":"${TP}"}`))?.traceFlags, 1);
  // A view into a larger buffer is searched only within its bounds.
  const big = Buffer.from(`xxxx{"traceparent":"${TP}"}yyyy`);
  assert.equal(f.find(new Uint8Array(big.buffer, big.byteOffset + 4, big.length - 8))?.traceFlags, 1);
});
