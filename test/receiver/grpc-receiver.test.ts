/**
 * The gRPC transport as the plugin calls it: /webhook.v1beta1.PluginService/Event over h2c,
 * requests built by protoc from our service definition, answers as the broker sees them.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { busyPort } from '../helpers/busy-port.js';
import { ConfigError } from '../../src/config/option-parser.js';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { PROTO_DIR } from '../../src/decoding/proto-schema.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { EVENT_METHOD_PATH, eventRequest } from '../../src/simulator/grpc-sender.js';
import { HEALTH_CHECK_PATH, HEALTH_WATCH_PATH } from '../../src/receiver/grpc-receiver.js';
import http2 from 'node:http2';
import { eventually } from '../helpers/eventually.js';
import { TYPE_URL_PREFIX } from '../../src/events/event-types.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { startTestSidecar, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { protocAvailable } from '../helpers/protoc.js';

const GRPC_PROTO_DIR = path.join(PROTO_DIR, 'grpc');
const encoder = new FrameEncoder();
let sidecar: SidecarFixture | undefined;
let client: grpc.Client | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await sidecar?.stop();
  sidecar = undefined;
});

async function start(): Promise<{ s: SidecarFixture; c: grpc.Client }> {
  sidecar = await startTestSidecar({ grpcListen: { host: '127.0.0.1', port: 0 } });
  client = new grpc.Client(`127.0.0.1:${sidecar.grpcAddress!.port}`, grpc.credentials.createInsecure());
  return { s: sidecar, c: client };
}

const raw = (b: Buffer) => b;

function call(c: grpc.Client, method: string, req: Buffer, userType?: string): Promise<{ code: number; details: string; response?: Buffer }> {
  const md = new grpc.Metadata();
  if (userType !== undefined) md.set('user-type', userType);
  return new Promise((resolve) => {
    c.makeUnaryRequest(method, raw, raw, req, md, { deadline: Date.now() + 5000 }, (err, response) => {
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '', response });
    });
  });
}

/** One raw HTTP/2 request; `end` false leaves the request open (a call whose message never completes). */
function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body: Buffer, end = true): Promise<{ headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: false });
    let got: Record<string, unknown> = {};
    req.on('response', (h) => (got = { ...h }));
    req.on('trailers', (t) => (got = { ...got, ...t }));
    req.on('error', reject);
    req.on('close', () => resolve({ headers: got }));
    req.resume();
    if (end) req.end(body);
    else req.write(body);
  });
}

/** An EventRequest encoded by protoc from proto/grpc/plugin_service.proto (text format in, binary out). */
function protocEventRequest(text: string): Buffer {
  const eventProtos = readdirSync(PROTO_DIR).filter((f) => f.endsWith('.proto'));
  return execFileSync(
    'protoc',
    ['-I', GRPC_PROTO_DIR, '-I', PROTO_DIR, '-I', '/usr/include', '--encode=webhook.v1beta1.EventRequest', 'plugin_service.proto', ...eventProtos],
    { cwd: PROTO_DIR, input: text, stdio: ['pipe', 'pipe', 'pipe'] },
  );
}

test('the gRPC service definitions compile with protoc', { skip: !protocAvailable() && 'protoc not installed' }, () => {
  execFileSync('protoc', ['-I', GRPC_PROTO_DIR, '-I', '/usr/include', '--descriptor_set_out=/dev/null', 'plugin_service.proto', 'health.proto'], {
    cwd: GRPC_PROTO_DIR,
    stdio: 'pipe',
  });
});

