/**
 * How each component of a sidecar is made from the host (src/host.ts) and the components it
 * uses: the factories the list in src/sidecar.ts names, where one takes more than a line.
 */
import { TcpReceiver } from './receiver/tcp-receiver.js';
import { GrpcReceiver } from './receiver/grpc-receiver.js';
import { IngestCore } from './ingest/ingest-core.js';
import { reusePortSupported, type GrpcWorkerPool, type WorkerReporter } from './receiver/grpc-workers.js';
import type { FanoutSink } from './sinks/event-sink.js';
import type { EventPrinter } from './sinks/event-printer.js';
import type { MetricsSink } from './sinks/metrics-sink.js';
import { LogSink } from './sinks/log-sink.js';
import { SpanSink } from './sinks/span-sink.js';
import { SessionTracker } from './sessions/session-tracker.js';
import type { SnapshotLifecycle } from './sessions/snapshot-lifecycle.js';
import { fieldsForOutputs } from './decoding/field-selection.js';
import { EventDecoder } from './decoding/event-decoder.js';
import type { BrokerReconciler } from './reconcile/broker-reconciler.js';
import type { HookCoverage } from './reconcile/hook-coverage.js';
import { DEFAULT_WAKEUP_MATCH, UnregisteredWakeups } from './reconcile/unregistered-wakeups.js';
import type { Mqtt5Companion } from './reconcile/mqtt5-companion.js';
import type { TelemetryPipeline } from './telemetry/telemetry-pipeline.js';
import { AdminServer } from './admin/admin-server.js';
import { resolveAdminListen } from './config/listen-address.js';
import { ComponentSet, type Component } from './lifecycle/component.js';
import type { Assembly } from './lifecycle/assembly.js';
import type { RuntimeMetrics } from './telemetry/runtime-metrics.js';
import type { SidecarHost } from './sidecar-host.js';

/** The components of a sidecar by name; null where this configuration or role has none. */
export interface Parts {
  /** The first entry is the shape of /status when optional parts are off. */
  status: Component;
  admin: AdminServer | null;
  telemetry: TelemetryPipeline;
  runtime: RuntimeMetrics | null;
  stats: Component;
  /** Checks on the outputs: hooks the gauges need, the broker's own counts, state across restarts. */
  coverage: HookCoverage | null;
  metrics: MetricsSink;
  sessions: SessionTracker;
  wakeups: UnregisteredWakeups | null;
  snapshot: SnapshotLifecycle | null;
  reconciler: BrokerReconciler | null;
  logs: LogSink | null;
  printer: EventPrinter | null;
  spans: SpanSink | null;
  fanout: FanoutSink;
  tcp: TcpReceiver | null;
  reporter: WorkerReporter | null;
  grpc: Component | null;
  pool: GrpcWorkerPool | null;
  companion: Mqtt5Companion | null;
}

export type A = Assembly<SidecarHost, Parts>;
export const worker = (a: A) => a.host.role === 'worker';

export function createAdmin(a: A): AdminServer {
  const { settings, otel, telemetry, logger } = a.host;
  const handlers = {
    // Not ready while a new plugin connection would be refused (every slot held by a sender).
    ready: () => (a.get('tcp')?.acceptingConnections ?? true) && (grpcReceiver(a)?.listening ?? true) && (a.get('pool')?.listening ?? true),
    metrics: telemetry.prometheusEnabled ? () => telemetry.prometheusText() : null,
    status: () => componentSet(a).status(),
  };
  return new AdminServer(handlers, logger, resolveAdminListen(settings, otel));
}

/** The components of this configuration, handled as one (built once every factory has run). */
export function componentSet(a: A): ComponentSet {
  return a.shared('parts', () => new ComponentSet(a.components()));
}

export function createSessionTracker({ host }: A): SessionTracker {
  const { settings, logger, attributes } = host;
  if (settings.gaugeMode === 'deltas' && attributes.clientGrouper?.usesUsernames) {
    logger.warn('--gauge-mode deltas: mqtt.client.connected is grouped by the client id patterns of --client-groups only', {
      why: 'a wakeup carries no username, so user: patterns could put the +1 and the -1 of one connection in different groups; other metrics use every pattern',
    });
  }
  return new SessionTracker(host, { maxClients: settings.maxTrackedClients, mode: settings.gaugeMode });
}

/**
 * Pairing a wakeup with its register needs both events, which deltas mode's replicas each see a
 * random share of: every replica would count most MQTT 3.1.1 wakeups as unregistered. None there.
 */
