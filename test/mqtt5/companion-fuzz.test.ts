/**
 * The companion's messages as a foreign or broken sender may send them: extreme values, huge
 * user property maps, flipped and cut bytes. Decoding never throws, valid frames say
 * protocol version 5, and a publish's user properties are capped like CONNECT ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../src/simulator/prng.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { EventDecoder, MAX_ITEMS_MQTT5 } from '../../src/decoding/event-decoder.js';
import { MQTT5_HOOKS } from '../../src/events/event-types.js';
import { extremeEvent } from '../helpers/frame-fuzzer.js';

const encoder = new FrameEncoder();

function companionFrame(r: Prng): Buffer {
  let e = extremeEvent(r);
  while (!(MQTT5_HOOKS as readonly string[]).includes(e.hook)) e = extremeEvent(r);
  if (e.hook === 'on_publish' || e.hook === 'on_deliver') {
    const n = r.chance(0.1) ? 150 : r.int(4);
    e.userProperties = Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'.repeat(r.int(300))]));
    if (r.chance(0.5)) (e.userProperties as Record<string, string>).traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  }
  if (e.hook === 'on_subscribe') e.topics = (e.topics as Record<string, unknown>[]).map((t) => ({ ...t, reasonCode: r.pick([0, 1, 2, 0x80, 0x87, 0x97, -1, 2147483647]) }));
  return encoder.encodeMqtt5Frame(e);
}

test('5,000 companion frames, half of them mutated: no throw, valid ones are MQTT 5 events, user properties capped', () => {
  const r = new Prng(26);
  const fast = new EventDecoder();
  const reference = new EventDecoder(undefined, undefined, 'protobufjs');
  let valid = 0;
  let capped = 0;
  for (let i = 0; i < 5000; i++) {
    const frame = companionFrame(r);
    const mutate = i % 2 === 1;
    if (mutate) {
      const flips = 1 + r.int(4);
      for (let k = 0; k < flips; k++) frame[4 + r.int(frame.length - 4)] = r.int(256);
    }
    const end = mutate && r.chance(0.2) ? 4 + r.int(frame.length - 4) : frame.length;
    for (const dec of [fast, reference]) {
      const e = dec.decode(frame, 4, end, 0);
      if (e === null) {
        assert.ok(['invalid_envelope', 'unknown_type', 'invalid_event', 'empty_frame'].includes(dec.failure));
        continue;
      }
      if (!mutate) assert.equal(e.protocolVersion, '5', e.hook);
      if (e.hook === 'on_publish' || e.hook === 'on_deliver') {
        const n = Object.keys(e.userProperties ?? {}).length;
        assert.ok(n <= MAX_ITEMS_MQTT5[e.hook]![1], `${n} user properties`);
        if (e.truncatedItems > 0) capped++;
      }
    }
    if (!mutate) valid++;
  }
  assert.equal(valid, 2500);
  assert.ok(capped > 0, 'some publishes or deliveries had their user properties capped');
});
