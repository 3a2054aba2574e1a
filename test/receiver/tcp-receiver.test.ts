import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { UNFRAMEABLE_LENGTH } from '../../src/framing/frame-decoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { closed, connect, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';

const encoder = new FrameEncoder();
let sidecar: SidecarFixture | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

function wakeups(n: number, prefix: string): Buffer {
  return Buffer.concat(Array.from({ length: n }, (_, i) => encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: `${prefix}-${i}` })));
}

function header(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}

test('garbage on one connection does not cost the other connections a single event', async () => {
  sidecar = await startTestSidecar({ maxFrameBytes: 64 * 1024 });
  const good = await Promise.all([connect(sidecar.port), connect(sidecar.port), connect(sidecar.port)]);
  const bad = await connect(sidecar.port);
  const value = encoder.encodeMessage(SAMPLE_EVENTS.on_client_wakeup);
  const badStream = Buffer.concat([
    FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnNewThing', value), // unknown type
    header(5),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), // not an Any
    header(0), // an event the plugin could not encode
    FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnPublish', Buffer.from([0x1a, 0x7f])), // broken event
    header(100 * 1024),
    Buffer.alloc(100 * 1024, 0xab), // oversized: skipped, framing survives
    encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: 'bad-conn-still-framed' }),
  ]);
  const sends = good.map((s, k) => write(s, wakeups(2000, `good${k}`)));
  await write(bad, badStream);
  await Promise.all(sends);
  await eventually(() => assert.equal(sidecar!.capture.events.length, 6001));
  const s = sidecar.stats;
  assert.equal(s.rejected.unknown_type, 1);
  assert.equal(s.rejected.invalid_envelope, 1);
  assert.equal(s.rejected.empty_frame, 1);
  assert.equal(s.rejected.invalid_event, 1);
  assert.equal(s.rejected.oversized, 1);
  assert.ok(sidecar.capture.events.some((e) => e.clientId === 'bad-conn-still-framed'));
  for (let k = 0; k < 3; k++) assert.equal(sidecar.capture.events.filter((e) => e.clientId.startsWith(`good${k}-`)).length, 2000);
  // The bad connection stays open: these errors do not break framing.
  assert.equal(bad.destroyed, false);
  assert.equal(s.connectionsOpen, 4);
  for (const c of [...good, bad]) c.destroy();
});

test('random bytes: the connection is closed or survives, other connections lose nothing, the process lives', async () => {
  sidecar = await startTestSidecar();
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const good = await connect(sidecar.port);
  const goodDone = write(good, wakeups(5000, 'steady'));
  for (let round = 0; round < 20; round++) {
    const noisy = await connect(sidecar.port);
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = rnd();
    noisy.on('error', () => {});
    noisy.write(junk);
    noisy.end();
    await closed(noisy);
  }
  await goodDone;
  await eventually(() => assert.equal(sidecar!.capture.events.filter((e) => e.clientId.startsWith('steady-')).length, 5000));
  assert.ok(sidecar.stats.rejectedTotal() > 0);
  good.destroy();
});

test('an unframeable length closes only that connection, with a clear log line', async () => {
  sidecar = await startTestSidecar();
  const victim = await connect(sidecar.port);
  const other = await connect(sidecar.port);
  victim.on('error', () => {});
  await write(victim, Buffer.concat([wakeups(1, 'before'), header(UNFRAMEABLE_LENGTH + 1), wakeups(1, 'after')]));
  await closed(victim);
  await write(other, wakeups(10, 'other'));
  await eventually(() => assert.equal(sidecar!.capture.events.length, 11));
  assert.equal(sidecar.stats.rejected.unframeable, 1);
  assert.ok(sidecar.capture.events.every((e) => !e.clientId.startsWith('after')));
  const line = sidecar.logLines.find((l) => l.reason === 'unframeable');
  assert.ok(line, 'a rejection line names the reason');
  assert.match(String(line.detail), /closing the connection/);
  const closedLine = await eventually(() => {
    const l = sidecar!.logLines.find((x) => x.msg === 'plugin connection closed' && x.reason === 'unframeable stream');
    assert.ok(l);
    return l;
  });
  assert.equal(closedLine.events, 1);
  other.destroy();
});

test('a connection closing mid-frame counts one truncated frame', async () => {
  sidecar = await startTestSidecar();
  const s = await connect(sidecar.port);
  const frame = wakeups(1, 'cut');
  await write(s, Buffer.concat([wakeups(3, 'whole'), frame.subarray(0, frame.length - 2)]));
  s.end();
  await eventually(() => assert.equal(sidecar!.stats.rejected.truncated, 1));
  assert.equal(sidecar.capture.events.length, 3);
});

test('each connection logs one line when opened and one when closed, with its peer and frame count', async () => {
  sidecar = await startTestSidecar();
  const s = await connect(sidecar.port);
  await write(s, wakeups(42, 'x'));
  s.end();
  const peer = `127.0.0.1:${s.localPort}`;
  const line = await eventually(() => {
    const l = sidecar!.logLines.find((x) => x.msg === 'plugin connection closed' && x.peer === peer);
    assert.ok(l);
    return l;
  });
  assert.equal(line.frames, 42);
  assert.equal(line.events, 42);
  assert.equal(sidecar.logLines.filter((x) => x.msg === 'plugin connection opened' && x.peer === peer).length, 1);
});

