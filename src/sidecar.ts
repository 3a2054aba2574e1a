/**
 * Wires the pipeline: TCP receiver -> connection handlers -> sinks (metrics, session state,
 * logs) -> OpenTelemetry SDK -> exporters, plus the admin listener. The one place that knows
 * every stage; each stage only sees the interface of the next.
 */
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { TcpReceiver } from './receiver/tcp-receiver.js';
import { GrpcReceiver } from './receiver/grpc-receiver.js';
import { IngestStats } from './receiver/ingest-stats.js';
import { FanoutSink, type EventSink } from './sinks/event-sink.js';
import { EventPrinter } from './sinks/event-printer.js';
import { MetricsSink } from './sinks/metrics-sink.js';
import { SessionTracker } from './sinks/session-tracker.js';
import { LogSink } from './sinks/log-sink.js';
import { SidecarLogger } from './logging/sidecar-logger.js';
import { MetricStore } from './metrics/metric-store.js';
import { TelemetryPipeline } from './telemetry/telemetry-pipeline.js';
import { registerSelfMetrics } from './telemetry/self-metrics.js';
import { parseOtelConfig, type OtelConfig } from './telemetry/otel-config.js';
import { AdminServer } from './admin/admin-server.js';
import { SessionSnapshot, type SnapshotWriteResult } from './sinks/session-snapshot.js';
import { BrokerReconciler } from './reconcile/broker-reconciler.js';
import { HookCoverage, type HookCoverageOptions } from './reconcile/hook-coverage.js';
import { SIDECAR_METRICS } from './metrics/metric-catalog.js';
import { VERSION } from './version.js';
import type { SidecarSettings } from './config/sidecar-config.js';

export interface SidecarOptions {
  settings: SidecarSettings;
  /** The OTEL_* configuration; parsed from process.env when absent. */
  otel?: OtelConfig;
  logger?: SidecarLogger;
  /** Extra sinks (tests use them to see every event). */
  sinks?: EventSink[];
  /** When a gauge's missing hooks are reported (tests shorten it). */
  hookCoverage?: HookCoverageOptions;
}

