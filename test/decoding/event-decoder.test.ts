import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder, MAX_ITEMS } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { HOOKS, MESSAGE_NAMES, type SidecarEvent } from '../../src/events/event-types.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { assertMatchesSample } from '../helpers/assert-event.js';

function decodeFrame(frame: Buffer): { event: SidecarEvent | null; decoder: EventDecoder } {
  const decoder = new EventDecoder();
  return { event: decoder.decode(frame, 4, frame.length, 1_700_000_000_000), decoder };
}

const encoder = new FrameEncoder();

function decodeSample(sample: Record<string, unknown>): SidecarEvent {
  const { event, decoder } = decodeFrame(encoder.encodeFrame(sample as never));
  assert.ok(event, decoder.failureDetail);
  return event;
}

test('each of the thirteen event types round-trips with every field set', () => {
  const encoder = new FrameEncoder();
  assert.equal(HOOKS.length, 13);
  for (const hook of HOOKS) {
    const { event } = decodeFrame(encoder.encodeFrame(SAMPLE_EVENTS[hook]));
    assert.ok(event, hook);
    assertMatchesSample(event, SAMPLE_EVENTS[hook]);
  }
});

test('events are found wherever they sit in a buffer: one decoder, frames back to back in a socket-sized chunk and in a buffer larger than one', () => {
  // The decoder keeps a view of the last buffer it read a type URL from (one per socket chunk);
  // a buffer of another size, another offset or another object must not be read through it.
  const decoder = new EventDecoder();
  for (const size of [4096, 65536, 300_000]) {
    const chunk = Buffer.alloc(size, 0xee);
    let pos = 7; // an odd offset: the type URL's words are not aligned
    const placed: [number, number, (typeof HOOKS)[number]][] = [];
    for (let i = 0; ; i++) {
      const hook = HOOKS[i % HOOKS.length]!;
      const frame = encoder.encodeFrame(SAMPLE_EVENTS[hook]);
      if (pos + frame.length > size) break;
      frame.copy(chunk, pos);
      placed.push([pos + 4, pos + frame.length, hook]);
      pos += frame.length + (i % 3);
    }
    for (const [start, end, hook] of placed) {
      const event = decoder.decode(chunk, start, end, 1_700_000_000_000);
      assert.ok(event, `${hook} at ${start} of ${size}: ${decoder.failureDetail}`);
      assertMatchesSample(event, SAMPLE_EVENTS[hook]);
    }
    // The same bytes in another buffer object, and a copy with the type URL changed by one byte.
    const [start, end, hook] = placed[1]!;
    const copy = Buffer.from(chunk.subarray(start, end));
    assert.equal(decoder.decode(copy, 0, copy.length, 0)?.hook, hook);
    const urlEnd = copy.indexOf(Buffer.from(MESSAGE_NAMES[hook], 'latin1')) + MESSAGE_NAMES[hook].length;
    copy[urlEnd - 1] = copy[urlEnd - 1]! ^ 0x20;
    assert.equal(decoder.decode(copy, 0, copy.length, 0), null, 'one byte of the type name off');
    assert.equal(decoder.failure, 'unknown_type');
  }
});

test('reasons become stable names; unknown enum numbers map to "unknown"', () => {
  const encoder = new FrameEncoder();
  const offline = decodeFrame(encoder.encodeFrame(SAMPLE_EVENTS.on_client_offline)).event!;
  assert.equal(offline.hook === 'on_client_offline' && offline.reasonName, 'tcp_closed');
  const gone = decodeFrame(encoder.encodeFrame(SAMPLE_EVENTS.on_client_gone)).event!;
  assert.equal(gone.hook === 'on_client_gone' && gone.reasonName, 'disconnect_keep_alive');
  const failed = decodeFrame(encoder.encodeFrame(SAMPLE_EVENTS.on_register_failed)).event!;
  assert.equal(failed.hook === 'on_register_failed' && failed.reasonName, 'invalid_credentials');
  const future = decodeFrame(encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_gone, reason: 99 })).event!;
  assert.ok(future.hook === 'on_client_gone');
  assert.equal(future.reason, 99);
  assert.equal(future.reasonName, 'unknown');
});

test('the payload is a view into the received bytes, not a copy', () => {
  const frame = new FrameEncoder().encodeFrame(SAMPLE_EVENTS.on_publish);
  const { event } = decodeFrame(frame);
  assert.ok(event?.hook === 'on_publish');
  assert.equal(event.payload.buffer, frame.buffer);
});

test('a missing timestamp falls back to the arrival time and is flagged', () => {
  const { timestamp: _drop, ...noTime } = SAMPLE_EVENTS.on_client_wakeup;
  const { event } = decodeFrame(new FrameEncoder().encodeFrame({ ...noTime, hook: 'on_client_wakeup' }));
  assert.ok(event);
  assert.equal(event.timeMissing, true);
  assert.equal(event.timeSec, 1_700_000_000);
  assert.equal(event.timeNanos, 0);
});

