/**
 * --workers N: the gRPC listener served by N processes on one port, for a central replica in
 * --gauge-mode deltas (docs/scaling.md, "Every core of a central replica").
 *
 * One event loop answers about half the calls a Go server does (docs/architecture.md, "The
 * gRPC path"); the rest is more cores. Deltas mode keeps no per-client state, so every output
 * is a sum and can be split: each worker (a `node:cluster` worker running this same program)
 * has its own gRPC receiver, decoder, metric and session sinks and log record pipeline, and
 * exports its log records itself (no lock, no hand-off). What it counts it reports to the
 * primary every REPORT_MS and when it stops; the primary (admin listener, TCP listener, metric
 * export) adds the reports into its own series at collection time, so one process exports one
 * set of series, as with one worker.
 *
 * Connections are spread over the workers by the kernel (SO_REUSEPORT, each worker its own
 * socket) on Node >= 22.12, else by the cluster primary (round-robin, one hand-off per
 * connection: the plugin's connections are long-lived). Sessions mode needs every event of a
 * client in one place and refuses --workers > 1.
 */
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MetricStore, AttributeValue } from '../metrics/metric-store.js';
import { HistogramFamily, SumFamily, type HistogramSeries } from '../metrics/metric-store.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { IngestStats } from './ingest-stats.js';
import { HOOKS } from '../events/event-types.js';
import { REJECT_REASONS } from './ingest-stats.js';
import { GRPC_ANSWERS, type GrpcAnswer, type GrpcReceiver } from './grpc-receiver.js';
import type { Component, StatusReport } from '../lifecycle/component.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';

/** How often a worker reports its counts to the primary. */
export const REPORT_MS = 250;
/** Set in a worker's environment: it runs the gRPC receiver only (not VMQ_SIDECAR_*: no setting of the user's). */
export const WORKER_ENV = 'VMQ_OTEL_SIDECAR_GRPC_WORKER';

/** Node >= 22.12 has net's reusePort. */
export function reusePortSupported(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return major > 22 || (major === 22 && minor >= 12);
}

/**
 * --workers auto: the container's CPU quota (cgroup), else the CPUs this process may run on
 * (os.availableParallelism(), which honours taskset and cpusets). Never more than the quota: a
 * pod limited to 2 CPUs on a 64-core node sees 64 cores but must run 2 workers.
 */
export function defaultWorkers(root = '/sys/fs/cgroup'): number {
  const quota = cgroupCpuQuota(root);
  const cpus = os.availableParallelism();
  return quota === null ? cpus : Math.min(quota, cpus);
}

/**
 * The container's CPU quota, rounded up (cgroup v2 cpu.max, else v1 cpu.cfs_quota_us), or null
 * when none is set: the default --workers. Not the node's cores: a pod limited to 2 CPUs on a
 * 64-core node would run 64 workers that share 2 CPUs.
 */
export function cgroupCpuQuota(root = '/sys/fs/cgroup'): number | null {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return null;
    }
  };
  const v2 = read(`${root}/cpu.max`);
  if (v2 !== null) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max' || quota === undefined) return null;
    const q = Number(quota) / Number(period ?? 100_000);
    return Number.isFinite(q) && q > 0 ? Math.max(1, Math.ceil(q)) : null;
  }
  const quota = Number(read(`${root}/cpu/cpu.cfs_quota_us`) ?? NaN);
  const period = Number(read(`${root}/cpu/cpu.cfs_period_us`) ?? NaN);
  if (!(quota > 0 && period > 0)) return null;
  return Math.max(1, Math.ceil(quota / period));
}

type SeriesKey = string;
interface NumberReport {
  name: string;
  kind: 'number';
  series: [AttributeValue[], number][];
}
interface HistogramReport {
  name: string;
  kind: 'histogram';
  series: [AttributeValue[], number, number, number, number, number[]][];
}
interface StatsReport {
  eventsTotal: number;
  framesReceived: number;
  bytesReceived: number;
  eventsByHook: number[];
  lastSeenByHook: number[];
  itemsTruncatedByHook: number[];
  rejected: number[];
  grpcFrames: number;
  grpcEventsByHook: number[];
  grpcRejected: number[];
}
export interface WorkerReport {
  type: 'report';
  families: (NumberReport | HistogramReport)[];
  stats: StatsReport;
  calls: [string, number[]][];
  connections: { open: number; accepted: number; refused: number };
  listening: boolean;
  /** The port the worker's gRPC listener is bound to. */
  port: number;
  final: boolean;
}

