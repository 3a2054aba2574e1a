import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricStore, OVERFLOW_ATTRIBUTES } from '../../src/metrics/metric-store.js';
import { MQTT_METRICS } from '../../src/metrics/metric-catalog.js';
import { BoundedValues, type Qos } from '../../src/metrics/bounded-values.js';

/** A deterministic shuffle, so a failure replays. */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('every attribute combination counts on its own series, whatever combinations came between', () => {
  // Far more combinations than the store's series cache has slots, in shuffled order, each
  // recorded a known number of times: a lookup that returned another combination's series
  // (a cache slot compared on too few values) shows as a wrong count. Names alike in length and
  // first and last characters (m-x-1, m-y-1) differ only where the cache's hash does not look.
  const store = new MetricStore(100_000);
  const delivered = store.sum(MQTT_METRICS.delivered);
  const mountpoints = new BoundedValues('mqtt.mountpoint', 100);
  const groups = new BoundedValues('mqtt.topic.group', 100);
  const combos: Parameters<typeof delivered.get>[] = [];
  for (const mp of ['', 'a', 'b', 'ab', 'ba', 'm-x-1', 'm-y-1'].map((v) => mountpoints.fold(v)))
    for (const qos of [0, 1, 2, 'invalid'] as Qos[])
      for (const group of ['', 'g1', 'g2', '1g', 'sensors', 'sensorz', 'sen-a-s', 'sen-b-s'].map((v) => groups.fold(v)))
        for (const persisted of [false, true])
          for (const version of ['', '3.1.1', '3.0.1', '5']) combos.push([mp, qos, group, persisted, '', version]);
  const times = (i: number) => 1 + (i % 5);
  const calls = shuffled(combos.flatMap((c, i) => Array.from({ length: times(i) }, () => c)));
  for (const c of calls) delivered.get(...c).value++;
  assert.equal(delivered.series.length, combos.length, 'one series per combination');
  combos.forEach((c, i) => {
    const s = delivered.get(...c);
    assert.equal(s.value, times(i), `count of ${JSON.stringify(c)}`);
    assert.deepEqual(
      [s.attributes['mqtt.mountpoint'], s.attributes['mqtt.subscription.qos'] ?? s.attributes['mqtt.qos'], s.attributes['mqtt.topic.group'], s.attributes['mqtt.persisted']],
      [c[0], c[1], c[2], c[3]],
    );
  });
});

test('an attribute value equal to another by content, not by identity, finds the same series', () => {
  const store = new MetricStore();
  const registrations = store.sum(MQTT_METRICS.registrations);
  const mp = new BoundedValues('mqtt.mountpoint', 10).fold('');
  const built = ['3.1', '.1'].join(''); // the same characters as '3.1.1', another string object
  registrations.get(mp, '', '3.1.1').value++;
  registrations.get(mp, '', built).value++;
  assert.equal(registrations.series.length, 1);
  assert.equal(registrations.get(mp, '', '3.1.1').value, 2);
});

test('past the series limit new combinations share the overflow series, earlier ones keep theirs', () => {
  const store = new MetricStore(3);
  const expirations = store.sum(MQTT_METRICS.expirations);
  const mps = new BoundedValues('mqtt.mountpoint', 100);
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((v) => mps.fold(v)) as [ReturnType<typeof mps.fold>, ReturnType<typeof mps.fold>, ReturnType<typeof mps.fold>, ReturnType<typeof mps.fold>, ReturnType<typeof mps.fold>];
  for (let round = 0; round < 3; round++) for (const mp of [a, b, c, d, e]) expirations.get(mp).value++;
  assert.deepEqual(expirations.series.map((s) => [s.attributes['mqtt.mountpoint'], s.value]), [['a', 3], ['b', 3], ['c', 3]]);
  const overflow = expirations.get(d);
  assert.equal(expirations.get(e), overflow);
  assert.deepEqual(overflow.attributes, OVERFLOW_ATTRIBUTES);
  assert.equal(overflow.value, 6, 'd and e, three times each');
  assert.equal(expirations.total(), 15);
});
