/**
 * The host of a running sidecar (host.ts says what a host is): the settings checked by every
 * component's rules, the role and --workers resolved, and the shared services made.
 */
import os from 'node:os';
import { MetricStore } from './metrics/metric-store.js';
import { SidecarLogger } from './logging/sidecar-logger.js';
import { IngestStats } from './receiver/ingest-stats.js';
import { AttributeFolding } from './metrics/attribute-folding.js';
import type { EventSink } from './sinks/event-sink.js';
import { ConfigError } from './config/option-parser.js';
import { validateSettings, type SidecarSettings } from './config/sidecar-config.js';
import { resolveWorkers } from './receiver/grpc-receiver-options.js';
import { isGrpcWorker } from './receiver/grpc-workers.js';
import { MQTT_METRICS } from './metrics/metric-catalog.js';
import { TelemetryPipeline } from './telemetry/telemetry-pipeline.js';
import { parseOtelConfig, type OtelConfig } from './telemetry/otel-config.js';
import type { HookCoverageOptions } from './reconcile/hook-coverage.js';
import type { WakeupMatchOptions } from './reconcile/unregistered-wakeups.js';
import { routeGrpcJsLog } from './logging/grpc-js-log.js';
import { VERSION } from './version.js';
import type { Host } from './host.js';

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

/** single: one process; primary: forks the gRPC workers and merges their metrics; worker: serves the gRPC listener and its outputs only. */
export type Role = 'single' | 'primary' | 'worker';

/** The host of a running sidecar: the shared services, and what the components' factories read. */
export interface SidecarHost extends Host {
  readonly options: SidecarOptions;
  readonly settings: SidecarSettings;
  readonly role: Role;
  readonly workerCount: number;
  readonly otel: OtelConfig;
  readonly telemetry: TelemetryPipeline;
  readonly startedAt: number;
}

/**
 * The settings checked by every component's rules (ConfigError naming each problem), the role
 * and --workers resolved, and the shared services made.
 */
export async function createHost(options: SidecarOptions): Promise<SidecarHost> {
  const { settings } = options;
  const parsedOtel = options.otel ?? parseOtelConfig(process.env);
  // The CLI has checked them with the flags already; an embedding program has not.
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