function valuesOf(def: { attributes: readonly { name: string }[] }, attributes: Record<string, unknown>): AttributeValue[] {
  return def.attributes.map((a) => (attributes[a.name] ?? '') as AttributeValue);
}

/** What a worker has counted, as plain data for the primary. */
export function workerReport(store: MetricStore, stats: IngestStats, grpc: GrpcReceiver, final: boolean): WorkerReport {
  store.beforeCollect();
  const families: WorkerReport['families'] = [];
  for (const f of store.families) {
    if (f instanceof SumFamily) {
      families.push({ name: f.def.name, kind: 'number', series: f.all().map((s) => [valuesOf(f.def, s.attributes), s.value]) });
    } else if (f instanceof HistogramFamily) {
      families.push({ name: f.def.name, kind: 'histogram', series: f.all().map((s) => [valuesOf(f.def, s.attributes), s.count, s.sum, s.min, s.max, s.counts.slice()]) });
    }
  }
  return {
    type: 'report',
    families,
    stats: {
      eventsTotal: stats.eventsTotal,
      framesReceived: stats.framesReceived,
      bytesReceived: stats.bytesReceived,
      eventsByHook: stats.eventsByHook.slice(),
      lastSeenByHook: stats.lastSeenByHook.slice(),
      itemsTruncatedByHook: stats.itemsTruncatedByHook.slice(),
      rejected: REJECT_REASONS.map((r) => stats.rejected[r]),
      grpcFrames: stats.grpc.framesReceived,
      grpcEventsByHook: stats.grpc.eventsByHook.slice(),
      grpcRejected: REJECT_REASONS.map((r) => stats.grpc.rejected[r]),
    },
    calls: [...grpc.calls].map(([userType, c]) => [userType, GRPC_ANSWERS.map((a) => c[a])]),
    connections: { ...grpc.connections },
    listening: grpc.listening,
    port: grpc.address?.port ?? 0,
    final,
  };
}

/** In a worker: reports to the primary every REPORT_MS, and once more (final) at stop. */
export class WorkerReporter implements Component {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly report: (final: boolean) => WorkerReport) {}

  start(): void {
    this.timer = setInterval(() => this.send(false), REPORT_MS);
    this.timer.unref();
    this.send(false);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await new Promise<void>((resolve) => {
      if (!process.send || !process.connected) return resolve();
      process.send(this.report(true), () => resolve());
    });
  }

  private send(final: boolean): void {
    if (process.send && process.connected) process.send(this.report(final));
  }
}

interface WorkerState {
  worker: Worker;
  report: WorkerReport | null;
  exited: boolean;
}

/**
 * In the primary: forks the workers and adds their reports into the primary's counters (the
 * ingest counters, read by /status and the ingest metrics) and metric series (the sinks'
 * families) at collection time. A worker that exits unexpectedly is forked again; its last
 * report stays counted, and the new worker's counts are added to it.
 */
export class GrpcWorkerPool implements Component {
  private readonly workers: WorkerState[] = [];
  /** Reports of workers that exited: their counts stay in the totals. */
  private readonly retired: WorkerReport[] = [];
  /** What was added to each series at the last merge (series -> amount), to add only the change. */
  private readonly added = new Map<object, number | number[]>();
  private readonly addedStats: StatsReport = emptyStats();
  private stopping = false;
  readonly calls = new Map<string, Record<GrpcAnswer, number>>();
  private store: MetricStore | null = null;
  /** The workers' gRPC connections, summed: the ingest counters' gRPC connection figures. */
  private readonly connections = { open: 0, accepted: 0, refused: 0 };

  constructor(
    private readonly count: number,
    private readonly stats: IngestStats,
    private readonly logger: SidecarLogger,
    private readonly env: Record<string, string>,
    private readonly host: string,
  ) {
    stats.grpcConnections = this.connections;
  }

  get listening(): boolean {
    return !this.stopping && this.workers.length > 0 && this.workers.every((w) => w.report?.listening === true);
  }

  /** The workers' gRPC address (the same port for all). */
  get address(): import('node:net').AddressInfo | null {
    const port = this.workers.find((w) => w.report)?.report?.port;
    return port ? { address: this.host, port, family: this.host.includes(':') ? 'IPv6' : 'IPv4' } : null;
  }

  registerMetrics(store: MetricStore): void {
    this.store = store;
    const calls = store.sum(SIDECAR_METRICS.grpcCalls);
    store.onCollect(() => {
      this.mergeCalls();
      for (const [userType, counts] of this.calls) {
        for (const a of GRPC_ANSWERS) if (a === 'OK' || a === 'INVALID_ARGUMENT' || counts[a] > 0) calls.get(a, userType).value = counts[a];
      }
    });
  }

