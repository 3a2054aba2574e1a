/** The host's one attribute-folding service: one sighting per event, whichever outputs read the value, in whichever order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsSink } from '../../src/sinks/metrics-sink.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { FanoutSink, type EventSink } from '../../src/sinks/event-sink.js';
import { MQTT_METRICS } from '../../src/metrics/metric-catalog.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { fakeHost } from '../helpers/fake-host.js';

const encoder = new FrameEncoder();
const decoder = new EventDecoder();

for (const order of ['metrics, then sessions', 'sessions, then metrics'] as const) {
  test(`--max-mountpoints 10, outputs ${order}: ten one-off mountpoints, then a real one with 20 wakeups: each event is one sighting`, () => {
    const host = fakeHost({ maxMountpoints: 10 });
    const metrics = host.add(new MetricsSink(host, { topicGroups: [], maxTopicGroups: 10, maxDropReasons: 10 }));
    const sessions = host.add(new SessionTracker(host, { maxClients: 100 }));
    const outputs: EventSink[] = order === 'metrics, then sessions' ? [metrics, sessions] : [sessions, metrics];
    const fanout = new FanoutSink([host.attributes, ...outputs]);
    const base = Math.floor(Date.now() / 1000);
    const wakeup = (mountpoint: string, clientId: string, nanos: number) => {
      const f = encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, mountpoint, clientId, timestamp: { seconds: base, nanos } });
      fanout.consume(decoder.decode(f, 4, f.length, Date.now())!, Date.now());
    };
    for (let i = 0; i < 10; i++) wakeup(`one-off-${i}`, `x${i}`, i);
    for (let i = 0; i < 20; i++) wakeup('tenant-a', `c${i}`, 100 + i);
    const connected = (mp: string) => host.series(MQTT_METRICS.connected).filter((s) => s['mqtt.mountpoint'] === mp).reduce((n, s) => n + (s.value as number), 0);
    // Its first wakeup is a first sighting while only recurring values get places: "other". Two
    // sightings per event (one per output) would have given it a place at its first wakeup.
    assert.equal(connected('tenant-a'), 19);
    assert.equal(host.series(MQTT_METRICS.connected).filter((s) => String(s['mqtt.mountpoint']).startsWith('one-off-')).length, 5);
    assert.equal(connected('other'), 6);
  });
}

test('--client-groups: one grouper for every output; the username a register names groups the metrics and the gauge alike', () => {
  const host = fakeHost({ clientGroups: 'user:fleet-*=fleet' });
  const metrics = host.add(new MetricsSink(host, { topicGroups: [], maxTopicGroups: 10, maxDropReasons: 10 }));
  const sessions = host.add(new SessionTracker(host, { maxClients: 100 }));
  const base = Math.floor(Date.now() / 1000);
  const feed = (e: Record<string, unknown>, nanos: number) => {
    const f = encoder.encodeFrame({ ...e, mountpoint: '', clientId: 'gw-1', timestamp: { seconds: base, nanos } } as never);
    host.feed([sessions, metrics], decoder.decode(f, 4, f.length, Date.now())!);
  };
  feed(SAMPLE_EVENTS.on_client_wakeup, 1);
  feed({ ...SAMPLE_EVENTS.on_register, username: 'fleet-7' }, 2);
  assert.deepEqual(host.series(MQTT_METRICS.connected).filter((s) => s.value !== 0).map((s) => s['mqtt.client.group']), ['fleet']);
  assert.deepEqual(host.series(MQTT_METRICS.registrations).map((s) => s['mqtt.client.group']), ['fleet']);
});