test('rejections are logged at most once per interval, with a count of the rest', async () => {
  sidecar = await startTestSidecar();
  const s = await connect(sidecar.port);
  const value = encoder.encodeMessage(SAMPLE_EVENTS.on_client_wakeup);
  const unknown = FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.Nope', value);
  await write(s, Buffer.concat(Array.from({ length: 1000 }, () => unknown)));
  await eventually(() => assert.equal(sidecar!.stats.rejected.unknown_type, 1000));
  assert.equal(sidecar.logLines.filter((l) => l.msg === 'frame rejected').length, 1);
  s.destroy();
});

test('a connection that stays idle after connecting still delivers its later events', async () => {
  // The plugin's pool keeps connections open for hours without events: the receiver sets no
  // read timeout, so there is nothing to wait for; idle here means accepted and then silent.
  sidecar = await startTestSidecar();
  const s = await connect(sidecar.port);
  await eventually(() => assert.equal(sidecar!.stats.connectionsOpen, 1));
  assert.equal(s.destroyed, false);
  await write(s, wakeups(1, 'late'));
  await eventually(() => assert.equal(sidecar!.capture.events.length, 1));
  s.destroy();
});

test('over --max-connections, a new connection is refused only when every open one has sent events; /readyz says so', async () => {
  sidecar = await startTestSidecar({ maxConnections: 2 });
  const ready = async () => (await fetch(`http://127.0.0.1:${sidecar!.adminAddress!.port}/readyz`)).status;
  const a = await connect(sidecar.port);
  const b = await connect(sidecar.port);
  await write(a, wakeups(5, 'a'));
  await write(b, wakeups(5, 'b'));
  await eventually(() => assert.equal(sidecar!.capture.events.length, 10));
  assert.equal(await ready(), 503);
  const c = await connect(sidecar.port);
  c.on('error', () => {});
  await closed(c);
  await eventually(() => assert.equal(sidecar!.stats.connectionsRefused, 1));
  await write(a, wakeups(5, 'a2'));
  await eventually(() => assert.equal(sidecar!.capture.events.length, 15));
  assert.ok(sidecar.logLines.some((l) => String(l.msg).startsWith('connection refused')));
  b.destroy();
  await eventually(async () => assert.equal(await ready(), 200));
  a.destroy();
});

test('1024 idle connections cannot lock the plugin out: the longest idle one without events makes room', async () => {
  sidecar = await startTestSidecar({ logLevel: 'warn' });
  const squatters: import('node:net').Socket[] = [];
  for (let i = 0; i < 1024; i += 64) {
    squatters.push(...(await Promise.all(Array.from({ length: 64 }, () => connect(sidecar!.port)))));
  }
  for (const s of squatters) s.on('error', () => {});
  await eventually(() => assert.equal(sidecar!.stats.connectionsOpen, 1024));
  const plugin = await connect(sidecar.port);
  await write(plugin, wakeups(1000, 'plugin'));
  await eventually(() => assert.equal(sidecar!.capture.events.filter((e) => e.clientId.startsWith('plugin-')).length, 1000));
  assert.equal(sidecar.stats.connectionsClosed.evicted_idle, 1);
  assert.equal(sidecar.stats.connectionsRefused, 0);
  await closed(squatters[0]!); // the oldest idle one
  const text = await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text();
  assert.match(text, /vmq_sidecar_connection_closed_total\{[^}]*error_type="evicted_idle"[^}]*\} 1/);
  assert.ok(sidecar.logLines.some((l) => l.msg === 'connection closed to make room: --max-connections reached'));
  plugin.destroy();
  for (const s of squatters) s.destroy();
});

test('1,100 evictions make a few summary lines at info, not one line each', async () => {
  sidecar = await startTestSidecar({ logLevel: 'info', maxConnections: 10 });
  const opened: import('node:net').Socket[] = [];
  for (let i = 0; i < 1110; i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, () => connect(sidecar!.port)));
    for (const s of batch) s.on('error', () => {});
    opened.push(...batch);
    // Each batch of ten is in before the next one evicts it.
    await eventually(() => assert.equal(sidecar!.stats.connectionsAccepted, opened.length));
  }
  await eventually(() => assert.equal(sidecar!.stats.connectionsClosed.evicted_idle, 1100));
  const lines = sidecar.logLines.filter((l) => /closed/.test(String(l.msg)) || /make room/.test(String(l.msg)));
  assert.ok(lines.length <= 6, `${lines.length} lines: ${JSON.stringify(lines.slice(0, 8))}`);
  const summary = sidecar.logLines.find((l) => l.msg === 'plugin connections closed by the sidecar');
  assert.equal(summary?.reason, 'evicted_idle');
  for (const s of opened) s.destroy();
});

test('stop then start again on the same port works, and stop is idempotent', async () => {
  const first = await startTestSidecar();
  const port = first.port;
  await first.stop();
  await first.stop();
  sidecar = await startTestSidecar({ listen: { host: '127.0.0.1', port } });
  const s = await connect(port);
  await write(s, wakeups(3, 'again'));
  await eventually(() => assert.equal(sidecar!.capture.events.length, 3));
  s.destroy();
});
