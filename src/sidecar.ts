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
import { SidecarLogger } from './logging/sidecar-logger.js';
import { MetricStore } from './metrics/metric-store.js';
import { TelemetryPipeline } from './telemetry/telemetry-pipeline.js';
import { registerSelfMetrics } from './telemetry/self-metrics.js';
import { parseOtelConfig, type OtelConfig } from './telemetry/otel-config.js';
import { AdminServer } from './admin/admin-server.js';
import { HOOKS } from './events/event-types.js';
import { VERSION } from './version.js';
import type { SidecarSettings } from './config/sidecar-config.js';

export interface SidecarOptions {
  settings: SidecarSettings;
  /** The OTEL_* configuration; parsed from process.env when absent. */
  otel?: OtelConfig;
  logger?: SidecarLogger;
  /** Extra sinks (tests use them to see every event). */
  sinks?: EventSink[];
}

export interface RunningSidecar {
  address: AddressInfo;
  adminAddress: AddressInfo | null;
  stats: IngestStats;
  logger: SidecarLogger;
  sessions: SessionTracker;
  telemetry: TelemetryPipeline;
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
  const sessions = new SessionTracker(store, metricsSink.mountpoints, { maxClients: settings.maxTrackedClients });
  const instanceId = otel.resourceAttributes['service.instance.id'] ?? `${os.hostname()}:${settings.listen.port}`;
  const telemetry = await TelemetryPipeline.create({ otel, store, logger, version: VERSION, instanceId });
  registerSelfMetrics(store, stats, telemetry);

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

  const status = (): Record<string, unknown> => ({
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    listening: receiver.listening,
    connections: { open: stats.connectionsOpen, accepted: stats.connectionsAccepted, refused: stats.connectionsRefused },
    events: {
      total: stats.eventsTotal,
      byHook: Object.fromEntries(
        HOOKS.map((h, i) => [h, { count: stats.eventsByHook[i], lastSeen: stats.lastSeenByHook[i] ? new Date(stats.lastSeenByHook[i]!).toISOString() : null }]),
      ),
    },
    rejected: stats.rejected,
    sessions: { tracked: sessions.clients.size, staleEvents: sessions.stale, untrackedEvents: sessions.untracked },
    logs: telemetry.logQueue
      ? { emitted: logSink?.emitted ?? 0, exported: telemetry.logQueue.exported, queued: telemetry.logQueue.queued, dropped: telemetry.logQueue.dropped }
      : null,
    exporters: { metrics: otel.metricsExporters, logs: otel.logsExporters, embeddedDefault: otel.embeddedDefault },
  });

  const admin = new AdminServer(
    {
      ready: () => receiver.listening,
      metrics: telemetry.prometheusEnabled ? () => telemetry.prometheusText() : null,
      status,
    },
    logger,
  );

  const adminListen =
    settings.adminListen === undefined ? { host: otel.prometheusHost ?? '127.0.0.1', port: otel.prometheusPort ?? 9464 } : settings.adminListen;
  let adminAddress: AddressInfo | null = null;
  let address: AddressInfo;
  try {
    if (adminListen) adminAddress = await admin.start(adminListen.host, adminListen.port);
    address = await receiver.start();
  } catch (err) {
    await admin.stop();
    await telemetry.shutdown(1000);
    throw err;
  }
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
        await receiver.stop(Math.min(200, settings.shutdownTimeoutMs / 4));
        await sink.shutdown();
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
  return { address, adminAddress, stats, logger, sessions, telemetry, status, stop };
}
