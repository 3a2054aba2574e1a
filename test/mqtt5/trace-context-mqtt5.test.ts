/**
 * The trace context of a message event, as every output reads it (PayloadTraceFinder.find): an
 * MQTT 5 PUBLISH's traceparent user property first, then the JSON payload field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PayloadTraceFinder } from '../../src/sinks/trace-context.js';

const IN_PROPS = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const IN_PAYLOAD = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const payload = Buffer.from(JSON.stringify({ traceparent: IN_PAYLOAD, t: 21 }));
const finder = new PayloadTraceFinder();

test('an MQTT 5 traceparent user property, with tracestate, wins over the payload field', () => {
  const ctx = finder.find({ payload, userProperties: { traceparent: IN_PROPS, tracestate: 'vendor=x' } });
  assert.deepEqual(ctx, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, traceState: 'vendor=x' });
});

test('an invalid or absent user property leaves the payload field; no carrier at all is null', () => {
  assert.equal(finder.find({ payload, userProperties: { traceparent: 'garbage' } })?.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(finder.find({ payload, userProperties: {} })?.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(finder.find({ payload })?.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(finder.find({ payload: Buffer.from('x'), userProperties: { other: IN_PROPS } }), null);
});

test('given only a payload (as before), the payload field', () => {
  assert.equal(finder.find(payload)?.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(finder.findInPayload(payload)?.spanId, 'b7ad6b7169203331');
});