  /** After every other component's collection hook: adds the workers' series. */
  registerMergeLast(store: MetricStore): void {
    store.onCollect(() => this.mergeFamilies(store));
  }

  async start(): Promise<void> {
    cluster.setupPrimary({ silent: false });
    for (let i = 0; i < this.count; i++) this.fork();
    // Ready when every worker listens (or one failed: its exit is reported).
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (this.listening) {
          clearInterval(check);
          resolve();
        } else if (this.workers.some((w) => w.exited)) {
          clearInterval(check);
          reject(new Error('a gRPC worker exited at start (its log lines say why)'));
        }
      }, 20);
    });
    this.logger.info('gRPC workers listening', { workers: this.count, balancing: reusePortSupported() ? 'SO_REUSEPORT (kernel)' : 'cluster round-robin (Node < 22.12 has no reusePort)' });
  }

  private fork(): void {
    const worker = cluster.fork({ ...this.env, [WORKER_ENV]: '1' });
    const state: WorkerState = { worker, report: null, exited: false };
    this.workers.push(state);
    worker.on('message', (m: WorkerReport) => {
      if (m?.type !== 'report') return;
      state.report = m;
      // The ingest counters (/status, and the ingest metrics read at collection) move as reports arrive.
      this.mergeStats();
      Object.assign(this.connections, this.sumConnections());
    });
    worker.on('exit', (code, signal) => {
      state.exited = true;
      if (this.stopping) return;
      // Keep what it counted; a new worker takes its place.
      if (state.report) this.retired.push(state.report);
      this.workers.splice(this.workers.indexOf(state), 1);
      this.logger.warn('gRPC worker exited; starting another', { pid: worker.process.pid, code, signal });
      this.fork();
    });
  }

  /** Workers stop (each answers its calls in hand and sends its final report), then the rest stops. */
  async stop(deadline = Date.now() + 800): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exited) return resolve();
            const timer = setTimeout(() => {
              w.worker.process.kill('SIGKILL');
              resolve();
            }, Math.max(100, deadline - Date.now()));
            w.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.worker.process.kill('SIGTERM');
          }),
      ),
    );
    // Their final reports are in: count them now (the telemetry's last export comes after).
    this.mergeStats();
    if (this.store) this.mergeFamilies(this.store);
  }

  status(): StatusReport {
    this.mergeStats();
    this.mergeCalls();
    return {
      grpc: {
        listening: this.listening,
        workers: this.workers.map((w) => ({ pid: w.worker.process.pid, events: w.report?.stats.eventsTotal ?? 0 })),
        connections: this.sumConnections(),
        calls: Object.fromEntries(
          [...this.calls].map(([u, c]) => [u, Object.fromEntries(GRPC_ANSWERS.filter((a) => a === 'OK' || a === 'INVALID_ARGUMENT' || c[a] > 0).map((a) => [a, c[a]]))]),
        ),
      },
    };
  }

  private reports(): WorkerReport[] {
    return [...this.retired, ...this.workers.flatMap((w) => (w.report ? [w.report] : []))];
  }

  private sumConnections(): { open: number; accepted: number; refused: number } {
    const c = { open: 0, accepted: 0, refused: 0 };
    for (const w of this.workers) {
      if (!w.report || w.exited) continue;
      c.open += w.report.connections.open;
    }
    for (const r of this.reports()) {
      c.accepted += r.connections.accepted;
      c.refused += r.connections.refused;
    }
    return c;
  }

  private mergeCalls(): void {
    this.calls.clear();
    for (const r of this.reports()) {
      for (const [userType, counts] of r.calls) {
        let c = this.calls.get(userType);
        if (!c) this.calls.set(userType, (c = Object.fromEntries(GRPC_ANSWERS.map((a) => [a, 0])) as Record<GrpcAnswer, number>));
        GRPC_ANSWERS.forEach((a, i) => (c![a] += counts[i]!));
      }
    }
  }

  /** Adds the change in the workers' ingest counters since the last merge to the primary's. */
  private mergeStats(): void {
    const total = emptyStats();
    for (const r of this.reports()) addStats(total, r.stats);
    const s = this.stats;
    const a = this.addedStats;
    s.eventsTotal += total.eventsTotal - a.eventsTotal;
    s.framesReceived += total.framesReceived - a.framesReceived;
    s.bytesReceived += total.bytesReceived - a.bytesReceived;
    s.grpc.framesReceived += total.grpcFrames - a.grpcFrames;
    total.eventsByHook.forEach((n, i) => {
      s.eventsByHook[i]! += n - a.eventsByHook[i]!;
      s.grpc.eventsByHook[i]! += total.grpcEventsByHook[i]! - a.grpcEventsByHook[i]!;
      s.itemsTruncatedByHook[i]! += total.itemsTruncatedByHook[i]! - a.itemsTruncatedByHook[i]!;
      if (total.lastSeenByHook[i]! > s.lastSeenByHook[i]!) s.lastSeenByHook[i] = total.lastSeenByHook[i]!;
    });
    REJECT_REASONS.forEach((r, i) => {
      s.rejected[r] += total.rejected[i]! - a.rejected[i]!;
      s.grpc.rejected[r] += total.grpcRejected[i]! - a.grpcRejected[i]!;
    });
    Object.assign(this.addedStats, total);
  }

  /** Adds the change in each worker series since the last merge into the primary's series of the same name and attributes. */
  private mergeFamilies(store: MetricStore): void {
    const sums = new Map<SeriesKey, { family: SumFamily; values: AttributeValue[]; value: number }>();
    const hists = new Map<SeriesKey, { family: HistogramFamily; values: AttributeValue[]; count: number; sum: number; min: number; max: number; counts: number[] }>();
    for (const r of this.reports()) {
      for (const f of r.families) {
        const family = store.family(f.name);
        if (family === undefined) continue;
        if (f.kind === 'number' && family instanceof SumFamily) {
          for (const [values, value] of f.series) {
            const key = `${f.name}\u0000${JSON.stringify(values)}`;
            const e = sums.get(key);
            if (e) e.value += value;
            else sums.set(key, { family, values, value });
          }
        } else if (f.kind === 'histogram' && family instanceof HistogramFamily) {
          for (const [values, count, sum, min, max, counts] of f.series) {
            const key = `${f.name}\u0000${JSON.stringify(values)}`;
            const e = hists.get(key);
            if (e) {
              e.count += count;
              e.sum += sum;
              e.min = Math.min(e.min, min);
              e.max = Math.max(e.max, max);
              counts.forEach((c, i) => (e.counts[i]! += c));
            } else hists.set(key, { family, values, count, sum, min, max, counts: counts.slice() });
          }
        }
      }
    }
    for (const { family, values, value } of sums.values()) {
      const s = (family.get as unknown as (...v: AttributeValue[]) => { value: number }).apply(family, values);
      const before = (this.added.get(s) as number | undefined) ?? 0;
      // Gauges (a configuration value, a flag) are the same in every worker: not added up.
      if (family.def.kind === 'gauge') continue;
      s.value += value - before;
      this.added.set(s, value);
    }
    for (const { family, values, count, sum, min, max, counts } of hists.values()) {
      const s = (family.get as unknown as (...v: AttributeValue[]) => HistogramSeries).apply(family, values);
      const before = (this.added.get(s) as number[] | undefined) ?? [0, 0, ...counts.map(() => 0)];
      s.count += count - before[0]!;
      s.sum += sum - before[1]!;
      counts.forEach((c, i) => (s.counts[i]! += c - before[2 + i]!));
      if (min < s.min) s.min = min;
      if (max > s.max) s.max = max;
      this.added.set(s, [count, sum, ...counts]);
    }
  }
}

