/**
 * Session snapshots with a million tracked clients:
 *   1. in process: snapshot size, write time, load time;
 *   2. a sidecar process tracking CLIENTS clients (sent as wakeups first), then ingesting
 *      EVENTS more events with --state-file written every second, against the same without
 *      --state-file: does snapshotting pause ingest?
 *
 *   npm run bench:snapshot -- [clients=1000000] [events=1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetricStore } from '../src/metrics/metric-store.js';

/** A tracker with its families registered, as the sidecar's assembly does before start. */
function registered(tracker: SessionTracker): SessionTracker {
  tracker.registerMetrics(new MetricStore());
  return tracker;
}
import { AttributeFolding } from '../src/metrics/attribute-folding.js';
import { SessionTracker } from '../src/sessions/session-tracker.js';
import { SessionSnapshot } from '../src/sessions/session-snapshot.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { runSimulator } from '../src/simulator/simulator.js';
import { connectPool, closePool } from '../src/simulator/simulator.js';
import type { SidecarEvent } from '../src/events/event-types.js';
import { startBenchSidecar } from './bench-sidecar.js';

const CLIENTS = Number(process.argv[2] ?? 1_000_000);
const EVENTS = Number(process.argv[3] ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), 'vmq-snap-bench-'));

function clientId(i: number): string {
  return `device-${String(i).padStart(8, '0')}`;
}

// 1. In process.
{
  const tracker = registered(new SessionTracker({ attributes: new AttributeFolding({ maxMountpoints: 10, clientGroups: [] }) }, { maxClients: CLIENTS * 2 }));
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < CLIENTS; i++) {
    tracker.consume({ hook: i % 4 === 0 ? 'on_client_offline' : 'on_client_wakeup', clientId: clientId(i), mountpoint: '', timeSec: now, timeNanos: i } as unknown as SidecarEvent);
  }
  const file = path.join(dir, 'inproc.bin');
  const w = await new SessionSnapshot(file, tracker).write();
  const copy = registered(new SessionTracker({ attributes: new AttributeFolding({ maxMountpoints: 10, clientGroups: [] }) }, { maxClients: CLIENTS * 2 }));
  const t0 = performance.now();
  await new SessionSnapshot(file, copy).load(3_600_000);
  const loadMs = performance.now() - t0;
  console.log(`${w.clients.toLocaleString('en')} clients: snapshot ${(w.bytes / 1e6).toFixed(1)} MB, written in ${Math.round(w.ms)} ms, loaded in ${Math.round(loadMs)} ms`);
}

// 2. Ingest while snapshots of CLIENTS clients are written every second.
const encoder = new FrameEncoder();
const wakeups: Buffer[] = [];
const now = Math.floor(Date.now() / 1000);
for (let i = 0; i < CLIENTS; i++) wakeups.push(encoder.encodeFrame({ hook: 'on_client_wakeup', clientId: clientId(i), mountpoint: '', timestamp: { seconds: now, nanos: i } }));

async function run(withSnapshots: boolean): Promise<{ eventsPerSec: number; snapshot: string }> {
  const args = withSnapshots ? ['--state-file', path.join(dir, 'sidecar.bin'), '--state-interval', '1s'] : [];
  const sidecar = await startBenchSidecar(args, { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' });
  // Fill the session tracker first.
  const pool = await connectPool({ host: '127.0.0.1', port: sidecar.port }, 10);
  wakeups.forEach((f, i) => pool[i % pool.length]!.add(f));
  await closePool(pool);
  await sidecar.waitForEvents(CLIENTS);
  const s = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 100, clients: 10_000, seed: 3, rate: 0, events: EVENTS, preencode: true });
  const start = performance.now() - s.seconds * 1000;
  const done = await sidecar.waitForEvents(CLIENTS + s.total);
  const st = await sidecar.status();
  await sidecar.stop();
  const w = st.snapshot?.lastWrite;
  return { eventsPerSec: s.total / ((done - start) / 1000), snapshot: w ? `last snapshot ${w.clients.toLocaleString('en')} clients, ${(w.bytes / 1e6).toFixed(1)} MB in ${w.ms} ms` : 'no snapshots' };
}

const without = await run(false);
const withSnap = await run(true);
console.log(`ingest with ${CLIENTS.toLocaleString('en')} tracked clients, no snapshots:           ${Math.round(without.eventsPerSec).toLocaleString('en')} events/s`);
console.log(`ingest with ${CLIENTS.toLocaleString('en')} tracked clients, snapshot every second:  ${Math.round(withSnap.eventsPerSec).toLocaleString('en')} events/s (${withSnap.snapshot})`);
rmSync(dir, { recursive: true, force: true });