test('an EventRequest built by protoc is answered OK and its event reaches the sinks, counted as grpc', { skip: !protocAvailable() && 'protoc not installed' }, async () => {
  const { s, c } = await start();
  const req = protocEventRequest(`event { [${TYPE_URL_PREFIX}OnClientWakeUp] { client_id: "dev-1" mountpoint: "" session_id: "s1" timestamp { seconds: 1700000000 } } }`);
  const r = await call(c, EVENT_METHOD_PATH, req, 'default');
  assert.equal(r.code, grpc.status.OK);
  assert.equal(r.response?.length, 0);
  // Answered after the sinks had it: no waiting needed.
  assert.equal(s.capture.events.length, 1);
  assert.equal(s.capture.events[0]!.clientId, 'dev-1');
  assert.equal(s.component(SessionTracker)!.connectedCount(''), 1);
  assert.equal(s.stats.grpc.eventsByHook.reduce((a, b) => a + b, 0), 1);
  const samples = parseExposition(await (await fetch(`http://127.0.0.1:${s.adminAddress!.port}/metrics`)).text());
  const get = (name: string, labels: Record<string, string>) =>
    samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
  assert.equal(get('vmq_sidecar_event_received_total', { vernemq_hook: 'on_client_wakeup', vmq_sidecar_transport: 'grpc' }), 1);
  assert.equal(get('vmq_sidecar_event_received_total', { vmq_sidecar_transport: 'tcp' }), 0);
  assert.equal(get('vmq_sidecar_grpc_calls_total', { rpc_grpc_status: 'OK', vernemq_user_type: 'default' }), 1);
});

test('undecodable and unknown-type events are answered INVALID_ARGUMENT and counted; the next call is fine', async () => {
  const { s, c } = await start();
  const value = encoder.encodeMessage(SAMPLE_EVENTS.on_client_wakeup);
  const unknown = FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnNewThing', value).subarray(4);
  const broken = FrameEncoder.frameWithTypeUrl(`${TYPE_URL_PREFIX}OnPublish`, Buffer.from([0x1a, 0x7f])).subarray(4);
  const answers = await Promise.all([
    call(c, EVENT_METHOD_PATH, eventRequest(unknown), 'default'),
    call(c, EVENT_METHOD_PATH, eventRequest(Buffer.from([0xff, 0xff, 0xff])), 'default'),
    call(c, EVENT_METHOD_PATH, Buffer.from([0x0a, 0x10, 0x01]), 'default'), // length past the end
    call(c, EVENT_METHOD_PATH, Buffer.alloc(0), 'default'), // no event at all (the plugin's unencodable event)
    call(c, EVENT_METHOD_PATH, eventRequest(broken), 'default'),
  ]);
  for (const a of answers) assert.equal(a.code, grpc.status.INVALID_ARGUMENT, a.details);
  assert.match(answers[0]!.details, /unknown_type: .*OnNewThing/);
  const g = s.stats.grpc.rejected;
  assert.equal(g.unknown_type, 1);
  assert.equal(g.invalid_event, 1);
  assert.equal(g.invalid_envelope, 2);
  assert.equal(g.empty_frame, 1);
  assert.equal(s.stats.rejectedTotal(), 5);
  const ok = await call(c, EVENT_METHOD_PATH, eventRequest(encoder.encodeFrame(SAMPLE_EVENTS.on_client_wakeup).subarray(4)), 'bulk');
  assert.equal(ok.code, grpc.status.OK);
  const status = (await (await fetch(`http://127.0.0.1:${s.adminAddress!.port}/status`)).json()) as { grpc: { calls: Record<string, { OK: number; INVALID_ARGUMENT: number }> } };
  assert.deepEqual(status.grpc.calls, { default: { OK: 0, INVALID_ARGUMENT: 5 }, bulk: { OK: 1, INVALID_ARGUMENT: 0 } });
});

test('items past the decoder\'s caps are counted for events over gRPC as for TCP', async () => {
  const { s, c } = await start();
  const topics = Array.from({ length: 10_050 }, (_, i) => `t/${i}`);
  const any = encoder.encodeFrame({ ...SAMPLE_EVENTS.on_unsubscribe, topics } as never).subarray(4);
  assert.equal((await call(c, EVENT_METHOD_PATH, eventRequest(any), 'default')).code, grpc.status.OK);
  const text = await (await fetch(`http://127.0.0.1:${s.adminAddress!.port}/metrics`)).text();
  assert.match(text, /vmq_sidecar_event_truncated_items_total\{[^}]*vernemq_hook="on_unsubscribe"[^}]*\} 50/);
});

test('the gRPC health service says SERVING; /readyz covers the gRPC listener', async () => {
  const { s, c } = await start();
  const h = await call(c, HEALTH_CHECK_PATH, Buffer.alloc(0));
  assert.equal(h.code, grpc.status.OK);
  assert.deepEqual([...h.response!], [0x08, 0x01]);
  const named = await call(c, HEALTH_CHECK_PATH, Buffer.concat([Buffer.from([0x0a, 30]), Buffer.from('webhook.v1beta1.PluginService')]));
  assert.equal(named.code, grpc.status.OK);
  const other = await call(c, HEALTH_CHECK_PATH, Buffer.concat([Buffer.from([0x0a, 3]), Buffer.from('foo')]));
  assert.equal(other.code, grpc.status.NOT_FOUND);
  assert.equal((await fetch(`http://127.0.0.1:${s.adminAddress!.port}/readyz`)).status, 200);
});

