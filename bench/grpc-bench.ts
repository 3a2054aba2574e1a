/**
 * gRPC transport benchmark: the plugin's sending pattern (100 workers, one Event call in flight
 * each, 10 HTTP/2 connections, 500 ms deadline, no retry) against
 *   node      the sidecar (a child process, metrics on, no log records), gRPC only
 *   go        a minimal Go gRPC server that only decodes the envelope (bench/go-envelope-server,
 *             built here into a temp dir from Debian's golang-google-grpc-dev), gRPC only
 *   node+tcp  the sidecar with the same gRPC load while as many events arrive over TCP at once
 * in the same run, each `runs` times. The load generator is this process; requests are encoded
 * before the clock starts. Prints events/s, answer time p50/p99, the server's CPU and peak RSS,
 * and checks the sidecar counted every event once.
 *
 *   npm run bench:grpc -- [events=60000] [runs=3] [workers=100] [connections=10]
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientModel, type SimEvent } from '../src/simulator/client-model.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { GrpcSender } from '../src/simulator/grpc-sender.js';
import { closePool, connectPool } from '../src/simulator/simulator.js';
import { startBenchSidecar } from './bench-sidecar.js';

const EVENTS = Number(process.argv[2] ?? 60_000);
const RUNS = Number(process.argv[3] ?? 3);
const WORKERS = Number(process.argv[4] ?? 100);
const CONNECTIONS = Number(process.argv[5] ?? 10);
const TIMEOUT_MS = 500;
const CLK_TCK = 100;
const GO_SOURCE = fileURLToPath(new URL('../../bench/go-envelope-server/main.go', import.meta.url));

interface Result {
  eventsPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  timeouts: number;
  errors: number;
  cpuSec: number;
  peakRssMb: number;
}

function procCpuSec(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function procPeakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function encodeEvents(n: number, seed: number): { anys: Buffer[]; frames: Buffer[] } {
  const model = new ClientModel({ clients: 10_000, seed });
  const encoder = new FrameEncoder();
  const anys: Buffer[] = [];
  const frames: Buffer[] = [];
  const emit = (e: SimEvent) => {
    if (anys.length >= n) return;
    const f = encoder.encodeFrame(e);
    frames.push(f);
    anys.push(f.subarray(4));
  };
  while (anys.length < n) model.step(emit);
  return { anys, frames };
}

async function grpcLoad(port: number, anys: Buffer[]): Promise<Omit<Result, 'cpuSec' | 'peakRssMb'> & { seconds: number }> {
  const sender = new GrpcSender({ target: { host: '127.0.0.1', port }, connections: CONNECTIONS, workers: WORKERS, timeoutMs: TIMEOUT_MS, userType: 'default', maxQueue: Infinity }, true);
  await sender.ready();
  const started = performance.now();
  // The plugin's workers pull from their queues; keep a few events queued per worker.
  let i = 0;
  while (i < anys.length) {
    while (i < anys.length && sender.pending < WORKERS * 4) sender.send(anys[i++]!);
    await sender.waitBelow(WORKERS * 2);
  }
  await sender.waitBelow(0);
  const seconds = (performance.now() - started) / 1000;
  sender.close();
  const o = sender.outcome;
  const lat = o.latenciesMs.sort((a, b) => a - b);
  const errors = Object.values(o.errors).reduce((a, b) => a + b, 0);
  return { eventsPerSec: Math.round(o.ok / seconds), p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), ok: o.ok, timeouts: o.timeouts, errors, seconds };
}

async function tcpLoad(port: number, frames: Buffer[]): Promise<void> {
  const pool = await connectPool({ host: '127.0.0.1', port }, 100);
  const per: Buffer[][] = pool.map(() => []);
  frames.forEach((f, i) => per[i % pool.length]!.push(f));
  await Promise.all(
    pool.map(async (c, k) => {
      const chunk = Buffer.concat(per[k]!);
      if (!c.socket.write(chunk)) await new Promise((r) => c.socket.once('drain', r));
    }),
  );
  await closePool(pool);
}

async function startGo(binary: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(binary, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`go server exited ${code}`)));
  });
  return { child, port };
}

function buildGo(dir: string): string {
  const out = path.join(dir, 'go-envelope-server');
  execFileSync('go', ['build', '-o', out, GO_SOURCE], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(dir, 'cache'), GOFLAGS: '' },
    stdio: 'inherit',
  });
  return out;
}

function fmt(r: Result): string {
  return `${String(r.eventsPerSec).padStart(7)} ev/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  cpu ${r.cpuSec.toFixed(2).padStart(5)} s  rss ${r.peakRssMb.toFixed(0).padStart(4)} MB  ok ${r.ok} timeouts ${r.timeouts} errors ${r.errors}`;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'grpc-bench-'));
  try {
    process.stdout.write(`building the Go envelope server in ${tmp} ...\n`);
    const goBinary = buildGo(tmp);
    const { anys } = encodeEvents(EVENTS, 7);
    const tcp = encodeEvents(EVENTS, 8).frames;
    process.stdout.write(`${EVENTS} gRPC events per run, ${WORKERS} workers one call each, ${CONNECTIONS} connections, ${TIMEOUT_MS} ms deadline; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    const all: Record<string, Result[]> = { node: [], go: [], 'node+tcp': [] };
    for (let run = 1; run <= RUNS; run++) {
      // Sidecar, gRPC only.
      {
        const s = await startBenchSidecar(['--grpc-listen', '127.0.0.1:0'], { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' });
        const cpu0 = s.cpu();
        const r = await grpcLoad(s.grpcPort, anys);
        const cpu1 = s.cpu();
        await s.waitForEvents(r.ok, 30_000);
        all.node!.push({ ...r, cpuSec: cpu1.userSec + cpu1.sysSec - cpu0.userSec - cpu0.sysSec, peakRssMb: s.peakRssMb() });
        await s.stop();
      }
      // Go, gRPC only.
      {
        const g = await startGo(goBinary);
        const cpu0 = procCpuSec(g.child.pid!);
        const r = await grpcLoad(g.port, anys);
        all.go!.push({ ...r, cpuSec: procCpuSec(g.child.pid!) - cpu0, peakRssMb: procPeakRssMb(g.child.pid!) });
        g.child.kill('SIGTERM');
        await new Promise((res) => g.child.once('exit', res));
      }
      // Sidecar, gRPC and TCP at once.
      {
        const s = await startBenchSidecar(['--grpc-listen', '127.0.0.1:0'], { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' });
        const cpu0 = s.cpu();
        const [r] = await Promise.all([grpcLoad(s.grpcPort, anys), tcpLoad(s.port, tcp)]);
        await s.waitForEvents(r.ok + tcp.length, 60_000);
        const cpu1 = s.cpu();
        const status = (await s.status()) as unknown as { events: { total: number }; rejected: Record<string, number> };
        const rejected = Object.values(status.rejected).reduce((a, b) => a + b, 0);
        const counted = status.events.total === r.ok + tcp.length && rejected === 0 ? 'every event counted once' : `COUNT MISMATCH: ${status.events.total} vs ${r.ok + tcp.length}`;
        all['node+tcp']!.push({ ...r, cpuSec: cpu1.userSec + cpu1.sysSec - cpu0.userSec - cpu0.sysSec, peakRssMb: s.peakRssMb() });
        process.stdout.write(`run ${run}: node+tcp ${counted}\n`);
        await s.stop();
      }
      for (const k of Object.keys(all)) process.stdout.write(`run ${run}  ${k.padEnd(8)} ${fmt(all[k]!.at(-1)!)}\n`);
    }
    process.stdout.write('\nmedian over runs:\n');
    const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [k, rs] of Object.entries(all)) {
      const m: Result = {
        eventsPerSec: med(rs.map((r) => r.eventsPerSec)),
        p50: med(rs.map((r) => r.p50)),
        p99: med(rs.map((r) => r.p99)),
        ok: med(rs.map((r) => r.ok)),
        timeouts: med(rs.map((r) => r.timeouts)),
        errors: med(rs.map((r) => r.errors)),
        cpuSec: med(rs.map((r) => r.cpuSec)),
        peakRssMb: med(rs.map((r) => r.peakRssMb)),
      };
      process.stdout.write(`  ${k.padEnd(8)} ${fmt(m)}\n`);
    }
    const ratios = all.node!.map((r, i) => r.eventsPerSec / all.go![i]!.eventsPerSec);
    process.stdout.write(`node/go events/s per run: ${ratios.map((x) => x.toFixed(2)).join(', ')}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
