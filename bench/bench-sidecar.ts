/** A sidecar child process for benchmarks: addresses, /status, CPU and peak RSS from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processTreeCpu, processTreePeakRssMb } from './process-usage.js';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

// BENCH_SIDECAR_CLI: another build's dist/src/cli/main.js (before/after figures).
const CLI = process.env.BENCH_SIDECAR_CLI ?? fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface SidecarStatus {
  events: { total: number };
  logs: { emitted: number; exported: number; queued: number; dropped: Record<string, number> } | null;
  snapshot: { lastWrite: { clients: number; bytes: number; ms: number } | null } | null;
}

export interface BenchSidecar {
  child: ChildProcess;
  port: number;
  /** The --grpc-listen port (0 when not given). */
  grpcPort: number;
  admin: string;
  status(): Promise<SidecarStatus>;
  /** Waits until the sidecar has decoded `total` events; returns when (performance.now()). */
  waitForEvents(total: number, timeoutMs?: number): Promise<number>;
  /** User and system CPU of the sidecar and its worker processes. */
  cpu(): { userSec: number; sysSec: number };
  /** Peak RSS of the sidecar and its worker processes, added up. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

export async function startBenchSidecar(args: string[], env: Record<string, string>): Promise<BenchSidecar> {
  // BENCH_SIDECAR_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": to profile the sidecar.
  // The flags it is deployed with (npm start, the Dockerfile), then any given for the run.
  const nodeArgs = [...NODE_FLAGS, ...(process.env.BENCH_SIDECAR_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, CLI, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-level', 'info', ...args], {
    // BENCH_SIDECAR_STDOUT=file: the sidecar's stdout (e.g. --trace-gc lines) into that file.
    stdio: ['ignore', process.env.BENCH_SIDECAR_STDOUT ? openSync(process.env.BENCH_SIDECAR_STDOUT, 'w') : 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let port = 0;
  let grpcPort = 0;
  let admin = '';
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      if (line.msg === 'listening for plugin connections') port = Number(String(line.address).split(':').pop());
      if (line.msg === 'admin listener ready') admin = String(line.address);
      if (line.msg === 'listening for plugin gRPC calls') grpcPort = Number(String(line.address).split(':').pop());
      if (line.level === 'warn' || line.level === 'error') console.log(`  sidecar ${String(line.level)}: ${JSON.stringify(line)}`);
    }
  });
  const wantsGrpc = args.includes('--grpc-listen');
  while (port === 0 || admin === '' || (wantsGrpc && grpcPort === 0)) await new Promise((r) => setTimeout(r, 20));
  const pid = child.pid!;
  const status = async () => (await (await fetch(`http://${admin}/status`)).json()) as SidecarStatus;
  return {
    child,
    port,
    grpcPort,
    admin,
    status,
    async waitForEvents(total, timeoutMs = 300_000) {
      const from = performance.now();
      while ((await status()).events.total < total) {
        if (performance.now() - from > timeoutMs) throw new Error('timed out waiting for the sidecar');
        await new Promise((r) => setTimeout(r, 5));
      }
      return performance.now();
    },
    // With --workers, the worker processes too.
    cpu: () => processTreeCpu(pid),
    peakRssMb: () => processTreePeakRssMb(pid),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
