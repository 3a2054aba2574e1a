/**
 * A real Prometheus (Debian's) scrapes a real sidecar while the simulator drives it; then every
 * query of every dashboard panel must return data, and every alert rule must evaluate cleanly.
 * A renamed metric breaks this test instead of a user's dashboard.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSimulator } from '../../src/simulator/simulator.js';
import { DASHBOARDS, promqlOf } from '../../scripts/dashboards.js';
import { logLines, runCli, type CliProcess } from '../helpers/cli-process.js';
import { eventually } from '../helpers/eventually.js';

const RULES = fileURLToPath(new URL('../../../alerts/vmq-otel-sidecar.rules.yml', import.meta.url));

let sidecar: CliProcess;
let prometheus: ChildProcess;
let promUrl = '';
let dir = '';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  return body.data.result;
}

/** A stand-in for the broker node's metrics endpoint (VerneMQ's names and labels). */
const brokerMetrics = http.createServer((_req, res) => {
  const n = Math.floor(Date.now() / 100);
  res.end(
    [
      'active_mqtt_connections{node="VerneMQ@127.0.0.1"} 400',
      'queue_processes{node="VerneMQ@127.0.0.1"} 450',
      'retain_messages{node="VerneMQ@127.0.0.1"} 12',
      'router_subscriptions{node="VerneMQ@127.0.0.1"} 480',
      `bytes_received{node="VerneMQ@127.0.0.1"} ${n * 100}`,
      `bytes_sent{node="VerneMQ@127.0.0.1"} ${n * 150}`,
      `client_keepalive_expired{node="VerneMQ@127.0.0.1",mqtt_version="4"} ${Math.floor(n / 50)}`,
      `sidecar_events{node="VerneMQ@127.0.0.1",hook="on_client_wakeup"} ${n}`,
      `sidecar_events_error{node="VerneMQ@127.0.0.1",hook="on_client_wakeup"} ${Math.floor(n / 10)}`,
      '',
    ].join('\n'),
  );
});

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vmq-prom-'));
  await new Promise<void>((r) => brokerMetrics.listen(0, '127.0.0.1', () => r()));
  const brokerUrl = `http://127.0.0.1:${(brokerMetrics.address() as net.AddressInfo).port}/metrics`;
  sidecar = runCli(
    [
      '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-hooks', 'all',
      '--state-file', path.join(dir, 'sessions.bin'), '--state-interval', '1s',
      '--broker-metrics-url', brokerUrl, '--broker-scrape-interval', '1s',
      '--client-groups', 'user:user-1*=ones,client:*7=sevens',
    ],
    {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_LOGS_EXPORTER: 'console',
    },
  );
  const [listen, admin] = await eventually(() => {
    const lines = logLines(sidecar);
    const l = lines.find((x) => x.msg === 'listening for plugin connections');
    const a = lines.find((x) => x.msg === 'admin listener ready');
    assert.ok(l && a, sidecar.stderr());
    return [String(l.address), String(a.address)];
  });
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${RULES}`,
      'scrape_configs:',
      '  - job_name: vmq-otel-sidecar',
      '    static_configs:',
      `      - targets: ["${admin}"]`,
      '',
    ].join('\n'),
  );
  prometheus = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: 'ignore',
  });
  promUrl = `http://127.0.0.1:${port}`;
  await eventually(async () => assert.equal((await fetch(`${promUrl}/-/ready`)).status, 200), 20_000);
  // Traffic for long enough that every rate() over the test window has samples.
  await runSimulator({ target: { host: '127.0.0.1', port: Number(listen.split(':').pop()) }, connections: 20, clients: 500, seed: 9, rate: 4000, durationMs: 8000, mqtt5Share: 0.1 });
  await eventually(async () => assert.equal((await query('count_over_time(up{job="vmq-otel-sidecar"}[1m]) >= 8')).length, 1), 20_000);
});

after(async () => {
  sidecar?.child.kill('SIGTERM');
  prometheus?.kill('SIGTERM');
  brokerMetrics.close();
  await Promise.all([sidecar?.exited, new Promise((r) => (prometheus ? prometheus.once('exit', r) : r(null)))]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const d of DASHBOARDS) {
  test(`every panel query of "${d.title}" returns data from a real Prometheus`, async () => {
    const empty: string[] = [];
    for (const expr of promqlOf(d)) {
      const q = expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*').replaceAll('$service', 'vmq-otel-sidecar');
      const result = await query(q);
      if (result.length === 0 || result.every((r) => Number.isNaN(Number(r.value[1])))) empty.push(expr);
    }
    assert.deepEqual(empty, [], 'queries without data');
  });
}

test('every alert rule loads and evaluates without error', async () => {
  const res = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
  const rules = res.data.groups.flatMap((g) => g.rules);
  assert.ok(rules.length >= 10);
  await eventually(async () => {
    const r = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as typeof res;
    const bad = r.data.groups.flatMap((g) => g.rules).filter((x) => x.health !== 'ok');
    assert.deepEqual(bad, []);
  });
});
