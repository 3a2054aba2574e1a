/**
 * Memory per tracked client (--max-tracked-clients), for the memory plan (docs/operations.md):
 *   1. in process, with --expose-gc: the heap a SessionTracker holds for N clients, for short
 *      client ids (device-00000001, 15 characters) and UUIDs (36 characters);
 *   2. a real sidecar process: its RSS at rest, then after N clients connected (wakeups).
 *
 *   npm run bench:tracked-clients -- [clients=1000000]
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { MetricStore } from '../src/metrics/metric-store.js';

/** A tracker with its families registered, as the sidecar's assembly does before start. */
function registered(tracker: SessionTracker): SessionTracker {
  tracker.registerMetrics(new MetricStore());
  return tracker;
}
import { AttributeFolding } from '../src/metrics/attribute-folding.js';
import { SessionTracker } from '../src/sessions/session-tracker.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { connectPool, closePool } from '../src/simulator/simulator.js';
import type { SidecarEvent } from '../src/events/event-types.js';
import { startBenchSidecar } from './bench-sidecar.js';

const CLIENTS = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:tracked-clients does)');

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function inProcess(label: string, id: (i: number) => string): void {
  const before = heapUsed();
  const tracker = registered(new SessionTracker({ attributes: new AttributeFolding({ maxMountpoints: 10, clientGroups: [] }) }, { maxClients: CLIENTS * 2 }));
  const now = Math.floor(Date.now() / 1000);
  // Each id made here, as the decoder makes it: the tracker's key holds it, so it counts.
  for (let i = 0; i < CLIENTS; i++) {
    tracker.consume({ hook: i % 4 === 0 ? 'on_client_offline' : 'on_client_wakeup', clientId: id(i), mountpoint: '', timeSec: now, timeNanos: i } as unknown as SidecarEvent);
  }
  const after = heapUsed();
  console.log(`${label}: ${CLIENTS.toLocaleString('en')} tracked clients hold ${((after - before) / 1e6).toFixed(1)} MB of heap: ${Math.round((after - before) / CLIENTS)} B per client`);
  if (tracker.clients.size !== CLIENTS) throw new Error('not every client tracked');
}

// Flat strings read from bytes, as the decoder makes them (a template literal or randomUUID()
// would be a concatenation of pieces, several times the size).
const flat = (s: string) => Buffer.from(s, 'latin1').toString('latin1');
inProcess('client ids like device-00000001', (i) => flat(`device-${String(i).padStart(8, '0')}`));
inProcess('client ids as UUIDs (36 characters)', () => flat(randomUUID()));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sidecar = await startBenchSidecar([], { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' });
await new Promise((r) => setTimeout(r, 2000));
const rest = rssMb(sidecar.child.pid!);
const encoder = new FrameEncoder();
const now = Math.floor(Date.now() / 1000);
const pool = await connectPool({ host: '127.0.0.1', port: sidecar.port }, 10);
for (let i = 0; i < CLIENTS; i++) pool[i % pool.length]!.add(encoder.encodeFrame({ hook: 'on_client_wakeup', clientId: `device-${String(i).padStart(8, '0')}`, mountpoint: '', timestamp: { seconds: now, nanos: i } }));
await closePool(pool);
await sidecar.waitForEvents(CLIENTS);
// Let the collector run and the heap settle.
await new Promise((r) => setTimeout(r, 5000));
const loaded = rssMb(sidecar.child.pid!);
const peak = sidecar.peakRssMb();
await sidecar.stop();
console.log(
  `sidecar process: RSS ${rest.toFixed(0)} MB at rest, ${loaded.toFixed(0)} MB with ${CLIENTS.toLocaleString('en')} tracked clients (peak ${peak.toFixed(0)} MB): ${Math.round(((loaded - rest) * 1024 * 1024) / CLIENTS)} B per client`,
);
