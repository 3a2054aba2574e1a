/**
 * Wires the pipeline: TCP receiver -> connection handlers -> sinks (metrics, session state,
 * logs) -> OpenTelemetry SDK -> exporters, plus the admin listener. The one place that knows
 * every stage; each stage only sees the interface of the next.
 */
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { TcpReceiver } from './receiver/tcp-receiver.js';
import { IngestStats } from './receiver/ingest-stats.js';
import { FanoutSink, type EventSink } from './sinks/event-sink.js';
import { EventPrinter } from './sinks/event-printer.js';
import { MetricsSink } from './sinks/metrics-sink.js';
import { SessionTracker } from './sinks/session-tracker.js';
import { LogSink } from './sinks/log-sink.js';
import { fieldsForOutputs } from './decoding/field-selection.js';
import { SidecarLogger } from './logging/sidecar-logger.js';
import { MetricStore } from './metrics/metric-store.js';
import { TelemetryPipeline } from './telemetry/telemetry-pipeline.js';
import { registerSelfMetrics } from './telemetry/self-metrics.js';
import { exportTargets, parseOtelConfig, type OtelConfig } from './telemetry/otel-config.js';
import { ConfigError } from './config/option-parser.js';
import { AdminServer } from './admin/admin-server.js';
import { SessionSnapshot, type SnapshotWriteResult } from './sinks/session-snapshot.js';
import { BrokerReconciler } from './reconcile/broker-reconciler.js';
import { HookCoverage, type HookCoverageOptions } from './reconcile/hook-coverage.js';
import { DEFAULT_WAKEUP_MATCH, UnregisteredWakeups, type WakeupMatchOptions } from './reconcile/unregistered-wakeups.js';
import { SIDECAR_METRICS } from './metrics/metric-catalog.js';
import { VERSION } from './version.js';
import { maskUrl } from './logging/url-masking.js';
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
  /** How wakeups are paired with registers (tests shorten the window). */
  wakeupMatch?: Partial<WakeupMatchOptions>;
}

export interface RunningSidecar {
  address: AddressInfo;
  adminAddress: AddressInfo | null;
  stats: IngestStats;
  logger: SidecarLogger;
  sessions: SessionTracker;
  telemetry: TelemetryPipeline;
  coverage: HookCoverage;
  unregisteredWakeups: UnregisteredWakeups;
  reconciler: BrokerReconciler | null;
  snapshot: SessionSnapshot | null;
  status(): Record<string, unknown>;
  /** Stops accepting, drains connections, flushes telemetry; resolves within the shutdown timeout. */
  stop(): Promise<void>;
}