test('any host part of the type URL is accepted, the type name decides', () => {
  const value = new FrameEncoder().encodeMessage(SAMPLE_EVENTS.on_client_wakeup);
  const { event } = decodeFrame(FrameEncoder.frameWithTypeUrl('example.com/x/eventssidecar.v1.OnClientWakeUp', value));
  assert.equal(event?.hook, 'on_client_wakeup');
});

test('unknown types, broken envelopes and broken events are reported by kind', () => {
  const value = new FrameEncoder().encodeMessage(SAMPLE_EVENTS.on_client_wakeup);
  const unknown = decodeFrame(FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnSomethingNew', value));
  assert.equal(unknown.event, null);
  assert.equal(unknown.decoder.failure, 'unknown_type');
  assert.equal(unknown.decoder.failureDetail, 'type.googleapis.com/eventssidecar.v1.OnSomethingNew');
  // Wakeup spelled with a lower-case u is not the plugin's type name.
  assert.equal(decodeFrame(FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnClientWakeup', value)).decoder.failure, 'unknown_type');

  const envelope = decodeFrame(Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]));
  assert.equal(envelope.event, null);
  assert.equal(envelope.decoder.failure, 'invalid_envelope');
  assert.equal(envelope.decoder.failureDetail, 'not a google.protobuf.Any with a type_url: 3 bytes, starting ffffff');

  // A string field whose length runs past the end of the value.
  const broken = decodeFrame(FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnPublish', Buffer.from([0x1a, 0x50, 0x41])));
  assert.equal(broken.event, null);
  assert.equal(broken.decoder.failure, 'invalid_event');
  assert.match(broken.decoder.failureDetail, /^OnPublish: /);
});

test('an empty Any value is a valid event with default fields', () => {
  const { event } = decodeFrame(FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnSessionExpired', Buffer.alloc(0)));
  assert.ok(event?.hook === 'on_session_expired');
  assert.equal(event.clientId, '');
  assert.equal(event.mountpoint, '');
  assert.equal(event.timeMissing, true);
});

test('huge legal events are cut to what one event may carry; the skipped items are counted', () => {
  const userProperties: Record<string, string> = {};
  for (let i = 0; i < 5000; i++) userProperties[`k${i}`] = `v${i}`;
  const reg = decodeSample({ ...SAMPLE_EVENTS.on_register, userProperties });
  assert.equal(Object.keys((reg as { userProperties: object }).userProperties).length, MAX_ITEMS.on_register![1]);
  assert.equal(reg.truncatedItems, 5000 - MAX_ITEMS.on_register![1]);
  assert.equal(reg.clientId, SAMPLE_EVENTS.on_register.clientId, 'the fields around the map are kept');
  assert.equal((reg as { sessionId: string }).sessionId, SAMPLE_EVENTS.on_register.sessionId);
  assert.equal((reg as { userProperties: Record<string, string> }).userProperties.k0, 'v0');

  const topics = Array.from({ length: 10_250 }, (_, i) => `t/${i}`);
  const unsub = decodeSample({ ...SAMPLE_EVENTS.on_unsubscribe, topics }) as unknown as { topics: string[]; truncatedItems: number; sessionId: string };
  assert.equal(unsub.topics.length, 10_000);
  assert.equal(unsub.topics[9_999], 't/9999');
  assert.equal(unsub.truncatedItems, 250);
  assert.equal(unsub.sessionId, SAMPLE_EVENTS.on_unsubscribe.sessionId);

  const small = decodeSample(SAMPLE_EVENTS.on_subscribe);
  assert.equal(small.truncatedItems, 0);
});

test('truncated items reach vmq_sidecar.event.truncated_items and unsubscriptions still count them', async () => {
  const { startTestSidecar, connect, write } = await import('../helpers/sidecar-fixture.js');
  const { eventually } = await import('../helpers/eventually.js');
  const sidecar = await startTestSidecar();
  try {
    const s = await connect(sidecar.port);
    const topics = Array.from({ length: 10_007 }, (_, i) => `t/${i}`);
    await write(s, encoder.encodeFrame({ ...SAMPLE_EVENTS.on_unsubscribe, topics } as never));
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, 1));
    const text = await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text();
    assert.match(text, /vmq_sidecar_event_truncated_items_total\{[^}]*vernemq_hook="on_unsubscribe"[^}]*\} 7/);
    assert.match(text, /mqtt_unsubscriptions_total\{[^}]*\} 10007/);
    s.destroy();
  } finally {
    await sidecar.stop();
  }
});
