import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { serializeLogRecords } from '../../helpers/otlp-log-object-serializer.js';
import { decodeLogsProtobuf } from '../../helpers/otlp-receiver.js';

const resource = resourceFromAttributes({ 'service.name': 'svc', 'service.instance.id': 'node-1', 'host.cpus': 2 });
const other = resourceFromAttributes({ 'service.name': 'other' });
const scope = { name: 'vmq-otel-sidecar', version: '0.1.0' };

function record(i: number, overrides: Partial<ReadableLogRecord> = {}): ReadableLogRecord {
  return {
    hrTime: [1764133200 + i, 123456789],
    hrTimeObserved: [4294967295, 999999999],
    severityNumber: 9,
    severityText: 'INFO',
    body: `client c${i} connected — ünïcödé 🚀`,
    eventName: 'vernemq.on_register',
    resource,
    instrumentationScope: scope,
    attributes: {
      'messaging.system': 'mqtt',
      'messaging.client.id': `c${i}`,
      'client.port': 53122,
      'mqtt.qos': 0,
      'neg': -42,
      'ratio': 0.25,
      'mqtt.retain': false,
      'mqtt.subscription.topics': ['a/+', 'b/#'],
      'mqtt.subscription.qos': [1, 128],
      'long.text': 'x'.repeat(300),
      'lone.surrogate': 'a\ud800b',
      'nested': { k: 'v', n: 1 },
    },
    droppedAttributesCount: 0,
    spanContext: i % 2 === 0 ? { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 } : undefined,
    ...overrides,
  } as ReadableLogRecord;
}

test('our encoding decodes to exactly what the SDK serializer\'s does', () => {
  const records = [record(0), record(1), record(2, { resource: other }), record(3, { body: undefined, eventName: undefined }), record(4)];
  const ours = decodeLogsProtobuf(serializeLogRecords(records));
  const sdk = decodeLogsProtobuf(ProtobufLogsSerializer.serializeRequest(records)!);
  const key = (r: (typeof ours)[number]) => `${r.resource['service.name']}|${r.timeUnixNano}`;
  assert.equal(ours.length, 5);
  assert.deepEqual(
    ours.sort((a, b) => key(a).localeCompare(key(b))),
    sdk.sort((a, b) => key(a).localeCompare(key(b))),
  );
  const first = ours.find((r) => r.attributes['messaging.client.id'] === 'c0')!;
  assert.equal(first.timeUnixNano, 1764133200123456789n);
  assert.equal(first.observedTimeUnixNano, 4294967295999999999n);
  assert.equal(first.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(first.attributes.neg, -42);
  assert.equal(first.attributes['lone.surrogate'], 'a\ufffdb');
});

test('timestamps are exact across the whole range of seconds', () => {
  for (const [sec, nanos] of [
    [0, 0],
    [1, 1],
    [65535, 999999999],
    [65536, 0],
    [1764133200, 999999999],
    [4102444800, 5],
  ] as const) {
    const [r] = decodeLogsProtobuf(serializeLogRecords([record(0, { hrTime: [sec, nanos] })]));
    assert.equal(r!.timeUnixNano, BigInt(sec) * 1_000_000_000n + BigInt(nanos), `${sec}.${nanos}`);
  }
});
