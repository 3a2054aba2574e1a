import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, DataPointType, type SumMetricData, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { MetricStore } from '../../src/metrics/metric-store.js';
import type { Mountpoint, TopicGroup } from '../../src/metrics/bounded-values.js';

const mp = (v: string) => v as Mountpoint;
const group = (v: string) => v as TopicGroup;
import { MQTT_METRICS } from '../../src/metrics/metric-catalog.js';
import { StoreMetricProducer, settleDeltas } from '../../src/telemetry/metric-producer.js';

/** One collection and its export's outcome (ok: the exporter reported success). */
async function collect(p: StoreMetricProducer, ok = true) {
  const { resourceMetrics } = await p.collect();
  settleDeltas(resourceMetrics, ok);
  return resourceMetrics.scopeMetrics[0]!.metrics;
}

test('cumulative: totals since start; delta: what changed since the last collection, gauges stay cumulative', async () => {
  const store = new MetricStore();
  const published = store.sum(MQTT_METRICS.published);
  const connected = store.sum(MQTT_METRICS.connected);
  const size = store.histogram(MQTT_METRICS.payloadSize);
  const cumulative = new StoreMetricProducer(store, 'cumulative');
  const delta = new StoreMetricProducer(store, 'delta');

  published.get(mp(''), 1, false, group('g'), '', '3.1.1').value += 5;
  connected.get(mp(''), '').value += 3;
  size.get(1, group('g')).record(100);
  await collect(delta);
  published.get(mp(''), 1, false, group('g'), '', '3.1.1').value += 2;
  connected.get(mp(''), '').value -= 1;
  size.get(1, group('g')).record(20);

  const c = await collect(cumulative);
  const d = await collect(delta);
  const find = <T>(ms: unknown[], name: string) => (ms as { descriptor: { name: string } }[]).find((m) => m.descriptor.name === name) as T;

  const cPub = find<SumMetricData>(c, 'mqtt.message.published');
  assert.equal(cPub.aggregationTemporality, AggregationTemporality.CUMULATIVE);
  assert.equal(cPub.dataPoints[0]!.value, 7);
  assert.deepEqual(cPub.dataPoints[0]!.attributes, { 'mqtt.mountpoint': '', 'mqtt.qos': 1, 'mqtt.retain': false, 'mqtt.topic.group': 'g', 'network.protocol.version': '3.1.1' });
  const dPub = find<SumMetricData>(d, 'mqtt.message.published');
  assert.equal(dPub.aggregationTemporality, AggregationTemporality.DELTA);
  assert.equal(dPub.dataPoints[0]!.value, 2);
  const dConn = find<SumMetricData>(d, 'mqtt.client.connected');
  assert.equal(dConn.aggregationTemporality, AggregationTemporality.CUMULATIVE);
  assert.equal(dConn.isMonotonic, false);
  assert.equal(dConn.dataPoints[0]!.value, 2);
  const dSize = find<HistogramMetricData>(d, 'mqtt.publish.payload.size');
  assert.equal(dSize.dataPointType, DataPointType.HISTOGRAM);
  assert.equal(dSize.dataPoints[0]!.value.count, 1);
  assert.equal(dSize.dataPoints[0]!.value.sum, 20);
  const cSize = find<HistogramMetricData>(c, 'mqtt.publish.payload.size');
  assert.equal(cSize.dataPoints[0]!.value.count, 2);
  assert.equal(cSize.dataPoints[0]!.value.max, 100);
  // (16, 64] holds 20; (64, 256] holds 100.
  assert.deepEqual(cSize.dataPoints[0]!.value.buckets.counts.slice(0, 5), [0, 0, 1, 1, 0]);
});

test('past the series limit, new combinations are counted in one overflow series', async () => {
  const store = new MetricStore(3);
  const reg = store.sum(MQTT_METRICS.registrations);
  for (const m of ['a', 'b', 'c', 'd', 'e']) reg.get(mp(m), '', '3.1.1').value++;
  const ms = await collect(new StoreMetricProducer(store));
  const points = (ms[0] as SumMetricData).dataPoints;
  assert.equal(points.length, 4);
  assert.deepEqual(points[3]!.attributes, { 'otel.metric.overflow': true });
  assert.equal(points[3]!.value, 2);
});

test('delta: a failed export\'s changes go out with the next one; in deltas mode the connected share is a delta too', async () => {
  const store = new MetricStore();
  const published = store.sum(MQTT_METRICS.published);
  const connected = store.sum(MQTT_METRICS.connected);
  const delta = new StoreMetricProducer(store, 'delta', undefined, new Set([MQTT_METRICS.connected.name]));
  const value = (ms: unknown[], name: string) => (ms as SumMetricData[]).find((m) => m.descriptor.name === name)!.dataPoints[0]!.value;
  published.get(mp(''), 1, false, group('g'), '', '3.1.1').value += 5;
  connected.get(mp(''), '').value += 3;
  const first = await collect(delta);
  assert.equal(value(first, 'mqtt.message.published'), 5);
  assert.equal((first as SumMetricData[]).find((m) => m.descriptor.name === 'mqtt.client.connected')!.aggregationTemporality, AggregationTemporality.DELTA);
  assert.equal(value(first, 'mqtt.client.connected'), 3);
  // The next export fails: its 2 and -4 are not lost, they go out with the one after.
  published.get(mp(''), 1, false, group('g'), '', '3.1.1').value += 2;
  connected.get(mp(''), '').value -= 4;
  const failed = await collect(delta, false);
  assert.equal(value(failed, 'mqtt.message.published'), 2);
  published.get(mp(''), 1, false, group('g'), '', '3.1.1').value += 1;
  const next = await collect(delta);
  assert.equal(value(next, 'mqtt.message.published'), 3);
  assert.equal(value(next, 'mqtt.client.connected'), -4);
  const after = await collect(delta);
  assert.equal(value(after, 'mqtt.message.published'), 0);
});
