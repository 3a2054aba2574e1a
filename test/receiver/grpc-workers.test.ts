/**
 * --workers N (issue 25): in deltas mode N processes serve the gRPC port, each counting its
 * share, and the sidecar exports one merged set of series; sessions mode refuses more than one;
 * the default is the container's CPU quota.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, logLines } from '../helpers/cli-process.js';
import { eventually } from '../helpers/eventually.js';
import { cgroupCpuQuota, defaultWorkers, reusePortSupported } from '../../src/receiver/grpc-workers.js';
import { resolveWorkers } from '../../src/sidecar.js';
import { ConfigError } from '../../src/config/option-parser.js';
import { ClientModel, type SimEvent } from '../../src/simulator/client-model.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { GroundTruth } from '../../src/simulator/ground-truth.js';
import { GrpcSender } from '../../src/simulator/grpc-sender.js';
import { parsePrometheusText } from '../../src/reconcile/prometheus-text.js';

test('the default --workers is the cgroup CPU quota (v2 cpu.max, v1 cfs quota), capped by the CPUs the process may use; more than 1 needs deltas mode and --grpc-listen', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
  try {
    assert.equal(cgroupCpuQuota(root), null);
    writeFileSync(path.join(root, 'cpu.max'), '150000 100000\n');
    assert.equal(cgroupCpuQuota(root), 2);
    writeFileSync(path.join(root, 'cpu.max'), 'max 100000\n');
    assert.equal(cgroupCpuQuota(root), null);
    rmSync(path.join(root, 'cpu.max'));
    mkdirSync(path.join(root, 'cpu'));
    writeFileSync(path.join(root, 'cpu', 'cpu.cfs_quota_us'), '400000\n');
    writeFileSync(path.join(root, 'cpu', 'cpu.cfs_period_us'), '100000\n');
    assert.equal(cgroupCpuQuota(root), 4);
    assert.equal(defaultWorkers(root), Math.min(4, os.availableParallelism()));
    writeFileSync(path.join(root, 'cpu', 'cpu.cfs_quota_us'), '-1\n');
    assert.equal(cgroupCpuQuota(root), null);
    assert.equal(defaultWorkers(root), os.availableParallelism());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const grpcListen = { host: '127.0.0.1', port: 0 };
  assert.equal(resolveWorkers({ workers: 'auto', gaugeMode: 'sessions', grpcListen }), 1);
  assert.equal(resolveWorkers({ workers: 'auto', gaugeMode: 'deltas', grpcListen: null }, 4), 1);
  assert.equal(resolveWorkers({ workers: 'auto', gaugeMode: 'deltas', grpcListen }, 4), 4);
  assert.equal(resolveWorkers({ workers: 'auto', gaugeMode: 'sessions', grpcListen }, 4), 1);
  assert.equal(resolveWorkers({ workers: 3, gaugeMode: 'deltas', grpcListen }), 3);
  assert.throws(() => resolveWorkers({ workers: 2, gaugeMode: 'deltas', grpcListen: null }), ConfigError);
  assert.equal(reusePortSupported('22.12.0'), true);
  assert.equal(reusePortSupported('24.1.0'), true);
  assert.equal(reusePortSupported('22.11.0'), false);
  assert.equal(reusePortSupported('20.19.1'), false);
});

test('sessions mode refuses --workers 2 with one line naming the setting, exit 64', async () => {
  const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', 'off', '--grpc-listen', '127.0.0.1:0', '--workers', '2']);
  const { code } = await p.exited;
  assert.equal(code, 64);
  assert.match(p.stderr(), /^vmq-otel-sidecar: invalid configuration: --workers 2: needs --gauge-mode deltas/m);
});

test('--workers 2 in deltas mode: both workers take calls on one port; /status and /metrics show one merged set, equal to the truth', async () => {
  const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--grpc-listen', '127.0.0.1:0', '--gauge-mode', 'deltas', '--workers', '2', '--log-level', 'info'], {
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_LOGS_EXPORTER: 'none',
  });
  try {
    const ports = await eventually(() => {
      const lines = logLines(p);
      const at = (msg: string) => Number(String(lines.find((l) => l.msg === msg)?.address).split(':').pop());
      if (!lines.some((l) => l.msg === 'gRPC workers listening')) throw new Error(`not ready: ${p.stderr()}`);
      return { grpc: at('listening for plugin gRPC calls'), admin: at('admin listener ready') };
    }, 20_000);
    // Two workers announced the same port.
    assert.equal(logLines(p).filter((l) => l.msg === 'listening for plugin gRPC calls' && String(l.address).endsWith(`:${ports.grpc}`)).length, 2);

    const model = new ClientModel({ clients: 300, seed: 5 });
    const truth = new GroundTruth();
    const encoder = new FrameEncoder();
    const sender = new GrpcSender({ target: { host: '127.0.0.1', port: ports.grpc }, connections: 8, workers: 40, timeoutMs: 10_000, userType: 'default', maxQueue: Infinity });
    await sender.ready();
    const emit = (e: SimEvent) => {
      if (truth.total >= 4000) return;
      sender.send(encoder.encodeFrame(e).subarray(4));
      truth.record(e);
    };
    while (truth.total < 4000) {
      model.step(emit);
      if (sender.pending > 200) await sender.waitBelow(100);
    }
    await sender.waitBelow(0);
    sender.close();
    assert.equal(sender.outcome.ok, 4000);

    const admin = `http://127.0.0.1:${ports.admin}`;
    const status = await eventually(async () => {
      const s = (await (await fetch(`${admin}/status`)).json()) as { events: { total: number }; grpc: { workers: { pid: number; events: number }[]; calls: Record<string, { OK: number }> } };
      assert.equal(s.events.total, 4000);
      return s;
    });
    assert.equal(status.grpc.workers.length, 2);
    for (const w of status.grpc.workers) assert.ok(w.events > 0, 'each worker took calls');
    assert.equal(status.grpc.calls.default!.OK, 4000);
    const samples = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text());
    const sum = (name: string, where: Record<string, string> = {}) =>
      samples.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
    // One set of series: one sample per series, the sums of both workers.
    for (const [mp, n] of Object.entries(model.gauges().connected)) assert.equal(sum('mqtt_client_connected', { mqtt_mountpoint: mp }), n, `connected ${mp}`);
    const sent = truth.toJSON(model.gauges()).sent;
    for (const [hook, n] of Object.entries(sent)) assert.equal(sum('vmq_sidecar_event_received_total', { vernemq_hook: hook, vmq_sidecar_transport: 'grpc' }), n, hook);
    assert.equal(sum('mqtt_client_registrations_total'), sent.on_register ?? 0);
    assert.equal(samples.filter((x) => x.name === 'vmq_sidecar_gauge_mode').length, 1);
    assert.equal(sum('vmq_sidecar_grpc_calls_total', { rpc_grpc_status: 'OK' }), 4000);
    assert.equal(sum('vmq_sidecar_connection_accepted_total', { vmq_sidecar_transport: 'grpc' }), 8);

    // A worker killed: another takes its place, and what the dead one counted stays counted.
    const victim = status.grpc.workers[0]!.pid;
    process.kill(victim, 'SIGKILL');
    await eventually(async () => {
      const s = (await (await fetch(`${admin}/status`)).json()) as { events: { total: number }; grpc: { listening: boolean; workers: { pid: number }[] } };
      assert.equal(s.grpc.workers.length, 2);
      assert.ok(!s.grpc.workers.some((w) => w.pid === victim));
      assert.equal(s.grpc.listening, true);
      assert.equal(s.events.total, 4000);
    }, 20_000);
    const after = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text());
    assert.equal(after.filter((x) => x.name === 'vmq_sidecar_grpc_calls_total' && x.labels.rpc_grpc_status === 'OK').reduce((a, x) => a + x.value, 0), 4000);
    assert.ok(logLines(p).some((l) => l.msg === 'gRPC worker exited; starting another'));
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
});
