/**
 * Frames built by protoc (not protobufjs), sent over real TCP, decode to the expected values:
 * for the current schema (all thirteen events, newer fields set) and for the original
 * documentation page's messages (older senders).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HOOKS, MESSAGE_NAMES, TYPE_URL_PREFIX } from '../../src/events/event-types.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { SEED_PROTO_DIR, lengthPrefixed, protocCompile, protocEncodeAny, toTextFormat } from '../helpers/protoc.js';
import { connect, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { assertMatchesSample } from '../helpers/assert-event.js';

let sidecar: SidecarFixture;
before(async () => {
  sidecar = await startTestSidecar();
});
after(async () => {
  await sidecar.stop();
});

test('the proto files compile with protoc (ours and the documentation page\'s)', () => {
  protocCompile();
  protocCompile(SEED_PROTO_DIR);
});

test('protoc-encoded frames of all thirteen types decode over TCP to the expected values', async () => {
  const frames = HOOKS.map((hook) =>
    lengthPrefixed(protocEncodeAny(`[${TYPE_URL_PREFIX}${MESSAGE_NAMES[hook]}] { ${toTextFormat(SAMPLE_EVENTS[hook])} }`)),
  );
  const socket = await connect(sidecar.port);
  // All frames in one write, then the same again byte-split in two writes.
  const stream = Buffer.concat(frames);
  await write(socket, stream);
  await write(socket, stream.subarray(0, 1001));
  await write(socket, stream.subarray(1001));
  await eventually(() => assert.equal(sidecar.capture.events.length, 26));
  socket.destroy();
  for (let i = 0; i < 26; i++) {
    const hook = HOOKS[i % 13]!;
    assertMatchesSample(sidecar.capture.events[i]!, SAMPLE_EVENTS[hook]);
  }
});

test('messages of the original documentation page (older senders) decode, newer fields empty', async () => {
  sidecar.capture.events.length = 0;
  const old: [string, string][] = [
    ['OnRegister', 'timestamp { seconds: 1700000000 nanos: 1 } peer_addr: "10.0.0.1" peer_port: 1883 username: "u" mountpoint: "" client_id: "c1" user_properties { key: "k" value: "v" }'],
    ['OnClientWakeUp', 'timestamp { seconds: 1700000000 nanos: 2 } client_id: "c1" mountpoint: ""'],
    ['OnClientOffline', 'timestamp { seconds: 1700000000 nanos: 3 } client_id: "c1" mountpoint: "" reason: REASON_TCP_CLOSED'],
    ['OnClientGone', 'timestamp { seconds: 1700000000 nanos: 4 } client_id: "c2" reason: REASON_NORMAL_DISCONNECT'],
    ['OnPublish', 'timestamp { seconds: 1700000000 nanos: 5 } client_id: "c1" qos: 1 topic: "a/b" payload: "\\000\\001" matched_acl { name: "n" pattern: "a/+" }'],
    ['OnSubscribe', 'client_id: "c1" topics { topic: "a/#" qos: 128 }'],
    ['OnMessageDrop', 'client_id: "c1" qos: 0 topic: "a/b" reason: "queue_full"'],
  ];
  const socket = await connect(sidecar.port);
  await write(socket, Buffer.concat(old.map(([type, text]) => lengthPrefixed(protocEncodeAny(`[${TYPE_URL_PREFIX}${type}] { ${text} }`, SEED_PROTO_DIR)))));
  await eventually(() => assert.equal(sidecar.capture.events.length, old.length));
  socket.destroy();
  const [reg, wake, offline, gone, pub, sub, drop] = sidecar.capture.events;
  assert.ok(reg?.hook === 'on_register');
  assert.deepEqual({ ...reg.userProperties }, { k: 'v' });
  assert.equal(reg.sessionId, '');
  assert.equal(reg.peerPort, 1883);
  assert.ok(wake?.hook === 'on_client_wakeup' && wake.sessionId === '' && wake.timeNanos === 2);
  assert.ok(offline?.hook === 'on_client_offline');
  assert.equal(offline.reasonName, 'tcp_closed');
  assert.equal(offline.username, '');
  assert.ok(gone?.hook === 'on_client_gone' && gone.reasonName === 'normal_disconnect' && gone.mountpoint === '');
  assert.ok(pub?.hook === 'on_publish');
  assert.deepEqual([...pub.payload], [0, 1]);
  assert.deepEqual({ ...pub.matchedAcl }, { name: 'n', pattern: 'a/+' });
  assert.ok(sub?.hook === 'on_subscribe' && sub.topics[0]!.qos === 128 && sub.timeMissing);
  assert.ok(drop?.hook === 'on_message_drop' && drop.reason === 'queue_full');
});

test('an OnRegisterFailed built by protoc carries its failure reason by number', async () => {
  sidecar.capture.events.length = 0;
  const frame = lengthPrefixed(
    protocEncodeAny(`[${TYPE_URL_PREFIX}OnRegisterFailed] { client_id: "x" peer_port: 1 clean_session: true reason: REGISTRATION_FAILURE_REASON_USERNAME_RID_MISMATCH }`),
  );
  const socket = await connect(sidecar.port);
  await write(socket, frame);
  await eventually(() => assert.equal(sidecar.capture.events.length, 1));
  socket.destroy();
  const e = sidecar.capture.events[0]!;
  assert.ok(e.hook === 'on_register_failed');
  assert.equal(e.reason, 6);
  assert.equal(e.reasonName, 'username_rid_mismatch');
  assert.equal(e.cleanSession, true);
});
