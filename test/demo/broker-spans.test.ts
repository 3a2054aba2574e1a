/**
 * The demo subscriber derives the broker's span ids itself (demo/broker-spans.mjs) to continue
 * the trace under its delivery span: its derivation must give the sidecar's ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { deliverySpanId, receiptSpanId } from '../../src/traces/span-ids.js';

interface DemoBrokerSpans {
  receiptSpanId(traceId: string, spanId: string, topic: string, payload: Buffer): string;
  deliverySpanId(receiptId: string, clientId: string): string;
  deliverySpanContext(traceparent: string, topic: string, payload: Buffer, clientId: string): { traceId: string; spanId: string; traceFlags: number; isRemote: boolean } | null;
}

const MODULE = fileURLToPath(new URL('../../../demo/broker-spans.mjs', import.meta.url));
const load = async () => (await import(pathToFileURL(MODULE).href)) as DemoBrokerSpans;

test("the demo's span ids are the sidecar's, for any topic, payload and client id", async () => {
  const demo = await load();
  for (let i = 0; i < 200; i++) {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const topic = `demo/dévice-${i}/telemetry`;
    const payload = randomBytes(i * 7);
    const clientId = `sub-${i}-ü`;
    const receipt = receiptSpanId(traceId, spanId, topic, payload);
    assert.equal(demo.receiptSpanId(traceId, spanId, topic, payload), receipt);
    assert.equal(demo.deliverySpanId(receipt, clientId), deliverySpanId(receipt, clientId));
    assert.deepEqual(demo.deliverySpanContext(`00-${traceId}-${spanId}-01`, topic, payload, clientId), {
      traceId,
      spanId: deliverySpanId(receipt, clientId),
      traceFlags: 1,
      isRemote: true,
    });
  }
  assert.equal(demo.deliverySpanContext('not a traceparent', 't', Buffer.alloc(0), 'c'), null);
});
