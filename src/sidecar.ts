/**
 * The assembly: the components of a sidecar as a list of factories in start order (stop order
 * is the reverse), around one host that hands them the shared services (src/host.ts). Events
 * go receivers -> ingest core -> outputs (metrics, session state, logs, spans) -> OpenTelemetry
 * SDK -> exporters, beside the admin listener. Each component owns its options and their rules
 * (its *-options.ts), its start, stop, status and metrics (lifecycle/component.ts); the stop
 * path is the component contract alone.
 */
import { ConfigError, formatHostPort } from './config/option-parser.js';
import type { AddressInfo } from 'node:net';
import type { IngestStats } from './receiver/ingest-stats.js';
import { GrpcWorkerPool, WorkerReporter, workerReport } from './receiver/grpc-workers.js';
import { FanoutSink } from './sinks/event-sink.js';
import { EventPrinter } from './sinks/event-printer.js';
import { MetricsSink } from './sinks/metrics-sink.js';
import { SessionSnapshot } from './sessions/session-snapshot.js';
import { SnapshotLifecycle } from './sessions/snapshot-lifecycle.js';
import { BrokerReconciler } from './reconcile/broker-reconciler.js';
import { HookCoverage } from './reconcile/hook-coverage.js';
import { Mqtt5Companion } from './reconcile/mqtt5-companion.js';
import { SIDECAR_METRICS } from './metrics/metric-catalog.js';
import type { TelemetryPipeline } from './telemetry/telemetry-pipeline.js';
import { exportTargets } from './telemetry/otel-config.js';
import { AdminServer } from './admin/admin-server.js';
import { cgroupMemoryLimit, checkMemoryPlan, memoryPlan } from './lifecycle/memory-plan.js';
import { otherListenProblems, resolveAdminListen, type ListenAddress } from './config/listen-address.js';
import { ComponentSet, type Component, type StatusReport } from './lifecycle/component.js';
import { Assembly, type Factories } from './lifecycle/assembly.js';
import { RuntimeMetrics } from './telemetry/runtime-metrics.js';
import { VERSION } from './version.js';
import { createHost, type SidecarHost, type SidecarOptions } from './sidecar-host.js';
import { componentSet, createAdmin, createLogSink, createSessionTracker, createSpanSink, createWakeupMatcher, grpcReceiver, tcpReceiver, worker, type Parts } from './factories.js';

export { resolveWorkers } from './receiver/grpc-receiver-options.js';
export type { SidecarOptions } from './sidecar-host.js';

export interface RunningSidecar {
  address: AddressInfo;
  adminAddress: AddressInfo | null;
  /** The gRPC listener's address; null when --grpc-listen is off. */
  grpcAddress: AddressInfo | null;
  /** The receivers' counters (read by tests and benches). */
  stats: IngestStats;
  telemetry: TelemetryPipeline;
  /** The running component of a class, for its public API (tests drive the broker reconciler). */
  component<T extends Component>(type: abstract new (...args: never[]) => T): T | undefined;
  /** What /status serves: the merge of the components' reports. */
  status(): StatusReport;
  /** Stops accepting, drains connections, flushes telemetry; resolves within the shutdown timeout. */
  stop(): Promise<void>;
}

/**
 * In start order: the admin listener first, the receivers last (the state is loaded and every
 * output is ready before the first event); stop order is the reverse.
 */
