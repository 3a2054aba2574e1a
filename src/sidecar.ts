/**
 * The assembly: which components make up a sidecar, in which order they start (and, reversed,
 * stop), and how they are wired: receivers -> connection handlers -> outputs (metrics, session
 * state, logs) -> OpenTelemetry SDK -> exporters, beside the admin listener. Each component
 * owns its start, stop, status and metrics (lifecycle/component.ts); this file only lists them.
 */
import { ConfigError, formatHostPort } from './config/option-parser.js';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { TcpReceiver } from './receiver/tcp-receiver.js';
import { GrpcReceiver } from './receiver/grpc-receiver.js';
import { IngestStats } from './receiver/ingest-stats.js';
import { IngestCore } from './ingest/ingest-core.js';
import { GrpcWorkerPool, WorkerReporter, isGrpcWorker, reusePortSupported, workerReport } from './receiver/grpc-workers.js';
import { FanoutSink, type EventSink } from './sinks/event-sink.js';
import { EventPrinter } from './sinks/event-printer.js';
import { MetricsSink } from './sinks/metrics-sink.js';
import { LogSink } from './sinks/log-sink.js';
import { SpanSink, TRACE_STATE_KINDS } from './sinks/span-sink.js';
import { SessionTracker } from './sessions/session-tracker.js';
import { SessionSnapshot } from './sessions/session-snapshot.js';
import { SnapshotLifecycle } from './sessions/snapshot-lifecycle.js';
import { fieldsForOutputs } from './decoding/field-selection.js';
import { EventDecoder } from './decoding/event-decoder.js';
import { BrokerReconciler } from './reconcile/broker-reconciler.js';
import { HookCoverage, type HookCoverageOptions } from './reconcile/hook-coverage.js';
import { DEFAULT_WAKEUP_MATCH, UnregisteredWakeups, type WakeupMatchOptions } from './reconcile/unregistered-wakeups.js';
import { Mqtt5Companion } from './reconcile/mqtt5-companion.js';
import { SidecarLogger } from './logging/sidecar-logger.js';
import { MetricStore } from './metrics/metric-store.js';
import { AttributeFolding } from './metrics/attribute-folding.js';
import type { Host } from './host.js';
import { MQTT_METRICS, SIDECAR_METRICS } from './metrics/metric-catalog.js';
import { TelemetryPipeline } from './telemetry/telemetry-pipeline.js';
import { exportTargets, parseOtelConfig, type OtelConfig } from './telemetry/otel-config.js';
import { AdminServer } from './admin/admin-server.js';
import { cgroupMemoryLimit, checkMemoryPlan, memoryPlan } from './lifecycle/memory-plan.js';
import { otherListenProblems, resolveAdminListen, type ListenAddress } from './config/listen-address.js';
import { ComponentSet, type Component, type StatusReport } from './lifecycle/component.js';
import { RuntimeMetrics } from './telemetry/runtime-metrics.js';
import { routeGrpcJsLog } from './logging/grpc-js-log.js';
import { VERSION } from './version.js';
import { validateSettings, type SidecarSettings } from './config/sidecar-config.js';
import { resolveWorkers } from './receiver/grpc-receiver-options.js';

export { resolveWorkers };

export interface SidecarOptions {
  settings: SidecarSettings;
  /** The OTEL_* configuration; parsed from process.env when absent. */
  otel?: OtelConfig;
  logger?: SidecarLogger;
  /** Extra sinks (tests use them to see every event). */
  sinks?: EventSink[];
  /** When a gauge's missing hooks are reported (tests shorten it). */
  hookCoverage?: HookCoverageOptions;
  /**
   * What --workers auto means (the CLI: defaultWorkers(), the CPU quota). 1 when absent: an
   * embedding program (the tests) does not fork itself unless it asks.
   */
  autoWorkers?: number;
  /** How wakeups are paired with registers (tests shorten the window). */
  wakeupMatch?: Partial<WakeupMatchOptions>;
  /** Where the container's memory limit is read (tests give a file of their own). */
  cgroupMemoryFiles?: readonly string[];
}

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

type Role = 'single' | 'primary' | 'worker';

/**
 * What every stage of the assembly reads: the settings, and the services the components share
 * (src/host.ts: the metric store, the ingest counters, the logger, the attribute folding, the
 * telemetry pipeline's outputs).
 */
