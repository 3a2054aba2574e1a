import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedValues, INVALID_VALUE, OTHER_VALUE, isWellFormedValue } from '../../src/metrics/bounded-values.js';
import { MetricsSink } from '../../src/sinks/metrics-sink.js';
import type { SumFamily } from '../../src/metrics/metric-store.js';
import { fakeHost } from '../helpers/fake-host.js';
import { MQTT_METRICS, SIDECAR_METRICS } from '../../src/metrics/metric-catalog.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

test('values outside the domain become "invalid", are counted and take no place', () => {
  const b = new BoundedValues('error.type', 2);
  for (const bad of ['queue\u0000full', 'a\nb', 'tab\there', '\u007f', '\u0085', 'bad\ufffdutf8', 'x'.repeat(129)]) {
    assert.equal(isWellFormedValue(bad), false, JSON.stringify(bad));
    assert.equal(b.fold(bad), INVALID_VALUE);
  }
  assert.equal(b.invalid, 7);
  assert.equal(b.fold(''), '', 'the default mountpoint is a real value: the invalid values took no place');
  assert.equal(b.fold('x'.repeat(128)), OTHER_VALUE, 'second half: a new value waits for its second sighting');
});

test('a flood of one-off garbage values cannot starve real values that come later', () => {
  const max = 200;
  const b = new BoundedValues('mqtt.topic.group', max);
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 100_000; i++) b.fold(`junk-${rnd().toString(36)}-${i}`);
  // 80 real groups, arriving after the flood (still interleaved with garbage), recur.
  const real = Array.from({ length: 80 }, (_, i) => `fleet-${i}`);
  const seen = new Map<string, string[]>();
  for (let round = 0; round < 5; round++) {
    for (const r of real) {
      seen.set(r, [...(seen.get(r) ?? []), b.fold(r)]);
      for (let k = 0; k < 20; k++) b.fold(`junk-${rnd().toString(36)}`);
    }
  }
  // The first sighting counts in "other"; the second gets the value its place, unless the
  // pending table was emptied in between (every 10,000 new values), then the third does.
  for (const r of real) {
    const s = seen.get(r)!;
    assert.equal(s[0], OTHER_VALUE);
    assert.deepEqual(s.slice(2), [r, r, r], r);
  }
  assert.ok(real.filter((r) => seen.get(r)![1] === r).length >= 60, 'most at their second sighting');
});

test('fuzzed QoS, NUL-bearing mountpoints and drop reasons become "invalid" series, counted; real ones keep their own', () => {
  const host = fakeHost({ maxMountpoints: 100 });
  const store = host.store;
  const sink = host.add(new MetricsSink(host, { topicGroups: [], maxTopicGroups: 200, maxDropReasons: 50 }));
  const encoder = new FrameEncoder();
  const decoder = new EventDecoder();
  const decode = (e: Record<string, unknown>): SidecarEvent => {
    const f = encoder.encodeFrame(e as never);
    return decoder.decode(f, 4, f.length, Date.now())!;
  };
  const drop = SAMPLE_EVENTS.on_message_drop;
  for (let i = 0; i < 1000; i++) {
    sink.consume(decode({ ...drop, qos: 3 + i, mountpoint: `m\u0000${i}`, reason: `r\u0001${i}` }), Date.now());
  }
  for (let i = 0; i < 3; i++) sink.consume(decode({ ...drop, qos: 1, mountpoint: 'tenant-a', reason: 'queue_full' }), Date.now());
  const series = host.series(MQTT_METRICS.dropped);
  const invalid = series.filter((s) => s['mqtt.qos'] === INVALID_VALUE);
  assert.equal(invalid.length, 1, 'all garbage lands in one series');
  assert.equal(invalid[0]!['mqtt.mountpoint'], INVALID_VALUE);
  assert.equal(invalid[0]!['error.type'], INVALID_VALUE);
  assert.equal(invalid[0]!.value, 1000);
  const real = series.find((s) => s['error.type'] === 'queue_full');
  assert.equal(real?.value, 3);
  assert.equal(real?.['mqtt.mountpoint'], 'tenant-a');
  store.beforeCollect();
  const counted = store.family(SIDECAR_METRICS.attributeValuesInvalid.name) as SumFamily;
  assert.equal(counted.get('mqtt.qos').value, 1000);
  assert.equal(counted.get('mqtt.mountpoint').value, 1000);
  assert.equal(counted.get('error.type').value, 1000);
});