export function createWakeupMatcher(a: A): UnregisteredWakeups | null {
  const { settings, options, logger, stats } = a.host;
  if (settings.gaugeMode === 'deltas' || worker(a)) return null;
  const wakeupMatch = { ...DEFAULT_WAKEUP_MATCH, ...options.wakeupMatch };
  const reconciler = a.get('reconciler');
  const wakeups = new UnregisteredWakeups(logger, wakeupMatch, {
    pool: {
      get connectionsAccepted() {
        return stats.connectionsAccepted;
      },
      get connectionsOpen() {
        return stats.connectionsOpen;
      },
      get lastAcceptedAt() {
        return stats.lastAcceptedAt;
      },
      get lastClosedAt() {
        return stats.lastClosedAt;
      },
      // The slowest plugin connection, which the TCP receiver (started after the outputs) knows.
      lowWatermark: () => a.get('tcp')?.lowWatermark(),
    },
    ...(reconciler ? { broker: reconciler } : {}),
    // Whether this process took over from another (its snapshot says, once loaded).
    restarted: () => a.get('snapshot')?.restoredState ?? false,
  });
  if (reconciler) {
    // Registers the broker failed to send (or sent into a dead process) in a scrape interval:
    // its wakeups cannot be told from MQTT 5 ones.
    reconciler.whenScraped((r) => {
      if ((r.lostSince.get('on_register') ?? 0) > 0) wakeups.holdOff((r.previousAt ?? -Infinity) - wakeupMatch.windowMs, r.at + wakeupMatch.windowMs);
    });
  }
  return wakeups;
}

function redaction(settings: SidecarHost['settings']) {
  return settings.redact.length > 0 ? { fields: settings.redact, mode: settings.redactMode, key: settings.redactKey } : null;
}

export function createLogSink({ host }: A): LogSink | null {
  const { settings, signals } = host;
  if (!signals.logOutput) return null;
  return new LogSink(host, {
    ratios: settings.logHooks,
    tracedMessages: settings.logTracedMessages,
    traceContextField: settings.traceContextField,
    payloadMaxBytes: settings.logPayloadBytes,
    userProperties: settings.logUserProperties,
    redact: redaction(settings),
    limits: host.otel.logRecordLimits,
    topicGroups: settings.topicGroups,
  });
}

export function createSpanSink(a: A): SpanSink | null {
  const { settings, signals } = a.host;
  if (!signals.spanOutput) return null;
  const metrics = a.get('metrics');
  const spans = new SpanSink(signals.spanOutput, {
    traceContextField: settings.traceContextField,
    reorderWindowMs: settings.traceReorderWindowMs,
    completionWaitMs: settings.traceCompletionWaitMs,
    receiptRetentionMs: settings.traceReceiptRetentionMs,
    maxEntries: settings.traceStateMaxEntries,
    maxBytes: settings.traceStateMaxBytes,
    redact: redaction(settings),
    // --redact's hasher: with no --redact-key its random key must be one per process.
    redactor: a.get('logs')?.redactor ?? null,
    topicGroups: settings.topicGroups,
    durationSeries: (acl, topic, qos) => metrics.deliveryDurationSeries(acl, topic, qos),
  });
  return spans;
}

/**
 * One ingest core behind both receivers (decode, count, outputs). One decoder for both:
 * decoding is synchronous, so its scratch state is never shared by two events at once, and its
 * per-hook functions are optimised once.
 */
export function ingestCore(a: A): IngestCore {
  return a.shared('ingest', () => {
    const { settings, options, stats, logger } = a.host;
    // What the outputs read of each event: the decoders produce just those fields.
    const fields = fieldsForOutputs({
      topicGroups: settings.topicGroups.length > 0,
      clientGroups: settings.clientGroups.length > 0,
      logRatios: a.get('logs') === null ? null : settings.logHooks,
      logTracedMessages: settings.logTracedMessages,
      readsEverything: settings.printEvents || (options.sinks?.length ?? 0) > 0,
      spans: a.get('spans') !== null,
    });
    // The host's attribute folding sights each event first: one sighting whichever outputs read it.
    return new IngestCore(a.get('fanout'), stats, logger, new EventDecoder(undefined, fields, 'fields', { reuseEvents: true }), a.host.attributes);
  });
}

export function tcpReceiver(a: A): TcpReceiver {
  return a.shared('tcp', () => {
    const { settings, role, workerCount } = a.host;
    const options = {
      host: settings.listen.host,
      port: settings.listen.port,
      maxFrameBytes: settings.maxFrameBytes,
      maxConnections: settings.maxConnections,
      // Workers split the memory budgets: N processes hold what one would.
      maxBufferedBytes: role === 'worker' ? Math.floor(settings.maxBufferedBytes / workerCount) : settings.maxBufferedBytes,
    };
    return new TcpReceiver(a.host, options, ingestCore(a));
  });
}

/** The gRPC receiver (not in a primary, whose workers serve the port); null when --grpc-listen is off. */
export function grpcReceiver(a: A): GrpcReceiver | null {
  return a.shared('grpc', () => {
    const { settings, role, attributes } = a.host;
    if (!settings.grpcListen || role === 'primary') return null;
    const options = {
      host: settings.grpcListen.host,
      port: settings.grpcListen.port,
      // Each worker its own socket on the port, balanced by the kernel (Node >= 22.12); else (and
      // for port 0, which would give each worker a port of its own) the cluster primary hands
      // connections out.
      reusePort: role === 'worker' && settings.grpcListen.port !== 0 && reusePortSupported(),
      maxMessageBytes: settings.maxFrameBytes,
      maxConnections: settings.grpcMaxConnections,
      maxStreams: settings.grpcMaxStreams,
      budget: tcpReceiver(a).budget,
    };
    const grpc = new GrpcReceiver(a.host, options, ingestCore(a));
    attributes.report(grpc.userTypes);
    return grpc;
  });
}