interface SidecarHost extends Host {
  options: SidecarOptions;
  settings: SidecarSettings;
  /** A cluster worker of a primary with --workers > 1 serves the gRPC receiver and its outputs only. */
  role: Role;
  workerCount: number;
  otel: OtelConfig;
  logger: SidecarLogger;
  store: MetricStore;
  stats: IngestStats;
  telemetry: TelemetryPipeline;
  signals: TelemetryPipeline;
  startedAt: number;
}

/** What events become, and the checks on them. */
interface Outputs {
  metrics: MetricsSink;
  sessions: SessionTracker;
  wakeups: UnregisteredWakeups | null;
  logs: LogSink | null;
  spans: SpanSink | null;
  printer: EventPrinter | null;
  fanout: FanoutSink;
  coverage: HookCoverage | null;
  reconciler: BrokerReconciler | null;
  snapshot: SnapshotLifecycle | null;
}

/** The fronts events arrive through. */
interface Receivers {
  tcp: TcpReceiver;
  grpc: GrpcReceiver | null;
  pool: GrpcWorkerPool | null;
  reporter: WorkerReporter | null;
}

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const host = await createHost(options);
  // The wakeup matcher waits for the slowest plugin connection, which the TCP receiver (built
  // after the outputs it feeds) knows.
  const late: { tcp?: TcpReceiver } = {};
  const outputs = createOutputs(host, () => late.tcp?.lowWatermark());
  const receivers = createReceivers(host, outputs);
  late.tcp = receivers.tcp;
  const { parts, admin } = assemble(host, outputs, receivers);
  await startOrExplain(host, parts);
  if (host.role === 'worker') {
    return {
      address: { address: host.settings.listen.host, port: 0, family: 'IPv4' },
      adminAddress: null,
      grpcAddress: receivers.grpc?.address ?? null,
      stats: host.stats,
      telemetry: host.telemetry,
      component: (type) => parts.find(type),
      status: () => parts.status(),
      stop: () => parts.stop(Date.now() + host.settings.shutdownTimeoutMs),
    };
  }
  announce(host, admin);
  let stopping: Promise<void> | undefined;
  return {
    address: receivers.tcp.address!,
    adminAddress: admin.address,
    grpcAddress: receivers.grpc?.address ?? receivers.pool?.address ?? null,
    stats: host.stats,
    telemetry: host.telemetry,
    component: (type) => parts.find(type),
    status: () => parts.status(),
    stop: () => (stopping ??= stopWithin(host, parts, admin)),
  };
}

/** The settings resolved (workers, role, OTEL_*) and the shared services. */
async function createHost(options: SidecarOptions): Promise<SidecarHost> {
  const { settings } = options;
  const parsedOtel = options.otel ?? parseOtelConfig(process.env);
  // The components' rules across options (the CLI has checked them with the flags already).
  const problems = validateSettings(settings, parsedOtel);
  if (problems.length > 0) throw new ConfigError(problems);
  const workerCount = resolveWorkers(settings, options.autoWorkers);
  const role: Role = isGrpcWorker() ? 'worker' : workerCount > 1 ? 'primary' : 'single';
  // A worker's metrics go to the primary, which exports one set of series.
  const otel: OtelConfig = role === 'worker' ? { ...parsedOtel, metricsExporters: [] } : parsedOtel;
  const logger = options.logger ?? new SidecarLogger(settings.logLevel);
  routeGrpcJsLog(logger);
  const startedAt = Date.now();
  const store = new MetricStore();
  const stats = new IngestStats(settings.grpcListen ? ['tcp', 'grpc'] : ['tcp']);
  const instanceId = otel.resourceAttributes['service.instance.id'] ?? `${os.hostname()}:${settings.listen.port}`;
  const telemetry = await TelemetryPipeline.create({
    otel,
    store,
    logger,
    version: VERSION,
    instanceId,
    logQueueMaxBytes: role === 'worker' ? Math.floor(settings.logQueueMaxBytes / workerCount) : settings.logQueueMaxBytes,
    // A deltas-mode replica's connected gauge is its share of a sum: as deltas, the Collector
    // accumulates it across the replica's restarts (docs/scaling.md, "Exact across rollouts").
    deltaShares: settings.gaugeMode === 'deltas' ? new Set([MQTT_METRICS.connected.name]) : undefined,
    traceServiceName: settings.traceServiceName,
  });
  const attributes = new AttributeFolding({ maxMountpoints: settings.maxMountpoints, clientGroups: settings.clientGroups });
  return { options, settings, role, workerCount, otel, logger, store, stats, attributes, telemetry, signals: telemetry, startedAt };
}

