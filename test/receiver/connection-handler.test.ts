/**
 * The connection handler without a socket: chunks in, events out, every problem counted once,
 * on the connection and in the shared counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionHandler } from '../../src/receiver/connection-handler.js';
import { IngestCore } from '../../src/ingest/ingest-core.js';
import { IngestStats } from '../../src/receiver/ingest-stats.js';
import { FanoutSink } from '../../src/sinks/event-sink.js';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { HOOKS } from '../../src/events/event-types.js';
import { CaptureSink } from '../helpers/capture-sink.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import type { EventSink } from '../../src/sinks/event-sink.js';

const encoder = new FrameEncoder();
/** The samples with a small publish payload (the sample's is over 1 MiB). */
const sample = (h: (typeof HOOKS)[number]) => (h === 'on_publish' ? { ...SAMPLE_EVENTS.on_publish, payload: Buffer.from('21.5') } : SAMPLE_EVENTS[h]);

function handler(sink: EventSink, maxFrameBytes = 1 << 20) {
  const lines: Record<string, unknown>[] = [];
  const logger = new SidecarLogger('debug', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const stats = new IngestStats();
  return { h: new ConnectionHandler('10.0.0.1:4000', new IngestCore(sink, stats, logger), maxFrameBytes), stats, lines };
}

test('frames split at every byte boundary become the same events', () => {
  const frames = Buffer.concat(HOOKS.map((h) => encoder.encodeFrame(sample(h))));
  const capture = new CaptureSink();
  const { h, stats } = handler(capture);
  for (let i = 0; i < frames.length; i++) h.push(frames.subarray(i, i + 1));
  h.end();
  assert.deepEqual(
    capture.events.map((e) => e.hook),
    [...HOOKS],
  );
  assert.equal(h.events, HOOKS.length);
  assert.equal(h.bytes, frames.length);
  assert.equal(stats.eventsTotal, HOOKS.length);
  assert.equal(stats.rejectedTotal(), 0);
});

test('a sink that throws: the other sinks still get the event, counted once as sink_error, on the connection too, logged as an error', () => {
  const capture = new CaptureSink();
  const failing: EventSink = {
    consume: () => {
      throw new Error('bug in a sink');
    },
  };
  const alsoFailing: EventSink = {
    consume: () => {
      throw new Error('second bug');
    },
  };
  const { h, stats, lines } = handler(new FanoutSink([failing, capture, alsoFailing]));
  h.push(Buffer.concat([encoder.encodeFrame(sample('on_register')), encoder.encodeFrame(sample('on_publish'))]));
  assert.equal(capture.events.length, 2);
  assert.equal(stats.rejected.sink_error, 2);
  assert.equal(h.rejected, 2);
  assert.equal(stats.eventsTotal, 2, 'the events were decoded: they count as received');
  const line = lines.find((l) => l.msg === 'event sink failed');
  assert.equal(line?.level, 'error');
  assert.equal(line?.hook, 'on_register');
  assert.match(String(line?.detail), /bug in a sink/);
});

test('a sink that names its hooks hears only those; the others hear every hook, in order', () => {
  const all = new CaptureSink();
  const heard: string[] = [];
  const sessionLayer: EventSink = { hooks: ['on_client_wakeup', 'on_client_gone'], consume: (e) => heard.push(e.hook) };
  const { h } = handler(new FanoutSink([sessionLayer, all]));
  h.push(Buffer.concat(HOOKS.map((hook) => encoder.encodeFrame(sample(hook)))));
  assert.deepEqual(heard, ['on_client_wakeup', 'on_client_gone']);
  assert.deepEqual(
    all.events.map((e) => e.hook),
    [...HOOKS],
  );
});

test('an unknown type, an oversized frame and a truncated tail are each counted under their reason', () => {
  const capture = new CaptureSink();
  const { h, stats } = handler(capture, 200);
  const wakeup = encoder.encodeMessage(SAMPLE_EVENTS.on_client_wakeup);
  const unknown = FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.Nope', wakeup);
  const oversized = encoder.encodeFrame({ ...SAMPLE_EVENTS.on_publish, payload: Buffer.alloc(500) } as never);
  const good = encoder.encodeFrame(SAMPLE_EVENTS.on_client_wakeup);
  h.push(Buffer.concat([unknown, oversized, good, good.subarray(0, 7)]));
  h.end();
  assert.equal(stats.rejected.unknown_type, 1);
  assert.equal(stats.rejected.oversized, 1);
  assert.equal(stats.rejected.truncated, 1);
  assert.equal(h.rejected, 3);
  assert.equal(capture.events.length, 1, 'the stream goes on after a bad frame');
});

test('an unframeable length marks the connection for closing; further bytes are ignored', () => {
  const capture = new CaptureSink();
  const { h, stats } = handler(capture);
  h.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  assert.equal(h.unframeable, true);
  assert.equal(stats.rejected.unframeable, 1);
  h.push(encoder.encodeFrame(SAMPLE_EVENTS.on_register));
  h.end();
  assert.equal(capture.events.length, 0);
  assert.equal(stats.rejected.truncated, 0, 'the remainder of an unframeable stream is not "truncated"');
});
