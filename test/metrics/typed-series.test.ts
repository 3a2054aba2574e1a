/**
 * The metric store's accessors are typed from the catalog: this file is compiled by `npm test`'s
 * build, and each `@ts-expect-error` line must fail to compile (tsc reports an unused directive
 * otherwise), so a swapped, missing or extra attribute is a build error, not a mislabelled series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricStore } from '../../src/metrics/metric-store.js';
import { MQTT_METRICS, SIDECAR_METRICS } from '../../src/metrics/metric-catalog.js';
import { BoundedValues } from '../../src/metrics/bounded-values.js';

test('series accessors check attribute order, count and kind at compile time', () => {
  const store = new MetricStore();
  const mountpoints = new BoundedValues('mqtt.mountpoint', 10);
  const groups = new BoundedValues('mqtt.topic.group', 10);
  const mp = mountpoints.fold('');
  const group = groups.fold('telemetry');
  const published = store.sum(MQTT_METRICS.published);
  published.get(mp, 1, false, group, '', '3.1.1').value++;
  const disconnects = store.sum(MQTT_METRICS.disconnects);
  disconnects.get(mp, 'tcp_closed', true, '').value++;
  // Never called: these lines only have to (fail to) compile.
  const wrongCalls = () => {
    // @ts-expect-error mountpoint and topic group swapped
    published.get(group, 1, false, mp, '', '3.1.1');
    // @ts-expect-error qos and retain swapped
    published.get(mp, false, 1, group, '', '3.1.1');
    // @ts-expect-error a seventh attribute
    published.get(mp, 1, false, group, '', '3.1.1', 'extra');
    // @ts-expect-error an attribute missing
    published.get(mp, 1, false, group, '');
    // @ts-expect-error an unbounded string is not a mountpoint
    published.get('raw-mountpoint', 1, false, group, '', '3.1.1');
    // @ts-expect-error a QoS outside 0, 1, 2, "invalid"
    published.get(mp, 3, false, group, '', '3.1.1');
    // @ts-expect-error a reason the catalog does not list
    disconnects.get(mp, 'made_up', true, '');
    // @ts-expect-error an unbounded string is not a client group
    disconnects.get(mp, 'tcp_closed', true, 'raw-group');
    // @ts-expect-error a gauge is not a sum
    store.sum(SIDECAR_METRICS.snapshotAge);
    // @ts-expect-error a counter is not a gauge
    store.gauge(MQTT_METRICS.published);
  };
  void wrongCalls;
  assert.equal(published.get(mp, 1, false, group, '', '3.1.1').value, 1);
  // "" for an absentWhenEmpty attribute (mqtt.client.group without --client-groups): no attribute.
  assert.deepEqual(published.get(mp, 1, false, group, '', '3.1.1').attributes, { 'mqtt.mountpoint': '', 'mqtt.qos': 1, 'mqtt.retain': false, 'mqtt.topic.group': 'telemetry', 'network.protocol.version': '3.1.1' });
});
