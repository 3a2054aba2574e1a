/**
 * The upstream loss count survives a sidecar crash: a sidecar CLI process with --state-file and
 * --broker-metrics-url is killed (SIGKILL), a fake broker counts what it failed to send and
 * what it sent that nobody read meanwhile, and the restarted process reports exactly that as
 * missing. A broker restart then starts the count over.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { listeningPorts, logLines, runCli, type CliProcess } from '../helpers/cli-process.js';
import { connect, write } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';

const encoder = new FrameEncoder();
// The broker's counters for on_client_wakeup, and when it started (its system_wallclock).
const broker = { attempts: 100, errors: 2, startedAt: Date.now() - 3_600_000 };

const server = http.createServer((_req, res) => {
  const node = 'node="VerneMQ@127.0.0.1"';
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
    [
      `active_mqtt_connections{${node}} 0`,
      `sidecar_events{${node},hook="on_client_wakeup"} ${broker.attempts}`,
      `sidecar_events_error{${node},hook="on_client_wakeup"} ${broker.errors}`,
      `system_wallclock{${node}} ${Date.now() - broker.startedAt}`,
      '',
    ].join('\n'),
  );
});
const dir = mkdtempSync(path.join(tmpdir(), 'vmq-loss-'));
const running: CliProcess[] = [];

after(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(url: string): CliProcess {
  const p = runCli(
    [
      ...['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-level', 'info'],
      ...['--state-file', path.join(dir, 'state.bin'), '--state-interval', '1s'],
      ...['--broker-metrics-url', url, '--broker-scrape-interval', '1s'],
    ],
    { OTEL_LOGS_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'prometheus' },
  );
  running.push(p);
  return p;
}

const ports = listeningPorts;

async function metric(admin: number, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const samples = parseExposition(await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text());
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const missing = (admin: number) => metric(admin, 'vmq_sidecar_upstream_missing', { vernemq_hook: 'on_client_wakeup' });

/** The broker sends `n` wakeups that arrive. */
async function deliver(plugin: number, n: number, from: number): Promise<void> {
  const s = await connect(plugin);
  const now = Math.floor(Date.now() / 1000);
  broker.attempts += n;
  await write(s, Buffer.concat(Array.from({ length: n }, (_, i) => encoder.encodeFrame({ hook: 'on_client_wakeup', clientId: `c${from + i}`, mountpoint: '', timestamp: { seconds: now, nanos: i } }))));
  s.destroy();
}

test('after SIGKILL and a restart from the state file, upstream.missing is what was lost meanwhile', async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

  const first = start(url);
  const a = await ports(first);
  // The broker's history before this sidecar (100 attempts, 2 failed) is not ours to count.
  await eventually(async () => assert.equal(await missing(a.admin), 0));
  await deliver(a.plugin, 20, 0);
  await eventually(async () => assert.equal(await metric(a.admin, 'vmq_sidecar_event_received_total', { vernemq_hook: 'on_client_wakeup' }), 20));
  // A snapshot that began after the 20 arrived: two more completed writes.
  const writes = (await metric(a.admin, 'vmq_sidecar_snapshot_writes_total', {})) ?? 0;
  await eventually(async () => assert.ok(((await metric(a.admin, 'vmq_sidecar_snapshot_writes_total', {})) ?? 0) >= writes + 2), 15_000, 100);
  assert.equal(await missing(a.admin), 0);

  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  // While no sidecar runs: 5 events went into the dead process's socket (sent, never read),
  // 7 could not be sent at all.
  broker.attempts += 5;
  broker.attempts += 7;
  broker.errors += 7;

  const second = start(url);
  const b = await ports(second);
  assert.ok(logLines(second).some((l) => l.msg === 'session state restored from snapshot' && l.upstreamLossCount === 'restored'), second.stderr());
  await eventually(async () => assert.equal(await missing(b.admin), 12), 15_000, 50);
  // Events arriving now are counted against the same baseline.
  await deliver(b.plugin, 3, 100);
  await eventually(async () => assert.equal(await metric(b.admin, 'vmq_sidecar_broker_sidecar_events_total', { vernemq_hook: 'on_client_wakeup' }), 135));
  await eventually(async () => assert.equal(await missing(b.admin), 12));
  assert.equal(await metric(b.admin, 'vmq_sidecar_broker_sidecar_event_errors_total', { vernemq_hook: 'on_client_wakeup' }), 9);
  const status = (await (await fetch(`http://127.0.0.1:${b.admin}/status`)).json()) as { broker: { missingEventsByHook: Record<string, number> } };
  assert.equal(status.broker.missingEventsByHook.on_client_wakeup, 12);

  // The broker restarts (its counters and uptime start over): the count starts over too.
  Object.assign(broker, { attempts: 4, errors: 0, startedAt: Date.now() });
  await eventually(async () => assert.equal(await missing(b.admin), 0), 15_000, 50);
  assert.ok(logLines(second).some((l) => l.msg === 'the broker restarted: upstream loss is counted from its restart on'));
  second.child.kill('SIGTERM');
  assert.equal((await second.exited).code, 0);
});