const PARTS: Factories<SidecarHost, Parts> = {
  status: ({ host: { settings, workerCount, startedAt } }) => ({
    status: () => ({ version: VERSION, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), gaugeMode: settings.gaugeMode, workers: workerCount, grpc: null, snapshot: null, broker: null, logs: null, spans: null }),
  }),
  admin: (a) => (worker(a) ? null : createAdmin(a)),
  telemetry: (a) => a.host.telemetry,
  runtime: (a) => (worker(a) ? null : new RuntimeMetrics()),
  // In a worker the ingest counters go to the primary in its reports, not as metrics.
  stats: ({ host: { stats, role } }) => (role === 'worker' ? { status: () => stats.status() } : stats),
  coverage: (a) =>
    worker(a) ? null : new HookCoverage(a.host.stats, a.host.logger, a.host.options.hookCoverage, Date.now, {
      endsUnseen: () => a.get('sessions').endsUnseen,
      brokerAttempts: () => a.get('reconciler')?.last?.attempts,
    }),
  metrics: ({ host }) => new MetricsSink(host, host.settings),
  sessions: createSessionTracker,
  wakeups: createWakeupMatcher,
  snapshot: (a) => {
    const { settings, logger } = a.host;
    if (!settings.stateFile || worker(a)) return null;
    const snapshot = new SessionSnapshot(settings.stateFile, a.get('sessions'), a.get('reconciler')?.snapshotSection());
    return new SnapshotLifecycle(snapshot, { intervalMs: settings.stateIntervalMs, maxAgeMs: settings.stateMaxAgeMs }, logger);
  },
  reconciler: (a) => {
    const { settings, stats, logger } = a.host;
    if (!settings.brokerMetricsUrl || worker(a)) return null;
    // A deltas-mode gauge is a share of a sum over several sidecars: nothing to compare.
    const connected = settings.gaugeMode === 'deltas' ? null : () => a.get('sessions').connectedTotal();
    return new BrokerReconciler(settings.brokerMetricsUrl, settings.brokerScrapeIntervalMs, settings.brokerScrapeTimeoutMs, stats, connected, logger);
  },
  logs: createLogSink,
  printer: ({ host }) => (host.settings.printEvents ? new EventPrinter(process.stdout, host.logger) : null),
  spans: createSpanSink,
  fanout: (a) =>
    new FanoutSink([
      a.get('metrics'),
      a.get('sessions'),
      ...[a.get('wakeups'), a.get('logs'), a.get('spans'), a.get('printer')].flatMap((s) => s ?? []),
      ...(a.host.options.sinks ?? []),
    ]),
  // A worker serves gRPC only; its TCP receiver is built for the memory budget they share.
  tcp: (a) => (worker(a) ? null : tcpReceiver(a)),
  // A worker's reporter stops after its receiver (stop order is reversed): its final report holds
  // the calls answered while draining.
  reporter: (a) => {
    const grpc = grpcReceiver(a);
    return worker(a) && grpc ? new WorkerReporter((final) => workerReport(a.host.store, a.host.stats, grpc, final)) : null;
  },
  grpc: (a) => {
    const grpc = grpcReceiver(a);
    // A worker's gRPC counters go to the primary in its reports, not as metrics.
    return grpc && worker(a) ? { start: () => grpc.start(), stop: (d?: number) => grpc.stop(d), status: () => grpc.status() } : grpc;
  },
  pool: ({ host }) => (host.role === 'primary' ? new GrpcWorkerPool(host.workerCount, host.stats, host.logger, {}, host.settings.grpcListen!.host) : null),
  // Last: says "not seen yet" only once the receivers listen (not before a start that fails).
  // The companion's events arrive over TCP, which a gRPC worker does not serve.
  companion: (a) => (worker(a) ? null : new Mqtt5Companion(a.host.stats, a.host.logger)),
};

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const host = await createHost(options);
  const a = new Assembly(host, PARTS);
  const parts = componentSet(a);
  // The host's own service first, then every component's families, in start order.
  host.attributes.registerMetrics(host.store);
  parts.registerMetrics(host.store);
  host.store.gauge(SIDECAR_METRICS.gaugeMode).get(host.settings.gaugeMode).value = 1;
  // Last: the workers' series are added after every component has set its own.
  a.get('pool')?.registerMergeLast(host.store);
  await startOrExplain(host, parts);
  const grpc = grpcReceiver(a);
  const common = { stats: host.stats, telemetry: host.telemetry, component: parts.find.bind(parts), status: () => parts.status() };
  if (host.role === 'worker') {
    const address = { address: host.settings.listen.host, port: 0, family: 'IPv4' };
    return { ...common, address, adminAddress: null, grpcAddress: grpc?.address ?? null, stop: () => parts.stop(Date.now() + host.settings.shutdownTimeoutMs) };
  }
  const admin = a.get('admin')!;
  announce(host, admin);
  let stopping: Promise<void> | undefined;
  return {
    ...common,
    address: a.get('tcp')!.address!,
    adminAddress: admin.address,
    grpcAddress: grpc?.address ?? a.get('pool')?.address ?? null,
    stop: () => (stopping ??= stopWithin(host, parts)),
  };
}

/** Starts the components; a listen address in use names every busy address in one error. */
async function startOrExplain(host: SidecarHost, parts: ComponentSet): Promise<void> {
  const { settings } = host;
  try {
    await parts.start();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const adminAt = resolveAdminListen(settings, host.otel);
    const addresses: ListenAddress[] = [
      ...(adminAt ? [adminAt] : []),
      { ...settings.listen, setting: '--listen' },
      ...(settings.grpcListen ? [{ ...settings.grpcListen, setting: '--grpc-listen' }] : []),
    ];
    throw new ConfigError([...err.problems, ...(await otherListenProblems(err, addresses))]);
  }
}

/** The lines a started sidecar logs: where it listens, where each signal goes, the memory plan. */
function announce(host: SidecarHost, admin: AdminServer): void {
  const { logger, otel, settings, telemetry } = host;
  admin.logReady();
  const adminAddress = admin.address;
  const adminUrl = adminAddress ? `http://${formatHostPort(adminAddress.address, adminAddress.port)}` : null;
  for (const target of exportTargets(otel, adminUrl)) logger.info('export target', { ...target });
  checkMemoryPlan(logger, memoryPlan(settings, telemetry.logQueue !== null), cgroupMemoryLimit(host.options.cgroupMemoryFiles));
  if (otel.embeddedDefault) {
    logger.info('no OTLP endpoint configured: metrics on the admin listener\'s /metrics, log records as lines on stdout', {
      hint: 'set OTEL_EXPORTER_OTLP_ENDPOINT to export to a collector',
    });
  }
}

/** Stops through the component contract within --shutdown-timeout; past it, the components abandon what is left. */
async function stopWithin(host: SidecarHost, parts: ComponentSet): Promise<void> {
  const timeoutMs = host.settings.shutdownTimeoutMs;
  await parts.stopBy(Date.now() + timeoutMs, () => host.logger.warn('shutdown timed out; exiting with work left undone', { timeoutMs }));
}
