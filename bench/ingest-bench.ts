/**
 * Ingest benchmark: one sidecar process (a child, as in production) fed by the simulator over
 * loopback with pre-encoded frames, so the simulator's own cost is not in the figures.
 * Prints events/s, MB/s, the sidecar's CPU and peak RSS, and the floor: the same frames framed
 * and decoded in a bare loop in this process, with no sockets.
 *
 *   npm run bench:ingest -- [events=1000000] [connections=100]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClientModel, type SimEvent } from '../src/simulator/client-model.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { FrameDecoder } from '../src/framing/frame-decoder.js';
import { EventDecoder } from '../src/decoding/event-decoder.js';
import { runSimulator } from '../src/simulator/simulator.js';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const CONNECTIONS = Number(process.argv[3] ?? 100);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const CLK_TCK = 100;

function procStat(pid: number): { userSec: number; sysSec: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { userSec: Number(fields[11]) / CLK_TCK, sysSec: Number(fields[12]) / CLK_TCK };
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function floor(): { eventsPerSec: number; mbPerSec: number; avgFrame: number } {
  const model = new ClientModel({ clients: 1000, seed: 1 });
  const encoder = new FrameEncoder();
  const frames: Buffer[] = [];
  let n = 0;
  const emit = (e: SimEvent) => {
    frames.push(encoder.encodeFrame(e));
    n++;
  };
  while (n < 300_000) model.step(emit);
  const stream = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
  const decoder = new EventDecoder();
  let decoded = 0;
  let now = 0;
  const framer = new FrameDecoder({
    onFrame: (buf, s, e) => {
      if (decoder.decode(buf, s, e, now) !== null) decoded++;
    },
    onOversizedFrame: () => {},
    onUnframeable: () => {},
  });
  for (let round = 0; round < 2; round++) for (const c of chunks) framer.push(c); // warm-up
  decoded = 0;
  const rounds = 5;
  const t0 = performance.now();
  for (let round = 0; round < rounds; round++)
    for (const c of chunks) {
      now = Date.now();
      framer.push(c);
    }
  const sec = (performance.now() - t0) / 1000;
  if (decoded !== n * rounds) throw new Error(`floor decoded ${decoded}, expected ${n * rounds}`);
  return { eventsPerSec: decoded / sec, mbPerSec: (stream.length * rounds) / sec / 1e6, avgFrame: stream.length / n };
}

async function endToEnd(): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [CLI, '--listen', '127.0.0.1:0', '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let received = 0;
  let reads = 0;
  let lastClose = 0;
  let port = 0;
  let stopped: Record<string, number> | undefined;
  let buf = '';
  child.stderr.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      if (line.msg === 'listening for plugin connections') port = Number(String(line.address).split(':').pop());
      if (line.msg === 'plugin connection closed') {
        received += Number(line.events);
        reads += Number(line.reads);
        lastClose = performance.now();
      }
      if (line.msg === 'stopped') stopped = line as Record<string, number>;
    }
  });
  while (port === 0) await new Promise((r) => setTimeout(r, 20));
  const cpuBefore = procStat(child.pid!);
  // The simulator starts its clock after encoding and connecting; sending starts right after.
  let sendStart = 0;
  const simPromise = runSimulator({ target: { host: '127.0.0.1', port }, connections: CONNECTIONS, clients: 10_000, seed: 1, rate: 0, events: EVENTS, preencode: true });
  const origNow = performance.now();
  const summary = await simPromise;
  sendStart = performance.now() - summary.seconds * 1000;
  while (received < summary.total) {
    await new Promise((r) => setTimeout(r, 10));
    if (performance.now() - origNow > 600_000) throw new Error('timed out waiting for the sidecar');
  }
  const cpuAfter = procStat(child.pid!);
  const userSec = cpuAfter.userSec - cpuBefore.userSec;
  const sysSec = cpuAfter.sysSec - cpuBefore.sysSec;
  const cpu = userSec + sysSec;
  const rss = peakRssMb(child.pid!);
  const sec = (lastClose - sendStart) / 1000;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return {
    sent: summary.total,
    received: stopped?.events ?? received,
    rejected: stopped?.rejected ?? -1,
    seconds: sec,
    eventsPerSec: summary.total / sec,
    mbPerSec: summary.bytes / sec / 1e6,
    cpuSec: cpu,
    userSec,
    sysSec,
    meanReadBytes: summary.bytes / reads,
    cpuPercent: (cpu / sec) * 100,
    peakRssMb: rss,
  };
}

const f = floor();
console.log(`floor (frame + decode, one core, no sockets): ${Math.round(f.eventsPerSec).toLocaleString('en')} events/s, ${f.mbPerSec.toFixed(1)} MB/s, mean frame ${f.avgFrame.toFixed(0)} B`);
const e = await endToEnd();
console.log(`sidecar over loopback, ${CONNECTIONS} connections, ${e.sent!.toLocaleString('en')} events:`);
console.log(`  ${Math.round(e.eventsPerSec!).toLocaleString('en')} events/s, ${e.mbPerSec!.toFixed(1)} MB/s, ${e.seconds!.toFixed(2)} s`);
console.log(`  received ${e.received} of ${e.sent} (lost ${e.sent! - e.received!}), rejected ${e.rejected}`);
console.log(`  sidecar CPU ${e.cpuSec!.toFixed(2)} s (user ${e.userSec!.toFixed(2)}, system ${e.sysSec!.toFixed(2)}; ${e.cpuPercent!.toFixed(0)}% of one core), peak RSS ${e.peakRssMb!.toFixed(1)} MB`);
console.log(`  mean read ${Math.round(e.meanReadBytes!)} bytes`);
console.log(`  ratio to floor: ${(e.eventsPerSec! / f.eventsPerSec).toFixed(2)}`);