/** Outputs: what events become (metrics, session state, log records, spans), and the checks on them. */
function createOutputs(host: SidecarHost, lowWatermark: () => number | undefined): Outputs {
  const { settings, options, logger, store, stats, role } = host;
  const metrics = new MetricsSink(host, settings);
  // After the metrics sink's families, where /metrics has always shown them.
  host.attributes.registerMetrics(store);
  const sessions = new SessionTracker(host, { maxClients: settings.maxTrackedClients, mode: settings.gaugeMode });
  if (settings.gaugeMode === 'deltas' && host.attributes.clientGrouper?.usesUsernames) {
    logger.warn('--gauge-mode deltas: mqtt.client.connected is grouped by the client id patterns of --client-groups only', {
      why: 'a wakeup carries no username, so user: patterns could put the +1 and the -1 of one connection in different groups; other metrics use every pattern',
    });
  }
  const reconciler = settings.brokerMetricsUrl && role !== 'worker'
    ? new BrokerReconciler(
        settings.brokerMetricsUrl,
        settings.brokerScrapeIntervalMs,
        settings.brokerScrapeTimeoutMs,
        stats,
        // A deltas-mode gauge is a share of a sum over several sidecars: nothing to compare.
        settings.gaugeMode === 'deltas' ? null : () => sessions.connectedTotal(),
        logger,
      )
    : null;
  // The snapshot says whether this process took over from another (created below, read later).
  const holder: { snapshot: SnapshotLifecycle | null } = { snapshot: null };
  const wakeups = createWakeupMatcher(host, reconciler, lowWatermark, () => holder.snapshot?.restoredState ?? false);
  const logs = createLogSink(host);
  const spans = createSpanSink(host, metrics, logs);
  const printer = settings.printEvents ? new EventPrinter(process.stdout, logger) : null;
  const fanout = new FanoutSink([
    // First: one sighting of each event's attribute values, whichever outputs read them.
    host.attributes,
    metrics,
    sessions,
    ...(wakeups ? [wakeups] : []),
    ...(logs ? [logs] : []),
    ...(spans ? [spans] : []),
    ...(printer ? [printer] : []),
    ...(options.sinks ?? []),
  ]);
  // Checks on the outputs: hooks the gauges need, the broker's own counts, state across restarts.
  const coverage = role === 'worker' ? null : new HookCoverage(stats, logger, options.hookCoverage, Date.now, {
    endsUnseen: () => sessions.endsUnseen,
    brokerAttempts: () => reconciler?.last?.attempts,
  });
  holder.snapshot = settings.stateFile && role !== 'worker'
    ? new SnapshotLifecycle(new SessionSnapshot(settings.stateFile, sessions, reconciler?.snapshotSection()), { intervalMs: settings.stateIntervalMs, maxAgeMs: settings.stateMaxAgeMs }, logger)
    : null;
  return { metrics, sessions, wakeups, logs, spans, printer, fanout, coverage, reconciler, snapshot: holder.snapshot };
}

/**
 * Pairing a wakeup with its register needs both events, which deltas mode's replicas each see a
 * random share of: every replica would count most MQTT 3.1.1 wakeups as unregistered. None there.
 */
function createWakeupMatcher(host: SidecarHost, reconciler: BrokerReconciler | null, lowWatermark: () => number | undefined, restarted: () => boolean): UnregisteredWakeups | null {
  const { settings, options, logger, stats, role } = host;
  if (settings.gaugeMode === 'deltas' || role === 'worker') return null;
  const wakeupMatch = { ...DEFAULT_WAKEUP_MATCH, ...options.wakeupMatch };
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
      lowWatermark,
    },
    ...(reconciler ? { broker: reconciler } : {}),
    restarted,
  });
  if (reconciler) {
    // Registers the broker failed to send (or sent into a dead process) in a scrape interval:
    // its wakeups cannot be told from MQTT 5 ones.
    reconciler.onScrape = (r) => {
      if ((r.lostSince.get('on_register') ?? 0) > 0) wakeups.holdOff((r.previousAt ?? -Infinity) - wakeupMatch.windowMs, r.at + wakeupMatch.windowMs);
    };
  }
  return wakeups;
}

