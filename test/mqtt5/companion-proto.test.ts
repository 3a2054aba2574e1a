/**
 * The companion's messages (proto/mqtt5/) compile with protoc and carry every field of the
 * plugin's message of the same name with the same number, type and name: a reader of the
 * plugin's message reads their shared part, and the sidecar's outputs read both alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type protobuf from 'protobufjs';
import { loadEventSchema, PROTO_DIR } from '../../src/decoding/proto-schema.js';
import { HOOKS, MQTT5_HOOKS } from '../../src/events/event-types.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';

test('proto/mqtt5/ compiles with protoc', () => {
  const files = readdirSync(path.join(PROTO_DIR, 'mqtt5'))
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `mqtt5/${f}`);
  assert.ok(files.length >= 6);
  execFileSync('protoc', ['-I', PROTO_DIR, '-I', '/usr/include', '--descriptor_set_out=/dev/null', ...files], { cwd: PROTO_DIR, stdio: 'pipe' });
});

test('each companion message is the plugin\'s message of that name plus MQTT 5 fields from 100 on', () => {
  const schema = loadEventSchema();
  for (const hook of HOOKS) {
    const ours = schema.mqtt5Types[HOOKS.indexOf(hook)];
    assert.equal(ours !== undefined, (MQTT5_HOOKS as readonly string[]).includes(hook), hook);
    if (ours === undefined) continue;
    const plugin = schema.types[HOOKS.indexOf(hook)]!;
    for (const f of plugin.fieldsArray) {
      const g: protobuf.Field | undefined = ours.fieldsById[f.id];
      assert.ok(g, `${hook}: field ${f.id} ${f.name}`);
      assert.deepEqual([g.name, g.type, g.repeated, g.map], [f.name, f.type, f.repeated, f.map], `${hook}: field ${f.id}`);
    }
    for (const h of ours.fieldsArray) assert.ok(plugin.fieldsById[h.id] !== undefined || h.id >= 100, `${hook}: ${h.name} = ${h.id} is shared or from 100 on`);
  }
});

test('a companion frame decodes with the field decoder and with protobufjs alike, as protocol version 5', () => {
  const encoder = new FrameEncoder();
  const fast = new EventDecoder();
  const reference = new EventDecoder(undefined, undefined, 'protobufjs');
  const publish = { ...SAMPLE_EVENTS.on_publish, sessionId: '', matchedAcl: undefined, userProperties: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } };
  const subscribe = { ...SAMPLE_EVENTS.on_subscribe, sessionId: '', topics: [{ topic: 'a/+', qos: 1, reasonCode: 1 }, { topic: 'b', qos: 128, reasonCode: 0x87 }] };
  for (const e of [publish, subscribe]) {
    const f = encoder.encodeMqtt5Frame(e);
    const a = fast.decode(f, 4, f.length, 0)!;
    const b = reference.decode(f, 4, f.length, 0)!;
    assert.ok(a && b, e.hook);
    assert.equal(a.hook, e.hook);
    assert.equal(a.protocolVersion, '5');
    assert.equal(b.protocolVersion, '5');
    assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
  }
  const f = encoder.encodeMqtt5Frame(publish);
  const e = fast.decode(f, 4, f.length, 0);
  assert.deepEqual(e?.hook === 'on_publish' ? e.userProperties : null, publish.userProperties);
  // A plugin frame of the same hook still says 3.1.1.
  const p = encoder.encodeFrame(SAMPLE_EVENTS.on_publish);
  assert.equal(fast.decode(p, 4, p.length, 0)?.protocolVersion, '3.1.1');
  const w = encoder.encodeFrame(SAMPLE_EVENTS.on_client_wakeup);
  assert.equal(fast.decode(w, 4, w.length, 0)?.protocolVersion, '');
});

test('a companion type URL with another host part, and an unknown companion message, as for the plugin\'s', () => {
  const dec = new EventDecoder();
  const value = new FrameEncoder().encodeMqtt5Frame({ ...SAMPLE_EVENTS.on_unsubscribe });
  // The Any's value starts after the type_url field: re-wrap it under another host.
  const any = value.subarray(4);
  const urlLen = any[1]!;
  const inner = any.subarray(2 + urlLen + 2);
  const other = FrameEncoder.frameWithTypeUrl('example.com/x/vmq_otel_sidecar.mqtt5.v1.OnUnsubscribe', inner);
  assert.equal(dec.decode(other, 4, other.length, 0)?.protocolVersion, '5');
  const unknown = FrameEncoder.frameWithTypeUrl('type.googleapis.com/vmq_otel_sidecar.mqtt5.v1.OnClientWakeUp', inner);
  assert.equal(dec.decode(unknown, 4, unknown.length, 0), null);
  assert.equal(dec.failure, 'unknown_type');
});