function emptyStats(): StatsReport {
  const hooks = () => new Array<number>(HOOKS.length).fill(0);
  return {
    eventsTotal: 0,
    framesReceived: 0,
    bytesReceived: 0,
    eventsByHook: hooks(),
    lastSeenByHook: hooks(),
    itemsTruncatedByHook: hooks(),
    rejected: REJECT_REASONS.map(() => 0),
    grpcFrames: 0,
    grpcEventsByHook: hooks(),
    grpcRejected: REJECT_REASONS.map(() => 0),
  };
}

function addStats(t: StatsReport, r: StatsReport): void {
  t.eventsTotal += r.eventsTotal;
  t.framesReceived += r.framesReceived;
  t.bytesReceived += r.bytesReceived;
  t.grpcFrames += r.grpcFrames;
  r.eventsByHook.forEach((n, i) => {
    t.eventsByHook[i]! += n;
    t.grpcEventsByHook[i]! += r.grpcEventsByHook[i]!;
    t.itemsTruncatedByHook[i]! += r.itemsTruncatedByHook[i]!;
    t.lastSeenByHook[i] = Math.max(t.lastSeenByHook[i]!, r.lastSeenByHook[i]!);
  });
  r.rejected.forEach((n, i) => {
    t.rejected[i]! += n;
    t.grpcRejected[i]! += r.grpcRejected[i]!;
  });
}

export const isGrpcWorker = (): boolean => cluster.isWorker && process.env[WORKER_ENV] === '1';