function redaction(settings: SidecarSettings) {
  return settings.redact.length > 0 ? { fields: settings.redact, mode: settings.redactMode, key: settings.redactKey } : null;
}

function createLogSink(host: SidecarHost): LogSink | null {
  const { settings, telemetry } = host;
  if (!telemetry.logOutput) return null;
  return new LogSink(telemetry.logOutput, telemetry.resource, telemetry.scope, {
    ratios: settings.logHooks,
    tracedMessages: settings.logTracedMessages,
    traceContextField: settings.traceContextField,
    payloadMaxBytes: settings.logPayloadBytes,
    userProperties: settings.logUserProperties,
    redact: redaction(settings),
    limits: host.otel.logRecordLimits,
    topicGroups: settings.topicGroups,
    clientGrouper: host.attributes.clientGrouper,
  });
}

function createSpanSink(host: SidecarHost, metrics: MetricsSink, logs: LogSink | null): SpanSink | null {
  const { settings, telemetry, store } = host;
  if (!telemetry.spanOutput) return null;
  const spans = new SpanSink(telemetry.spanOutput, {
    traceContextField: settings.traceContextField,
    reorderWindowMs: settings.traceReorderWindowMs,
    completionWaitMs: settings.traceCompletionWaitMs,
    receiptRetentionMs: settings.traceReceiptRetentionMs,
    maxEntries: settings.traceStateMaxEntries,
    maxBytes: settings.traceStateMaxBytes,
    redact: redaction(settings),
    redactor: logs?.redactor ?? null,
    topicGroups: settings.topicGroups,
    durationSeries: (acl, topic, qos) => metrics.deliveryDurationSeries(acl, topic, qos),
  });
  const M = SIDECAR_METRICS;
  const entries = store.gauge(M.traceStateEntries);
  const evicted = store.sum(M.traceStateEvicted);
  const unknown = store.sum(M.deliveriesWithoutReceipt);
  store.onCollect(() => {
    entries.get().value = spans.entries;
    for (const k of TRACE_STATE_KINDS) evicted.get(k).value = spans.evicted[k];
    unknown.get().value = spans.receiptUnknown;
  });
  return spans;
}

/**
 * Receivers: two fronts (the plugin's TCP pool, its gRPC calls), one ingest core behind them
 * (decode, count, outputs). One decoder for both: decoding is synchronous, so its scratch state
 * is never shared by two events at once, and its per-hook functions are optimised once.
 */
function createReceivers(host: SidecarHost, outputs: Outputs): Receivers {
  const { settings, options, logger, store, stats, role, workerCount } = host;
  // What the outputs read of each event: the decoders produce just those fields.
  const fields = fieldsForOutputs({
    topicGroups: settings.topicGroups.length > 0,
    clientGroups: settings.clientGroups.length > 0,
    logRatios: outputs.logs === null ? null : settings.logHooks,
    logTracedMessages: settings.logTracedMessages,
    readsEverything: settings.printEvents || (options.sinks?.length ?? 0) > 0,
    spans: outputs.spans !== null,
  });
  const ingest = new IngestCore(outputs.fanout, stats, logger, new EventDecoder(undefined, fields, 'fields', { reuseEvents: true }));
  const tcp = new TcpReceiver(
    {
      host: settings.listen.host,
      port: settings.listen.port,
      maxFrameBytes: settings.maxFrameBytes,
      maxConnections: settings.maxConnections,
      // Workers split the memory budgets: N processes hold what one would.
      maxBufferedBytes: role === 'worker' ? Math.floor(settings.maxBufferedBytes / workerCount) : settings.maxBufferedBytes,
    },
    ingest,
    stats,
    logger,
  );
  const grpc = settings.grpcListen && role !== 'primary'
    ? new GrpcReceiver(
        {
          host: settings.grpcListen.host,
          port: settings.grpcListen.port,
          // Each worker its own socket on the port, balanced by the kernel (Node >= 22.12);
          // else (and for port 0, which would give each worker a port of its own) the cluster
          // primary hands connections out.
          reusePort: role === 'worker' && settings.grpcListen.port !== 0 && reusePortSupported(),
          maxMessageBytes: settings.maxFrameBytes,
          maxConnections: settings.grpcMaxConnections,
          maxStreams: settings.grpcMaxStreams,
          budget: tcp.budget,
        },
        ingest,
        stats,
        logger,
      )
    : null;
  if (grpc) host.attributes.report(grpc.userTypes);
  const pool = role === 'primary' ? new GrpcWorkerPool(workerCount, stats, logger, {}, settings.grpcListen!.host) : null;
  const reporter = role === 'worker' && grpc ? new WorkerReporter((final) => workerReport(store, stats, grpc, final)) : null;
  return { tcp, grpc, pool, reporter };
}

