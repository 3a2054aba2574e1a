/**
 * gRPC transport benchmark: the plugin's sending pattern (100 workers, one Event call in flight
 * each, 10 HTTP/2 connections, 500 ms deadline, no retry), played by a Go load client
 * (bench/go-grpc-load, held to one core with taskset when the machine has more than one), against
 *   sidecar        the sidecar as deployed centrally (`--gauge-mode deltas`, its default
 *                  --workers, metrics on, no log records), gRPC only
 *   grpc-js        the server layers compared for the unary Event path, each in a process of
 *   grpc-js-tuned  its own with the same work behind it (bench/grpc-server-variants.ts: decode
 *   http2          and count, no sinks): @grpc/grpc-js as configured before, grpc-js tuned, and
 *                  the sidecar's node:http2 receiver
 *   go             a minimal Go gRPC server that only decodes the envelope
 *                  (bench/go-envelope-server)
 *   sidecar+tcp    the sidecar with the same gRPC load while as many events arrive over TCP
 * in the same run, each `runs` times. The Go programs are built here into a temp dir from
 * Debian's golang-google-grpc-dev. Prints calls/s, answer time p50/p99, the server's CPU (also
 * per call) and peak RSS, and checks the sidecar counted every event once.
 *
 *   npm run bench:grpc -- [events=60000] [runs=3] [workers=100] [connections=10] [modes]
 *
 * BENCH_SIDECAR_CLI=<dist/src/cli/main.js of another build>: the `sidecar` mode runs that build
 * (before/after figures). BENCH_SIDECAR_ARGS: extra sidecar flags (e.g. "--workers 1").
 * BENCH_LOAD_CPUS: the taskset CPU list of the load client (default: the last CPU).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientModel, type SimEvent } from '../src/simulator/client-model.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { eventRequest } from '../src/simulator/grpc-sender.js';
import { closePool, connectPool } from '../src/simulator/simulator.js';
import { NODE_FLAGS } from '../src/cli/node-flags.js';
import { startBenchSidecar } from './bench-sidecar.js';
import { processCpu, processPeakRssMb } from './process-usage.js';

const EVENTS = Number(process.argv[2] ?? 60_000);
const RUNS = Number(process.argv[3] ?? 3);
const WORKERS = Number(process.argv[4] ?? 100);
const CONNECTIONS = Number(process.argv[5] ?? 10);
const MODES = (process.argv[6] ?? 'sidecar,grpc-js,grpc-js-tuned,http2,go').split(',');
const TIMEOUT_MS = 500;
const GO_SERVER = fileURLToPath(new URL('../../bench/go-envelope-server/main.go', import.meta.url));
const GO_LOAD = fileURLToPath(new URL('../../bench/go-grpc-load/main.go', import.meta.url));
const VARIANTS = fileURLToPath(new URL('./grpc-server-variants.js', import.meta.url));

interface Result {
  callsPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  timeouts: number;
  errors: number;
  cpuSec: number;
  peakRssMb: number;
}

interface LoadResult {
  ok: number;
  errors: Record<string, number>;
  timeouts: number;
  seconds: number;
  p50: number;
  p99: number;
}

function encodeEvents(n: number, seed: number): { requests: Buffer[]; frames: Buffer[] } {
  const model = new ClientModel({ clients: 10_000, seed });
  const encoder = new FrameEncoder();
  const requests: Buffer[] = [];
  const frames: Buffer[] = [];
  const emit = (e: SimEvent) => {
    if (requests.length >= n) return;
    const f = encoder.encodeFrame(e);
    frames.push(f);
    requests.push(eventRequest(f.subarray(4)));
  };
  while (requests.length < n) model.step(emit);
  return { requests, frames };
}

/** The requests file of go-grpc-load: each EventRequest after its 4-byte length. */
function requestsFile(dir: string, requests: Buffer[]): string {
  const file = path.join(dir, 'requests.bin');
  writeFileSync(
    file,
    Buffer.concat(
      requests.flatMap((r) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(r.length);
        return [len, r];
      }),
    ),
  );
  return file;
}

function loadCpus(): string | null {
  if (process.env.BENCH_LOAD_CPUS) return process.env.BENCH_LOAD_CPUS;
  const n = os.availableParallelism();
  return n > 1 ? String(n - 1) : null;
}

async function grpcLoad(loadBinary: string, file: string, port: number): Promise<LoadResult> {
  const cpus = loadCpus();
  const args = [String(port), file, String(WORKERS), String(CONNECTIONS), String(TIMEOUT_MS), 'default'];
  const [cmd, argv] = cpus !== null ? ['taskset', ['-c', cpus, loadBinary, ...args]] : [loadBinary, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`go-grpc-load exited ${code}`))));
  });
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