test('user-type values are bounded like any label value from a peer: fair slots, "other", and "invalid" for a 7,000-character value', async () => {
  const { s, c } = await start();
  const req = eventRequest(encoder.encodeFrame(SAMPLE_EVENTS.on_publish).subarray(4));
  // 25 one-off values: the first 10 (half the places) get their own, the rest fold into "other".
  for (let i = 0; i < 25; i++) assert.equal((await call(c, EVENT_METHOD_PATH, req, `t${i}`)).code, grpc.status.OK);
  // A real value arriving after the flood recurs, and gets one of the places kept for recurring values.
  for (let i = 0; i < 3; i++) assert.equal((await call(c, EVENT_METHOD_PATH, req, 'tenant-late')).code, grpc.status.OK);
  assert.equal((await call(c, EVENT_METHOD_PATH, req, 'x'.repeat(7000))).code, grpc.status.OK);
  assert.equal((await call(c, EVENT_METHOD_PATH, req, 'y'.repeat(129))).code, grpc.status.OK);
  const st = s.status() as { grpc: { calls: Record<string, { OK: number }> } };
  assert.equal(st.grpc.calls.other!.OK, 15 + 1);
  assert.equal(st.grpc.calls['tenant-late']!.OK, 2);
  assert.equal(st.grpc.calls.invalid!.OK, 2);
  assert.equal(Object.keys(st.grpc.calls).length, 10 + 3);
  const text = await (await fetch(`http://127.0.0.1:${s.adminAddress!.port}/metrics`)).text();
  for (const line of text.split('\n')) assert.ok(line.length < 1000, `a /metrics line of ${line.length} characters`);
  assert.match(text, /vmq_sidecar_attribute_value_invalid_total\{[^}]*vmq_sidecar_attribute_name="vernemq.user_type"[^}]*\} 2/);
  assert.match(text, /vmq_sidecar_grpc_calls_total\{[^}]*vernemq_user_type="invalid"[^}]*\} 2/);
});

test('other methods are UNIMPLEMENTED, non-gRPC requests get HTTP errors, and grpc-timeout is honoured', async () => {
  const { s, c } = await start();
  const other = await call(c, '/webhook.v1beta1.PluginService/Other', Buffer.alloc(0));
  assert.equal(other.code, grpc.status.UNIMPLEMENTED);
  const h2 = http2.connect(`http://127.0.0.1:${s.grpcAddress!.port}`);
  try {
    const plain = await h2Request(h2, { ':method': 'POST', ':path': EVENT_METHOD_PATH, 'content-type': 'application/json' }, Buffer.from('{}'));
    assert.equal(plain.headers[':status'], 415);
    // A message announced as 1,000 bytes of which 10 arrive: the 50 ms grpc-timeout ends the
    // call with DEADLINE_EXCEEDED, the bytes held are given back, the call is counted.
    const partial = Buffer.concat([Buffer.from([0, 0, 0, 0x03, 0xe8]), Buffer.alloc(10)]);
    const r = await h2Request(h2, { ':method': 'POST', ':path': EVENT_METHOD_PATH, 'content-type': 'application/grpc', 'grpc-timeout': '50m', te: 'trailers' }, partial, false);
    assert.equal(r.headers['grpc-status'], String(grpc.status.DEADLINE_EXCEEDED));
    assert.equal(s.stats.grpc.rejected.truncated, 1);
    assert.equal(s.stats.frameBudget!.used, 0);
    // A malformed grpc-timeout is refused before the message is read.
    const bad = await h2Request(h2, { ':method': 'POST', ':path': EVENT_METHOD_PATH, 'content-type': 'application/grpc', 'grpc-timeout': '1x' }, Buffer.alloc(5));
    assert.equal(bad.headers['grpc-status'], String(grpc.status.INTERNAL));
  } finally {
    h2.close();
  }
});