/**
 * The components in start order: the admin listener first, the receivers last (the state is
 * loaded and every output is ready before the first event); stop order is the reverse. The
 * first entry is the shape of /status when optional parts are off.
 */
function assemble(host: SidecarHost, o: Outputs, r: Receivers): { parts: ComponentSet; admin: AdminServer } {
  const { settings, role, stats, store, telemetry, logger, workerCount, startedAt } = host;
  const { tcp, grpc, pool, reporter } = r;
  const admin: AdminServer = new AdminServer(
    {
      // Not ready while a new plugin connection would be refused (every slot held by a sender).
      ready: () => tcp.acceptingConnections && (grpc?.listening ?? true) && (pool?.listening ?? true),
      metrics: telemetry.prometheusEnabled ? () => telemetry.prometheusText() : null,
      status: () => parts.status(),
    },
    logger,
    resolveAdminListen(settings, host.otel),
  );
  const worker = role === 'worker';
  const { logs, printer, spans } = o;
  const parts: ComponentSet = new ComponentSet([
    { status: () => ({ version: VERSION, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), gaugeMode: settings.gaugeMode, workers: workerCount, grpc: null, snapshot: null, broker: null, logs: null, spans: null }) },
    ...(worker ? [] : [admin]),
    telemetry,
    ...(worker ? [] : [new RuntimeMetrics()]),
    // In a worker the ingest counters go to the primary in its reports, not as metrics.
    ...(worker ? [{ status: () => stats.status() }] : [stats]),
    ...(o.coverage ? [o.coverage] : []),
    o.sessions,
    ...(o.wakeups ? [o.wakeups] : []),
    ...(o.snapshot ? [o.snapshot] : []),
    ...(o.reconciler ? [o.reconciler] : []),
    ...(logs ? [{ status: () => ({ logs: { emitted: logs.emitted } }) }] : []),
    ...(printer ? [{ status: () => printer.status() }] : []),
    ...(spans ? [{ status: () => ({ spans: { produced: spans.spans, stateEntries: spans.entries, stateBytes: spans.heldBytes, receiptUnknown: spans.receiptUnknown, evicted: spans.evicted } }) }] : []),
    o.fanout,
    ...(worker ? [] : [tcp]),
    // A worker's reporter stops after its receiver (stop order is reversed): its final report
    // holds the calls answered while draining.
    ...(reporter ? [reporter] : []),
    ...(grpc && worker ? [{ start: () => grpc.start(), stop: (d?: number) => grpc.stop(d), status: () => grpc.status() }] : grpc ? [grpc] : []),
    ...(pool ? [pool] : []),
    // Last: says "not seen yet" only once the receivers listen (not before a start that fails).
    // The companion's events arrive over TCP, which a gRPC worker does not serve.
    ...(worker ? [] : [new Mqtt5Companion(stats, logger)]),
  ]);
  parts.registerMetrics(store);
  store.gauge(SIDECAR_METRICS.gaugeMode).get(settings.gaugeMode).value = 1;
  // Last: the workers' series are added after every component has set its own.
  pool?.registerMergeLast(store);
  return { parts, admin };
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

/** Stops through the component contract within --shutdown-timeout; past it, gives up on the queues. */
async function stopWithin(host: SidecarHost, parts: ComponentSet, admin: AdminServer): Promise<void> {
  const { logger, telemetry } = host;
  const timeoutMs = host.settings.shutdownTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<true>((r) => (timer = setTimeout(() => r(true), timeoutMs)));
  const late = await Promise.race([parts.stop(Date.now() + timeoutMs).then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    logger.warn('shutdown timed out; exiting with work left undone', { timeoutMs });
    telemetry.logQueue?.abandon();
    telemetry.spanQueue?.abandon();
    await Promise.race([admin.stop(), new Promise((r) => setTimeout(r, 100).unref())]);
  }
}
