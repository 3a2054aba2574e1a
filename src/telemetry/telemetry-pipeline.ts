/**
 * The OpenTelemetry SDK side: a MeterProvider whose readers (periodic OTLP export, Prometheus
 * pull, console) collect from the metric store, and the export queue that batches the log
 * sink's records to the configured exporter. Everything here runs off the hot path.
 */
import os from 'node:os';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult, type InstrumentationScope } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  ConsoleMetricExporter,
  DataPointType,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
  type InstrumentType,
} from '@opentelemetry/sdk-metrics';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { prometheusName } from '../metrics/prometheus-naming.js';
import { StoreMetricProducer } from './metric-producer.js';
import { LogExportQueue } from './log-export-queue.js';
import { ReadableLogExporter } from './readable-log-exporter.js';
import { createOtlpLogExporter, createOtlpMetricExporter } from './exporters.js';
import type { OtelConfig } from './otel-config.js';

export interface TelemetryOptions {
  otel: OtelConfig;
  store: MetricStore;
  logger: SidecarLogger;
  version: string;
  /** Default service.instance.id (OTEL_RESOURCE_ATTRIBUTES may override it). */
  instanceId: string;
}

/** A reader that only collects when asked (the admin listener's /metrics). */
class PullMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** Counts and reports failed metric exports; otherwise passes through. */
class CountingMetricExporter implements PushMetricExporter {
  failures = 0;
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly logger: SidecarLogger,
  ) {}

  export(metrics: ResourceMetrics, done: (r: ExportResult) => void): void {
    this.inner.export(metrics, (r) => {
      if (r.code !== ExportResultCode.SUCCESS) {
        this.failures++;
        this.logger.limited('warn', 'metric-export-failed', 30_000, 'metric export failed; the next export carries the totals', {
          error: r.error?.message ?? 'unknown error',
          failures: this.failures,
        });
      }
      done(r);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(t: InstrumentType): AggregationTemporality {
    return this.inner.selectAggregationTemporality?.(t) ?? AggregationTemporality.CUMULATIVE;
  }
}

/** OpenTelemetry's internal diagnostics into our log, rate-limited. */
function diagAdapter(logger: SidecarLogger): DiagLogger {
  const limited = (level: 'warn' | 'error') => (message: string, ...args: unknown[]) =>
    logger.limited(level, `otel-diag-${level}`, 30_000, `opentelemetry: ${message}`, args.length > 0 ? { detail: args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') } : undefined);
  return { error: limited('error'), warn: limited('warn'), info: () => {}, debug: () => {}, verbose: () => {} };
}

export class TelemetryPipeline {
  readonly resource: Resource;
  readonly meterProvider: MeterProvider;
  /** Instrumentation scope of the log records. */
  readonly scope: InstrumentationScope;
  /** Where the log sink puts records; null when OTEL_LOGS_EXPORTER=none. */
  readonly logOutput: ((record: ReadableLogRecord) => void) | null;
  readonly logQueue: LogExportQueue | null;
  private readonly prometheusReader: PullMetricReader | null;
  private readonly metricExporter: CountingMetricExporter | null;
  private readonly serializer = new PrometheusSerializer('', false, undefined, false, false);

  private constructor(parts: {
    resource: Resource;
    meterProvider: MeterProvider;
    logQueue: LogExportQueue | null;
    prometheusReader: PullMetricReader | null;
    metricExporter: CountingMetricExporter | null;
    version: string;
  }) {
    this.resource = parts.resource;
    this.meterProvider = parts.meterProvider;
    this.logQueue = parts.logQueue;
    this.prometheusReader = parts.prometheusReader;
    this.metricExporter = parts.metricExporter;
    this.scope = { name: 'vmq-otel-sidecar', version: parts.version };
    const queue = parts.logQueue;
    this.logOutput = queue ? (record) => queue.add(record) : null;
  }

  static async create(o: TelemetryOptions): Promise<TelemetryPipeline> {
    const { otel, store, logger } = o;
    diag.setLogger(diagAdapter(logger), DiagLogLevel.WARN);
    const resource = resourceFromAttributes({
      'service.name': otel.serviceName,
      'service.version': o.version,
      'service.instance.id': o.instanceId,
      'host.name': os.hostname(),
      ...otel.resourceAttributes,
      ...(otel.serviceName ? { 'service.name': otel.serviceName } : {}),
    });

    const readers: MetricReader[] = [];
    let prometheusReader: PullMetricReader | null = null;
    let metricExporter: CountingMetricExporter | null = null;
    const interval = otel.metricExportIntervalMillis;
    const timeout = Math.min(otel.metricExportTimeoutMillis, interval);
    for (const name of otel.metricsExporters) {
      if (name === 'prometheus') {
        prometheusReader = new PullMetricReader({ metricProducers: [new StoreMetricProducer(store, 'cumulative', o.version)] });
        readers.push(prometheusReader);
      } else if (name === 'otlp') {
        metricExporter = new CountingMetricExporter(await createOtlpMetricExporter(otel.metrics), logger);
        readers.push(
          new PeriodicExportingMetricReader({
            exporter: metricExporter,
            exportIntervalMillis: interval,
            exportTimeoutMillis: timeout,
            metricProducers: [new StoreMetricProducer(store, otel.temporality, o.version)],
          }),
        );
      } else if (name === 'console') {
        readers.push(
          new PeriodicExportingMetricReader({
            exporter: new ConsoleMetricExporter(),
            exportIntervalMillis: interval,
            exportTimeoutMillis: timeout,
            metricProducers: [new StoreMetricProducer(store, 'cumulative', o.version)],
          }),
        );
      }
    }
    const meterProvider = new MeterProvider({ resource, readers });

    let logQueue: LogExportQueue | null = null;
    const logsExporter = otel.logsExporters[0];
    if (logsExporter !== undefined && logsExporter !== 'none') {
      const exporter: LogRecordExporter = logsExporter === 'otlp' ? await createOtlpLogExporter(otel.logs) : new ReadableLogExporter();
      logQueue = new LogExportQueue(exporter, otel.blrp, logger);
    }
    if (otel.logsExporters.length > 1) logger.warn('only the first OTEL_LOGS_EXPORTER is used', { used: logsExporter });

    return new TelemetryPipeline({ resource, meterProvider, logQueue, prometheusReader, metricExporter, version: o.version });
  }

  get prometheusEnabled(): boolean {
    return this.prometheusReader !== null;
  }

  get metricExportFailures(): number {
    return this.metricExporter?.failures ?? 0;
  }

  /** The Prometheus text exposition, with the names the Collector would give the metrics. */
  async prometheusText(): Promise<string> {
    if (!this.prometheusReader) throw new Error('the prometheus metrics exporter is not enabled');
    const { resourceMetrics } = await this.prometheusReader.collect();
    const renamed: ResourceMetrics = {
      resource: resourceMetrics.resource,
      scopeMetrics: resourceMetrics.scopeMetrics.map((sm) => ({
        scope: sm.scope,
        metrics: sm.metrics.map((m) => {
          const type =
            m.dataPointType === DataPointType.SUM && m.isMonotonic ? 'counter' : m.dataPointType === DataPointType.HISTOGRAM ? 'histogram' : 'gauge';
          return { ...m, descriptor: { ...m.descriptor, name: prometheusName(m.descriptor.name, m.descriptor.unit, type) } };
        }),
      })),
    };
    return this.serializer.serialize(renamed);
  }

  /** Exports what is pending (metrics and log records) and stops, within timeoutMs. */
  async shutdown(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs).unref()));
    await Promise.race([
      Promise.allSettled([this.meterProvider.shutdown({ timeoutMillis: timeoutMs }), this.logQueue?.shutdown(timeoutMs)]).then(() => undefined),
      deadline,
    ]);
    clearTimeout(timer);
    // Whatever did not make it is counted as lost (reason shutdown), never silently forgotten.
    this.logQueue?.abandon();
  }
}