/** A server process that prints its port on its first line. */
async function startServer(cmd: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().split('\n')[0]!.trim())));
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code}`)));
  });
  return { child, port };
}

async function stopServer(child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.kill('SIGTERM');
  await new Promise((res) => child.once('exit', res));
  return out.trim();
}

function buildGo(dir: string, source: string, name: string): string {
  const out = path.join(dir, name);
  execFileSync('go', ['build', '-o', out, source], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(dir, 'cache'), GOFLAGS: '' },
    stdio: 'inherit',
  });
  return out;
}

function result(r: LoadResult, cpuSec: number, peakRssMb: number): Result {
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  return { callsPerSec: Math.round(r.ok / r.seconds), p50: r.p50, p99: r.p99, ok: r.ok, timeouts: r.timeouts, errors, cpuSec, peakRssMb };
}

function fmt(r: Result): string {
  const usPerCall = (r.cpuSec / Math.max(1, r.ok)) * 1e6;
  return `${String(r.callsPerSec).padStart(7)} calls/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  cpu ${r.cpuSec.toFixed(2).padStart(5)} s (${usPerCall.toFixed(0).padStart(3)} µs/call)  rss ${r.peakRssMb.toFixed(0).padStart(4)} MB  ok ${r.ok} timeouts ${r.timeouts} errors ${r.errors}`;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'grpc-bench-'));
  try {
    process.stdout.write(`building the Go envelope server and load client in ${tmp} ...\n`);
    const goServer = buildGo(tmp, GO_SERVER, 'go-envelope-server');
    const goLoad = buildGo(tmp, GO_LOAD, 'go-grpc-load');
    const { requests } = encodeEvents(EVENTS, 7);
    const file = requestsFile(tmp, requests);
    const tcp = encodeEvents(EVENTS, 8).frames;
    const sidecarArgs = ['--grpc-listen', '127.0.0.1:0', '--gauge-mode', 'deltas', ...(process.env.BENCH_SIDECAR_ARGS ?? '').split(' ').filter(Boolean)];
    const sidecarEnv = { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' };
    process.stdout.write(
      `${EVENTS} gRPC calls per run, ${WORKERS} workers one call each, ${CONNECTIONS} connections, ${TIMEOUT_MS} ms deadline; load client on CPU ${loadCpus() ?? 'any'}; ` +
        `${os.availableParallelism()} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; sidecar ${process.env.BENCH_SIDECAR_CLI ?? 'this build'} ${sidecarArgs.slice(2).join(' ')}\n`,
    );
    const all: Record<string, Result[]> = Object.fromEntries(MODES.map((m) => [m, []]));
    for (let run = 1; run <= RUNS; run++) {
      for (const mode of MODES) {
        if (mode === 'sidecar' || mode === 'sidecar+tcp') {
          const s = await startBenchSidecar(sidecarArgs, sidecarEnv);
          const cpu0 = s.cpu();
          const [r] = await Promise.all([grpcLoad(goLoad, file, s.grpcPort), mode === 'sidecar+tcp' ? tcpLoad(s.port, tcp) : Promise.resolve()]);
          const expected = r.ok + (mode === 'sidecar+tcp' ? tcp.length : 0);
          await s.waitForEvents(expected, 60_000);
          const cpu1 = s.cpu();
          const status = (await s.status()) as unknown as { events: { total: number }; rejected: Record<string, number> };
          const rejected = Object.values(status.rejected).reduce((a, b) => a + b, 0);
          if (status.events.total !== expected || rejected !== 0) process.stdout.write(`run ${run}: ${mode} COUNT MISMATCH: ${status.events.total} vs ${expected}, ${rejected} rejected\n`);
          all[mode]!.push(result(r, cpu1.userSec + cpu1.sysSec - cpu0.userSec - cpu0.sysSec, s.peakRssMb()));
          await s.stop();
        } else if (mode === 'go' || mode === 'grpc-js' || mode === 'grpc-js-tuned' || mode === 'http2') {
          const flags = mode === 'grpc-js-tuned' ? ['--max-semi-space-size=16'] : [...NODE_FLAGS];
          const g = mode === 'go' ? await startServer(goServer, []) : await startServer(process.execPath, [...flags, VARIANTS, mode]);
          const c0 = processCpu(g.child.pid!);
          const r = await grpcLoad(goLoad, file, g.port);
          const c1 = processCpu(g.child.pid!);
          const rss = processPeakRssMb(g.child.pid!);
          const counted = await stopServer(g.child);
          if (mode !== 'go' && counted !== `events ${r.ok} rejected 0`) process.stdout.write(`run ${run}: ${mode} COUNT MISMATCH: ${counted} vs ${r.ok} OK\n`);
          all[mode]!.push(result(r, c1.userSec + c1.sysSec - c0.userSec - c0.sysSec, rss));
        } else throw new Error(`unknown mode ${mode}`);
        process.stdout.write(`run ${run}  ${mode.padEnd(13)} ${fmt(all[mode]!.at(-1)!)}\n`);
      }
    }
    process.stdout.write('\nmedian over runs:\n');
    const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [k, rs] of Object.entries(all)) {
      const m: Result = {
        callsPerSec: med(rs.map((r) => r.callsPerSec)),
        p50: med(rs.map((r) => r.p50)),
        p99: med(rs.map((r) => r.p99)),
        ok: med(rs.map((r) => r.ok)),
        timeouts: med(rs.map((r) => r.timeouts)),
        errors: med(rs.map((r) => r.errors)),
        cpuSec: med(rs.map((r) => r.cpuSec)),
        peakRssMb: med(rs.map((r) => r.peakRssMb)),
      };
      process.stdout.write(`  ${k.padEnd(13)} ${fmt(m)}\n`);
    }
    if (all.go) {
      for (const k of MODES.filter((m) => m !== 'go')) {
        const ratios = all[k]!.map((r, i) => r.callsPerSec / all.go![i]!.callsPerSec);
        process.stdout.write(`${k}/go calls/s per run: ${ratios.map((x) => x.toFixed(2)).join(', ')}\n`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