export interface RunningSidecar {
  address: AddressInfo;
  adminAddress: AddressInfo | null;
  /** The gRPC listener's address; null when --grpc-listen is off. */
  grpcAddress: AddressInfo | null;
  stats: IngestStats;
  logger: SidecarLogger;
  sessions: SessionTracker;
  telemetry: TelemetryPipeline;
  coverage: HookCoverage;
  reconciler: BrokerReconciler | null;
  snapshot: SessionSnapshot | null;
  status(): Record<string, unknown>;
  /** Stops accepting, drains connections, flushes telemetry; resolves within the shutdown timeout. */
  stop(): Promise<void>;
}

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const { settings } = options;
  const otel = options.otel ?? parseOtelConfig(process.env);
  const logger = options.logger ?? new SidecarLogger(settings.logLevel);
  const startedAt = Date.now();
  const stats = new IngestStats();
  const store = new MetricStore();

  const metricsSink = new MetricsSink(store, settings);
  const sessions = new SessionTracker(store, metricsSink.mountpoints, { maxClients: settings.maxTrackedClients, mode: settings.gaugeMode });
  const instanceId = otel.resourceAttributes['service.instance.id'] ?? `${os.hostname()}:${settings.listen.port}`;
  const telemetry = await TelemetryPipeline.create({ otel, store, logger, version: VERSION, instanceId });
  registerSelfMetrics(store, stats, telemetry, settings.grpcListen ? ['tcp', 'grpc'] : ['tcp']);
  const coverage = new HookCoverage(stats, store, logger, options.hookCoverage);
  const connectedTotal = () => sessions.connectedTotal();
  const reconciler = settings.brokerMetricsUrl
    ? new BrokerReconciler(settings.brokerMetricsUrl, settings.brokerScrapeIntervalMs, settings.brokerScrapeTimeoutMs, stats, connectedTotal, store, logger)
    : null;

  // Session state from the last run, before any event can arrive.
  const snapshot = settings.stateFile ? new SessionSnapshot(settings.stateFile, sessions) : null;
  let snapshotLoad: Record<string, unknown> | null = null;
  let lastSnapshot: (SnapshotWriteResult & { at: number }) | null = null;
  let snapshotError: string | null = null;
  const snapshotWrites = { success: 0, error: 0 };
  if (snapshot) {
    const r = await snapshot.load(settings.stateMaxAgeMs);
    if (r.loaded) {
      snapshotLoad = { clients: r.clients, ageSeconds: Math.round(r.ageMs / 1000) };
      logger.info('session state restored from snapshot', { path: snapshot.path, clients: r.clients, ageSeconds: Math.round(r.ageMs / 1000) });
    } else {
      snapshotLoad = { ignored: r.reason };
      const quiet = r.reason === 'no snapshot file yet';
      logger.log(quiet ? 'info' : 'warn', quiet ? 'no session snapshot to restore' : 'session snapshot ignored; gauges start from zero', { path: snapshot.path, reason: r.reason });
    }
    const writes = store.sum(SIDECAR_METRICS.snapshotWrites);
    const age = store.sum(SIDECAR_METRICS.snapshotAge);
    store.onCollect(() => {
      writes.get('success').value = snapshotWrites.success;
      writes.get('error').value = snapshotWrites.error;
      age.get().value = Math.round((Date.now() - (lastSnapshot?.at ?? startedAt)) / 1000);
    });
  }
  let writing: Promise<void> | null = null;
  const writeSnapshot = (): Promise<void> => {
    if (!snapshot) return Promise.resolve();
    writing ??= snapshot
      .write()
      .then((r) => {
        snapshotWrites.success++;
        snapshotError = null;
        lastSnapshot = { ...r, at: Date.now() };
        logger.debug('session snapshot written', { ...r });
      })
      .catch((err: Error) => {
        snapshotWrites.error++;
        snapshotError = err.message;
        logger.limited('warn', 'snapshot-write', 60_000, 'session snapshot could not be written', { path: snapshot.path, err });
      })
      .finally(() => {
        writing = null;
      });
    return writing;
  };

  const sinks: EventSink[] = [metricsSink, sessions];
  let logSink: LogSink | null = null;
  if (telemetry.logOutput) {
    logSink = new LogSink(telemetry.logOutput, telemetry.resource, telemetry.scope, {
      ratios: settings.logHooks,
      tracedMessages: settings.logTracedMessages,
      traceContextField: settings.traceContextField,
      payloadMaxBytes: settings.logPayloadBytes,
    });
    sinks.push(logSink);
  }
  if (settings.printEvents) sinks.push(new EventPrinter());
  sinks.push(...(options.sinks ?? []));
  const sink = new FanoutSink(sinks, (err, event) => {
    stats.rejected.sink_error++;
    logger.limited('error', 'sink_error', 10_000, 'event sink failed', { hook: event.hook, err: (err as Error)?.stack ?? String(err) });
  });

  const receiver = new TcpReceiver(
    { host: settings.listen.host, port: settings.listen.port, maxFrameBytes: settings.maxFrameBytes, maxConnections: settings.maxConnections },
    sink,
    stats,
    logger,
  );

  // ---- gRPC transport (--grpc-listen): a second receiver into the same sink and counters ----
  const grpcReceiver = settings.grpcListen
    ? new GrpcReceiver({ host: settings.grpcListen.host, port: settings.grpcListen.port, maxMessageBytes: settings.maxFrameBytes }, sink, stats, logger)
    : null;
  grpcReceiver?.registerMetrics(store);
  // ---- end gRPC transport ----

  const status = (): Record<string, unknown> => ({
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    listening: receiver.listening,
    grpc: grpcReceiver?.status() ?? null,
    gaugeMode: settings.gaugeMode,
    connections: { open: stats.connectionsOpen, accepted: stats.connectionsAccepted, refused: stats.connectionsRefused },
    events: { total: stats.eventsTotal, byHook: coverage.seen() },
    gaugesMissingHooks: coverage.check(),
    rejected: stats.rejected,
    sessions: {
      tracked: sessions.clients.size,
      connected: sessions.connectedTotal(),
      offline: sessions.offlineTotal(),
      staleEvents: sessions.stale,
      untrackedEvents: sessions.untracked,
    },
    snapshot: snapshot
      ? {
          path: snapshot.path,
          restored: snapshotLoad,
          lastWrite: lastSnapshot ? { at: new Date(lastSnapshot.at).toISOString(), clients: lastSnapshot.clients, bytes: lastSnapshot.bytes, ms: Math.round(lastSnapshot.ms) } : null,
          ageSeconds: Math.round((Date.now() - (lastSnapshot?.at ?? startedAt)) / 1000),
          lastError: snapshotError,
        }
      : null,
    broker: reconciler
      ? {
          lastScrape: reconciler.last ? new Date(reconciler.last.at).toISOString() : null,
          connections: reconciler.last?.connections ?? null,
          queues: reconciler.last?.queues ?? null,
          drift: reconciler.drift() ?? null,
          missingEventsByHook: Object.fromEntries(reconciler.missing()),
          lateGrpcEventsByHook: Object.fromEntries(reconciler.lateGrpc()),
          scrapes: reconciler.outcomes,
          lastError: reconciler.lastError ?? null,
        }
      : null,
    logs: telemetry.logQueue
      ? { emitted: logSink?.emitted ?? 0, exported: telemetry.logQueue.exported, queued: telemetry.logQueue.queued, dropped: telemetry.logQueue.dropped }
      : null,
    exporters: { metrics: otel.metricsExporters, logs: otel.logsExporters, embeddedDefault: otel.embeddedDefault },
  });

  const admin = new AdminServer(
    {
      ready: () => receiver.listening && (grpcReceiver?.listening ?? true),
      metrics: telemetry.prometheusEnabled ? () => telemetry.prometheusText() : null,
      status,
    },
    logger,
  );

  const adminListen =
    settings.adminListen === undefined ? { host: otel.prometheusHost ?? '127.0.0.1', port: otel.prometheusPort ?? 9464 } : settings.adminListen;
  let adminAddress: AddressInfo | null = null;
  let address: AddressInfo;
  let grpcAddress: AddressInfo | null = null;
  try {
    if (adminListen) adminAddress = await admin.start(adminListen.host, adminListen.port);
    address = await receiver.start();
    if (grpcReceiver) grpcAddress = await grpcReceiver.start();
  } catch (err) {
    await receiver.stop(0);
    await admin.stop();
    await telemetry.shutdown(1000);
    throw err;
  }
  reconciler?.start();
  const timers: NodeJS.Timeout[] = [setInterval(() => coverage.check(), 30_000)];
  if (snapshot) timers.push(setInterval(() => void writeSnapshot(), settings.stateIntervalMs));
  for (const t of timers) t.unref();
  if (otel.embeddedDefault) {
    logger.info('no OTLP endpoint configured: metrics on the admin listener\'s /metrics, log records as lines on stdout', {
      hint: 'set OTEL_EXPORTER_OTLP_ENDPOINT to export to a collector',
    });
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), settings.shutdownTimeoutMs);
      });
      const work = (async () => {
        for (const t of timers) clearInterval(t);
        reconciler?.stop();
        const drainMs = Math.min(200, settings.shutdownTimeoutMs / 4);
        await Promise.all([receiver.stop(drainMs), grpcReceiver?.stop(drainMs)]);
        await sink.shutdown();
        // The final state, after the last event: the next start continues from here.
        await writing;
        await writeSnapshot();
        await telemetry.shutdown(Math.max(100, settings.shutdownTimeoutMs - 500));
        await admin.stop();
      })();
      const outcome = await Promise.race([work.then(() => 'done' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn('shutdown timed out; exiting with work left undone', { timeoutMs: settings.shutdownTimeoutMs });
        await admin.stop();
      }
    })();
    return stopping;
  };
  return { address, adminAddress, grpcAddress, stats, logger, sessions, telemetry, coverage, reconciler, snapshot, status, stop };
}
