/** Builds and runs the Go peer (bench/go-peer/main.go) in a temp dir; CPU and peak RSS from /proc. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpu, processPeakRssMb } from './process-usage.js';

/** The source, from dist/bench/ back to the repository. */
const SOURCE = fileURLToPath(new URL('../../bench/go-peer/main.go', import.meta.url));

export interface GoPeer {
  port: number;
  waitDone(total: number, timeoutMs?: number): Promise<number>;
  cpu(): { userSec: number; sysSec: number };
  peakRssMb(): number;
  stop(): Promise<void>;
}

/**
 * Null when Go (golang-go, golang-google-protobuf-dev) is not there to build it. `expected`: the
 * event counts it reports reaching (cumulative: a warm-up, then warm-up + run).
 */
export async function startGoPeer(expected: readonly number[]): Promise<GoPeer | null> {
  const dir = mkdtempSync(path.join(tmpdir(), 'go-peer-'));
  const bin = path.join(dir, 'go-peer');
  const built = spawnSync('go', ['build', '-o', bin, SOURCE], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(dir, 'cache'), GOFLAGS: '' },
    encoding: 'utf8',
  });
  if (built.status !== 0) {
    if (built.error || /not found/.test(built.stderr ?? '')) return null;
    throw new Error(`go build failed: ${built.stderr}`);
  }
  // One core, as the sidecar has (bench/README.md), unless the bench was given GOMAXPROCS.
  const child = spawn(bin, expected.map(String), { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, GOMAXPROCS: process.env.GOMAXPROCS ?? '1' } });
  let out = '';
  const doneAt = new Map<number, number>();
  let port = 0;
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /listening (\d+)/.exec(out);
    if (m) port = Number(m[1]);
    for (const [, n] of out.matchAll(/done (\d+)/g)) if (!doneAt.has(Number(n))) doneAt.set(Number(n), performance.now());
  });
  while (port === 0) await new Promise((r) => setTimeout(r, 10));
  const pid = child.pid!;
  return {
    port,
    async waitDone(total, timeoutMs = 300_000) {
      if (!expected.includes(total)) throw new Error(`the Go peer does not report ${total} events (only ${expected.join(', ')})`);
      const from = performance.now();
      while (!doneAt.has(total)) {
        // Frames it cannot decode are not counted: the count it waits for may never come.
        if (performance.now() - from > timeoutMs) throw new Error(`timed out waiting for the Go peer to decode ${total} events`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return doneAt.get(total)!;
    },
    cpu: () => processCpu(pid),
    peakRssMb: () => processPeakRssMb(pid),
    async stop() {
      child.stdin!.end();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
