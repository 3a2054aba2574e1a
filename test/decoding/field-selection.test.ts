/**
 * The metrics path decodes only the fields field-selection.ts lists, into reused event objects,
 * and the fan-out hands each sink only the hooks it names. This test feeds the same events, so
 * decoded and routed on one side, decoded in full and handed to every sink on the other, through
 * the sinks of the metrics path (metrics, session tracker, unregistered-wakeup matcher) and
 * compares everything they produce: a sink that starts reading a field the selection leaves out,
 * or a hook it does not name, fails it until the field or hook is listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { loadEventSchema } from '../../src/decoding/proto-schema.js';
import { fieldsForOutputs } from '../../src/decoding/field-selection.js';
import { fakeHost } from '../helpers/fake-host.js';
import { MetricsSink } from '../../src/sinks/metrics-sink.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { UnregisteredWakeups } from '../../src/reconcile/unregistered-wakeups.js';
import { FanoutSink } from '../../src/sinks/event-sink.js';
import { ClientModel } from '../../src/simulator/client-model.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { FrameFuzzer } from '../helpers/frame-fuzzer.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

function metricsPath(routed: boolean, topicGroups: boolean, clientGroups = false, mode: 'sessions' | 'deltas' = 'sessions') {
  const host = fakeHost({ maxMountpoints: 20, clientGroups: clientGroups ? 'client:*1=ones,user:user-2*=twos,client:*7=sevens' : '' });
  const { store } = host;
  const metrics = host.add(
    new MetricsSink(host, {
      topicGroups: topicGroups ? [{ pattern: 'devices/+/telemetry', name: 'telemetry' }, { pattern: 'misc/#', name: 'misc' }] : [],
      maxTopicGroups: 50,
      maxDropReasons: 20,
    }),
  );
  const sessions = host.add(new SessionTracker(host, { maxClients: 100_000, mode }));
  const wakeups = new UnregisteredWakeups(null);
  // The sidecar's fan-out: the host's attribute folding first (metrics-path sinks, routed by hook).
  const fanout = new FanoutSink([host.attributes, metrics, sessions, wakeups]);
  return {
    consume(e: SidecarEvent, at: number) {
      if (routed) return fanout.consume(e, at);
      // Every sink every event (no routing), after the one sighting of its values.
      host.attributes.consume(e);
      metrics.consume(e, at);
      sessions.consume(e);
      wakeups.consume(e, at);
    },
    snapshot(): string {
      store.beforeCollect();
      const families = store.families.map((f) => ({ name: f.def.name, series: f.all().map((s) => JSON.stringify(s)) }));
      return JSON.stringify({ families, sessions: [sessions.stale, sessions.untracked, sessions.trackedClients], wakeups: [wakeups.registered, wakeups.unregistered] });
    },
  };
}

for (const [topicGroups, clientGroups, mode] of [
  [false, false, 'sessions'],
  [true, false, 'sessions'],
  [false, true, 'sessions'],
  [false, false, 'deltas'],
] as const) {
  test(`metrics, sessions and wakeup matching see the same from the selective decode, routed by hook, as from the full one handed to every sink (topic groups ${topicGroups ? 'on' : 'off'}, client groups ${clientGroups ? 'on' : 'off'}, ${mode})`, () => {
    const schema = loadEventSchema();
    const selection = fieldsForOutputs({ topicGroups, clientGroups, logRatios: null, logTracedMessages: false, readsEverything: false });
    assert.notEqual(selection.on_deliver, 'all');
    const selective = new EventDecoder(schema, selection, 'fields', { reuseEvents: true });
    const full = new EventDecoder(schema);
    const a = metricsPath(true, topicGroups, clientGroups, mode);
    const b = metricsPath(false, topicGroups, clientGroups, mode);
    const feed = (f: Buffer, at: number) => {
      const x = selective.decode(f, 4, f.length, at);
      const y = full.decode(f, 4, f.length, at);
      assert.equal(x === null, y === null);
      if (x !== null) a.consume(x, at + 5);
      if (y !== null) b.consume(y, at + 5);
    };
    const model = new ClientModel({ clients: 300, seed: 5 });
    const encoder = new FrameEncoder();
    let n = 0;
    while (n < 20_000) model.step((e) => feed(encoder.encodeFrame(e), 1_764_133_200_000 + n++));
    const fuzzer = new FrameFuzzer(11);
    for (let i = 0; i < 3000; i++) feed(fuzzer.nextFramed(), 1_764_133_200_000 + i);
    assert.equal(a.snapshot(), b.snapshot());
  });
}