/** A listen address that cannot be bound is a configuration problem: say which setting to change. */
async function bindOrExplain<T>(bind: () => Promise<T>, setting: string, at: { host: string; port: number }): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}`;
    const why: Record<string, string> = {
      EADDRINUSE: 'is already in use by another process',
      EACCES: 'may not be bound by this user (ports below 1024 need privileges)',
      EADDRNOTAVAIL: 'is not an address of this machine',
      ENOTFOUND: 'names a host that does not resolve',
    };
    if (code === undefined || why[code] === undefined) throw err;
    throw new ConfigError([`${setting}: ${where} ${why[code]} (${code}); choose another HOST:PORT`]);
  }
}

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const { settings } = options;
  const otel = options.otel ?? parseOtelConfig(process.env);
  const logger = options.logger ?? new SidecarLogger(settings.logLevel);
  const startedAt = Date.now();
  const stats = new IngestStats();
  const store = new MetricStore();

  const metricsSink = new MetricsSink(store, settings);
  const sessions = new SessionTracker(store, metricsSink.mountpoints, { maxClients: settings.maxTrackedClients });
  const instanceId = otel.resourceAttributes['service.instance.id'] ?? `${os.hostname()}:${settings.listen.port}`;
  const telemetry = await TelemetryPipeline.create({ otel, store, logger, version: VERSION, instanceId, logQueueMaxBytes: settings.logQueueMaxBytes });
  registerSelfMetrics(store, stats, telemetry);
  const coverage = new HookCoverage(stats, store, logger, options.hookCoverage);
  const unregisteredWakeups = new UnregisteredWakeups(logger, { ...DEFAULT_WAKEUP_MATCH, ...options.wakeupMatch });
  {
    const unregistered = store.sum(SIDECAR_METRICS.sessionsUnregisteredWakeups);
    const overflow = store.sum(SIDECAR_METRICS.sessionsWakeupMatchOverflow);
    store.onCollect(() => {
      unregisteredWakeups.sweep(Date.now());
      unregistered.get().value = unregisteredWakeups.unregistered;
      overflow.get().value = unregisteredWakeups.overflow;
    });
  }
  const connectedTotal = () => sessions.connectedTotal();
  const reconciler = settings.brokerMetricsUrl
    ? new BrokerReconciler(settings.brokerMetricsUrl, settings.brokerScrapeIntervalMs, settings.brokerScrapeTimeoutMs, stats, connectedTotal, store, logger)
    : null;

  // Session state from the last run, before any event can arrive.
  const snapshot = settings.stateFile ? new SessionSnapshot(settings.stateFile, sessions, reconciler?.snapshotSection()) : null;
  let snapshotLoad: Record<string, unknown> | null = null;
  let lastSnapshot: (SnapshotWriteResult & { at: number }) | null = null;
  let snapshotError: string | null = null;
  const snapshotWrites = { success: 0, error: 0 };
  if (snapshot) {
    const r = await snapshot.load(settings.stateMaxAgeMs);
    if (r.loaded) {
      snapshotLoad = { clients: r.clients, ageSeconds: Math.round(r.ageMs / 1000), upstreamLossCount: r.section };
      logger.info('session state restored from snapshot', { path: snapshot.path, clients: r.clients, ageSeconds: Math.round(r.ageMs / 1000), upstreamLossCount: r.section });
    } else {
      snapshotLoad = { ignored: r.reason };
      const quiet = r.reason === 'no snapshot file yet';
      logger.log(quiet ? 'info' : 'warn', quiet ? 'no session snapshot to restore' : 'session snapshot ignored; gauges start from zero', { path: snapshot.path, reason: r.reason });
    }
    const writes = store.sum(SIDECAR_METRICS.snapshotWrites);
    const age = store.sum(SIDECAR_METRICS.snapshotAge);
    store.sum(SIDECAR_METRICS.snapshotInterval).get().value = settings.stateIntervalMs / 1000;
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

  const sinks: EventSink[] = [metricsSink, sessions, unregisteredWakeups];
  let logSink: LogSink | null = null;
  if (telemetry.logOutput) {
    logSink = new LogSink(telemetry.logOutput, telemetry.resource, telemetry.scope, {
      ratios: settings.logHooks,
      tracedMessages: settings.logTracedMessages,
      traceContextField: settings.traceContextField,
      payloadMaxBytes: settings.logPayloadBytes,
      userProperties: settings.logUserProperties,
      redact: settings.redact.length > 0 ? { fields: settings.redact, mode: settings.redactMode, key: settings.redactKey } : null,
      limits: otel.logRecordLimits,
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
    {
      host: settings.listen.host,
      port: settings.listen.port,
      maxFrameBytes: settings.maxFrameBytes,
      maxConnections: settings.maxConnections,
      maxBufferedBytes: settings.maxBufferedBytes,
      fields: fieldsForOutputs({
        topicGroups: settings.topicGroups.length > 0,
        logRatios: logSink === null ? null : settings.logHooks,
        logTracedMessages: settings.logTracedMessages,
        readsEverything: settings.printEvents || (options.sinks?.length ?? 0) > 0,
      }),
    },
    sink,
    stats,
    logger,
  );

  const status = (): Record<string, unknown> => ({
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    listening: receiver.listening,
    connections: {
      open: stats.connectionsOpen,
      accepted: stats.connectionsAccepted,
      refused: stats.connectionsRefused,
      closed: stats.connectionsClosed,
      accepting: receiver.acceptingConnections,
      bufferedBytes: receiver.budget.used,
    },
    events: { total: stats.eventsTotal, byHook: coverage.seen() },
    gaugesMissingHooks: coverage.check(),
    rejected: stats.rejected,
    sessions: {
      tracked: sessions.clients.size,
      connected: sessions.connectedTotal(),
      offline: sessions.offlineTotal(),
      staleEvents: sessions.stale,
      untrackedEvents: sessions.untracked,
      // Wakeups without on_register: MQTT 5 sessions, whose per-client events never arrive.
      unregisteredWakeups: unregisteredWakeups.status(),
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
          url: maskUrl(settings.brokerMetricsUrl!),
          lastScrape: reconciler.last ? new Date(reconciler.last.at).toISOString() : null,
          connections: reconciler.last?.connections ?? null,
          queues: reconciler.last?.queues ?? null,
          drift: reconciler.drift() ?? null,
          missingEventsByHook: Object.fromEntries(reconciler.missing()),
          scrapes: reconciler.outcomes,
          lastError: reconciler.lastError ?? null,
        }
      : null,
    logs: telemetry.logQueue
      ? { emitted: logSink?.emitted ?? 0, exported: telemetry.logQueue.exported, queued: telemetry.logQueue.queued, dropped: telemetry.logQueue.dropped }
      : null,
    exporters: {
      metrics: otel.metricsExporters,
      logs: otel.logsExporters,
      embeddedDefault: otel.embeddedDefault,
      // Credentials in an endpoint URL are masked (url-masking.ts).
      ...(otel.metricsExporters.includes('otlp') ? { metricsEndpoint: maskUrl(otel.metrics.url) } : {}),
      ...(otel.logsExporters.includes('otlp') ? { logsEndpoint: maskUrl(otel.logs.url) } : {}),
    },
  });

  const admin = new AdminServer(
    {
      // Not ready while a new plugin connection would be refused (every slot held by a sender).
      ready: () => receiver.acceptingConnections,
      metrics: telemetry.prometheusEnabled ? () => telemetry.prometheusText() : null,
      status,
    },
    logger,
  );

  const adminListen =
    settings.adminListen === undefined ? { host: otel.prometheusHost ?? '127.0.0.1', port: otel.prometheusPort ?? 9464 } : settings.adminListen;
  const adminSetting =
    settings.adminListen === undefined ? (otel.prometheusHost || otel.prometheusPort !== undefined ? 'OTEL_EXPORTER_PROMETHEUS_HOST/_PORT' : '--admin-listen') : '--admin-listen';
  let adminAddress: AddressInfo | null = null;
  let address: AddressInfo;
  try {
    if (adminListen) adminAddress = await bindOrExplain(() => admin.start(adminListen.host, adminListen.port), adminSetting, adminListen);
    address = await bindOrExplain(() => receiver.start(), '--listen', settings.listen);
  } catch (err) {
    await admin.stop();
    await telemetry.shutdown(1000);
    throw err;
  }
  admin.logReady();
  const adminUrl = adminAddress ? `http://${adminAddress.family === 'IPv6' ? `[${adminAddress.address}]` : adminAddress.address}:${adminAddress.port}` : null;
  for (const target of exportTargets(otel, adminUrl)) logger.info('export target', { ...target });
  reconciler?.start();
  const timers: NodeJS.Timeout[] = [setInterval(() => coverage.check(), 30_000), setInterval(() => unregisteredWakeups.sweep(Date.now()), 1000)];
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
        await receiver.stop(Math.min(200, settings.shutdownTimeoutMs / 4));
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
        telemetry.logQueue?.abandon();
        await Promise.race([admin.stop(), new Promise((r) => setTimeout(r, 100).unref())]);
      }
    })();
    return stopping;
  };
  return { address, adminAddress, stats, logger, sessions, telemetry, coverage, unregisteredWakeups, reconciler, snapshot, status, stop };
}