test('a gzip-compressed EventRequest (grpc-js client with compression) is decoded and answered OK', async () => {
  sidecar = await startTestSidecar({ grpcListen: { host: '127.0.0.1', port: 0 } });
  client = new grpc.Client(`127.0.0.1:${sidecar.grpcAddress!.port}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
  const payload = Buffer.alloc(4096, 0x61);
  const req = eventRequest(encoder.encodeFrame({ ...SAMPLE_EVENTS.on_publish, payload } as never).subarray(4));
  const r = await call(client, EVENT_METHOD_PATH, req, 'default');
  assert.equal(r.code, grpc.status.OK, r.details);
  assert.equal(sidecar.capture.events.length, 1);
});

test('the health service\'s Watch says SERVING, then NOT_SERVING when the sidecar stops', async () => {
  const { s, c } = await start();
  const seen: number[][] = [];
  const ended = new Promise<void>((resolve) => {
    const st = c.makeServerStreamRequest(HEALTH_WATCH_PATH, raw, raw, Buffer.alloc(0), new grpc.Metadata(), {});
    st.on('data', (b: Buffer) => seen.push([...b]));
    st.on('status', () => resolve());
    st.on('error', () => {});
  });
  await eventually(() => assert.deepEqual(seen, [[0x08, 0x01]]));
  await s.stop();
  sidecar = undefined;
  await ended;
  assert.deepEqual(seen, [[0x08, 0x01], [0x08, 0x02]]);
});

test('a gRPC port already in use fails the start, as a --grpc-listen configuration problem', async () => {
  const { port, release } = await busyPort();
  try {
    await assert.rejects(startTestSidecar({ grpcListen: { host: '127.0.0.1', port } }), (err: Error & { problems?: string[] }) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.deepEqual(err.problems, [`--grpc-listen: 127.0.0.1:${port} is already in use by another process (EADDRINUSE); choose another HOST:PORT`]);
      return true;
    });
  } finally {
    release();
  }
});

test('stop with a plugin connection still open: the call in hand is answered, the stop completes, later calls fail', async () => {
  const { s, c } = await start();
  const req = eventRequest(encoder.encodeFrame(SAMPLE_EVENTS.on_client_wakeup).subarray(4));
  assert.equal((await call(c, EVENT_METHOD_PATH, req, 'default')).code, grpc.status.OK);
  await s.stop();
  sidecar = undefined;
  assert.equal(s.status().grpc && (s.status().grpc as { listening: boolean }).listening, false);
  const after = await call(c, EVENT_METHOD_PATH, req, 'default');
  assert.equal(after.code, grpc.status.UNAVAILABLE);
});

test('--grpc-max-connections refuses connections past the cap (counted); --grpc-max-streams is advertised to the client as SETTINGS', async () => {
  sidecar = await startTestSidecar({ grpcListen: { host: '127.0.0.1', port: 0 }, grpcMaxConnections: 2, grpcMaxStreams: 7 });
  const url = `http://127.0.0.1:${sidecar.grpcAddress!.port}`;
  const sessions = [http2.connect(url), http2.connect(url)];
  try {
    const settings = await Promise.all(sessions.map((s) => new Promise<http2.Settings>((resolve) => s.once('remoteSettings', resolve))));
    for (const st of settings) assert.equal(st.maxConcurrentStreams, 7);
    const third = http2.connect(url);
    third.on('error', () => {});
    await new Promise((resolve) => third.once('close', resolve));
    const req = eventRequest(encoder.encodeFrame(SAMPLE_EVENTS.on_client_wakeup).subarray(4));
    const ok = await h2Request(sessions[0]!, { ':method': 'POST', ':path': EVENT_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers' }, Buffer.concat([Buffer.from([0, 0, 0, 0, req.length]), req]));
    assert.equal(ok.headers['grpc-status'], '0');
    const text = await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text();
    assert.match(text, /vmq_sidecar_connection_refused_total\{[^}]*vmq_sidecar_transport="grpc"[^}]*\} 1\b/);
    assert.match(text, /vmq_sidecar_connection_open\{[^}]*vmq_sidecar_transport="grpc"[^}]*\} 2\b/);
    assert.match(text, /vmq_sidecar_connection_accepted_total\{[^}]*vmq_sidecar_transport="grpc"[^}]*\} 2\b/);
  } finally {
    for (const s of sessions) s.close();
  }
});
