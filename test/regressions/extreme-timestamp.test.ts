/**
 * Regression: an OnRegister whose timestamp.seconds is 10^13 (valid protobuf, beyond what Date
 * can represent) made the default console log exporter throw on every attempt; the export
 * queue put the batch back and sent it again at once, forever: 94 % CPU, /healthz silent,
 * ingest stopped, SIGTERM ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listeningPorts, runCli } from '../helpers/cli-process.js';
import { eventually } from '../helpers/eventually.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { formatEventTime } from '../../src/sinks/event-printer.js';

const INT64_MAX_AS_NUMBER = 9223372036854775807;

test('formatEventTime is total over the schema: int64 seconds, any nanos', () => {
  assert.equal(formatEventTime(1764133200, 123456789), '2025-11-26T05:00:00.123456789Z');
  assert.equal(formatEventTime(0, 0), '1970-01-01T00:00:00.000000000Z');
  assert.equal(formatEventTime(-1, 5), '1969-12-31T23:59:59.000000005Z');
  assert.equal(formatEventTime(253402300800, 0), '+010000-01-01T00:00:00.000000000Z');
  for (const [sec, nanos] of [
    [1e13, 0],
    [-1e13, 0],
    [INT64_MAX_AS_NUMBER, 999999999],
    [-INT64_MAX_AS_NUMBER, 0],
    [0, -1],
    [0, 2147483647],
  ] as const) {
    assert.match(formatEventTime(sec, nanos), /^@-?\d+(e\+\d+)?s\+-?\d+ns$/, `${sec}, ${nanos}`);
  }
});

async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

for (const args of [[], ['--print-events']]) {
  test(`one event with timestamp.seconds = 10^13 does not stall the sidecar (default configuration${args.length ? ', ' + args.join(' ') : ''})`, async () => {
    const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...args], { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_BLRP_SCHEDULE_DELAY: '20' });
    try {
      const { plugin: port, admin } = await listeningPorts(p);
      const enc = new FrameEncoder();
      const odd = enc.encodeFrame({ ...SAMPLE_EVENTS.on_register, timestamp: { seconds: 1e13, nanos: 0 } });
      const normal = enc.encodeFrame({ ...SAMPLE_EVENTS.on_register, clientId: 'after-the-odd-one' });
      const socket = net.connect({ host: '127.0.0.1', port });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(Buffer.concat([odd, normal]));
      // Ingest and the admin listener keep working, and the later event is printed/exported.
      await eventually(async () => {
        assert.equal((await httpGet(admin, '/healthz')).status, 200);
        const status = JSON.parse((await httpGet(admin, '/status')).body) as { events: { total: number } };
        assert.equal(status.events.total, 2);
        assert.match(p.stdout(), /after-the-odd-one/);
      });
      assert.match(p.stdout(), /@1e\+13s\+0ns|@10000000000000s\+0ns/);
      socket.destroy();
      const started = Date.now();
      p.child.kill('SIGTERM');
      const { code } = await p.exited;
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 5000, `exit took ${Date.now() - started} ms`);
    } finally {
      p.child.kill('SIGKILL');
    }
  });
}
