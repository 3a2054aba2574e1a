/**
 * The admin listener under a flood of half-sent requests, in a sidecar whose file descriptor
 * limit is 4,096: the liveness probe still answers and the plugin's connections still work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { CLI, listeningPorts, logLines, type CliProcess } from '../helpers/cli-process.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { eventually } from '../helpers/eventually.js';

function startLimited(args: string[]): CliProcess {
  // prlimit sets the child's soft and hard RLIMIT_NOFILE before node starts.
  const child = spawn('prlimit', ['--nofile=4096:4096', process.execPath, CLI, ...args], {
    env: { ...process.env, OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
}

/** Opens a connection and sends a request without its final CRLF; never rejects. */
function halfSent(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    s.once('connect', () => s.write('GET /status HTTP/1.1\r\nHost: sidecar\r\nX-Slow: '));
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

test('5,000 half-sent requests held on the admin listener (fd limit 4,096): /healthz answers and a new plugin connection\'s 100 events are all counted', { timeout: 120_000 }, async () => {
  const p = startLimited(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-level', 'info']);
  const held: net.Socket[] = [];
  try {
    const { plugin, admin } = await listeningPorts(p);
    for (let i = 0; i < 5000; i += 250) {
      held.push(...(await Promise.all(Array.from({ length: 250 }, () => halfSent(admin)))));
    }
    // Every one of them still held by this side (the sidecar may have closed its end).
    assert.equal(held.length, 5000);

    const health = await get(admin, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body, 'ok\n');

    const encoder = new FrameEncoder();
    const frames = Buffer.concat(Array.from({ length: 100 }, (_, i) => encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: `flood-${i}` })));
    const s = net.connect({ host: '127.0.0.1', port: plugin });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
    s.write(frames);
    await eventually(async () => {
      const status = JSON.parse((await get(admin, '/status')).body) as { events: { total: number }; admin: { shed: number; maxConnections: number } };
      assert.equal(status.events.total, 100);
      assert.ok(status.admin.shed > 0);
    }, 30_000);
    s.destroy();
    const shedLines = logLines(p).filter((l) => l.msg === 'admin listener at its connection cap: closing the oldest connections that have not sent a request');
    assert.ok(shedLines.length >= 1 && shedLines.length <= 3, `${shedLines.length} shedding lines`);
  } finally {
    for (const h of held) h.destroy();
    p.child.kill('SIGKILL');
    await p.exited;
  }
});

// Node 20's own headersTimeout misses this case once another connection's request completed.
test('a request whose headers never complete is dropped by the admin listener, also after a whole one on another connection was answered', { timeout: 60_000 }, async () => {
  const { startTestSidecar } = await import('../helpers/sidecar-fixture.js');
  const sidecar = await startTestSidecar({ logLevel: 'warn' });
  try {
    const port = sidecar.adminAddress!.port;
    const slow = await halfSent(port);
    const closedBySidecar = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    assert.equal((await get(port, '/healthz')).status, 200);
    // The sidecar closes it by itself (ADMIN_HEADERS_TIMEOUT_MS); only the test's timeout bounds the wait.
    await closedBySidecar;
    assert.equal((sidecar.status() as { admin: { timedOut: number } }).admin.timedOut, 1);
  } finally {
    await sidecar.stop();
  }
});
