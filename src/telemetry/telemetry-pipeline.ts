/**
 * The OpenTelemetry SDK side: a MeterProvider whose readers (periodic OTLP export, Prometheus
 * pull, console) collect from the metric store, and the export chains (export-helper/) that
 * batch the log sink's records and the span sink's spans to the configured exporters.
 * Everything here runs off the hot path.
 */
import os from 'node:os';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { setGlobalErrorHandler, type InstrumentationScope } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  DataPointType,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { prometheusName } from '../metrics/prometheus-naming.js';
import { StoreMetricProducer } from './metric-producer.js';
import { QueuedExporter, type QueuedExporterOptions } from './export-helper/queued-exporter.js';
import type { ItemExporter } from './export-helper/export-item.js';
import { CountingMetricExporter, ObservedExporter } from './observed-exporters.js';
import { diagAdapter, errorHandler } from './otel-diagnostics.js';
import { writeExportCounts, type ExportCountSeries } from './export-helper/export-accounting.js';
import { ReadableLogExporter } from './readable-log-exporter.js';
import { createOtlpLogExporter, createOtlpMetricExporter, createOtlpSpanExporter, takesEncodedLogRecords } from './exporters.js';
import type { BrokerSpan } from '../traces/broker-span.js';
import type { LogRecordOutput, WireLogOutput } from '../sinks/log-record-builder.js';
import { LogRecordEncoder } from './otlp/log-record-encoder.js';
import { ExportOutage } from './export-outage.js';
import type { OtelConfig, OtlpProtocol } from './otel-config.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import { maskUrl } from '../logging/url-masking.js';
import type { Component, StatusReport } from '../lifecycle/component.js';

export interface TelemetryOptions {
  otel: OtelConfig;
  store: MetricStore;
  logger: SidecarLogger;
  version: string;
  /** Default service.instance.id (OTEL_RESOURCE_ATTRIBUTES may override it). */
  instanceId: string;
  /** --log-queue-max-bytes: bytes of log records queued at most (beside OTEL_BLRP_MAX_QUEUE_SIZE). */
  logQueueMaxBytes?: number;
  /** Up-down counters exported as deltas under delta temporality (metric-producer.ts). */
  deltaShares?: ReadonlySet<string>;
  /** --trace-service-name: service.name of the spans' resource (default vernemq). */
  traceServiceName?: string;
}

/** A reader that only collects when asked (the admin listener's /metrics). */
class PullMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The semconv otel.component.type of our OTLP exporter for a signal (otlp_grpc_log_exporter, ...). */
export function exporterComponentType(protocol: OtlpProtocol, signal: 'log' | 'metric' | 'span'): string {
  const p = protocol === 'grpc' ? 'grpc' : protocol === 'http/json' ? 'http_json' : 'http';
  return `otlp_${p}_${signal}_exporter`;
}

/** The sidecar's resource: service and host, then OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME. */
function sidecarResource(o: TelemetryOptions): Resource {
  const otel = o.otel;
  return resourceFromAttributes({
    'service.name': otel.serviceName,
    'service.version': o.version,
    'service.instance.id': o.instanceId,
    'host.name': os.hostname(),
    ...otel.resourceAttributes,
    ...(otel.serviceName ? { 'service.name': otel.serviceName } : {}),
  });
}

interface MetricReaders {
  readers: MetricReader[];
  prometheusReader: PullMetricReader | null;
  metricExporter: CountingMetricExporter | null;
}

/** A reader per OTEL_METRICS_EXPORTER entry: Prometheus pull, periodic OTLP, console. */
async function metricReaders(o: TelemetryOptions): Promise<MetricReaders> {
  const { otel, store, logger } = o;
  const out: MetricReaders = { readers: [], prometheusReader: null, metricExporter: null };
  const periodic = (exporter: PushMetricExporter, producer: StoreMetricProducer) =>
    new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: otel.metricExportIntervalMillis,
      exportTimeoutMillis: Math.min(otel.metricExportTimeoutMillis, otel.metricExportIntervalMillis),
      metricProducers: [producer],
    });
  for (const name of otel.metricsExporters) {
    if (name === 'prometheus') {
      out.prometheusReader = new PullMetricReader({ metricProducers: [new StoreMetricProducer(store, 'cumulative', o.version)] });
      out.readers.push(out.prometheusReader);
    } else if (name === 'otlp') {
      const outage = new ExportOutage(logger, { signal: 'metrics', endpoint: maskUrl(otel.metrics.url), warn: true });
      out.metricExporter = new CountingMetricExporter(await createOtlpMetricExporter(otel.metrics), outage);
      out.readers.push(periodic(out.metricExporter, new StoreMetricProducer(store, otel.temporality, o.version, o.deltaShares)));
    } else if (name === 'console') {
      out.readers.push(periodic(new ConsoleMetricExporter(), new StoreMetricProducer(store, 'cumulative', o.version)));
    }
  }
  return out;
}

/**
 * An OTLP exporter behind the export chain. The chain writes the WARN lines (it knows its
 * back-off); the outage tracker adds the recovery line, with what was lost (`lostKey`).
 */
function otlpExportChain(o: TelemetryOptions, signal: 'logs' | 'traces', exporter: ItemExporter, options: QueuedExporterOptions): QueuedExporter {
  let chain: QueuedExporter | null = null;
  const lostKey = signal === 'logs' ? 'droppedRecords' : 'droppedSpans';
  const outage = new ExportOutage(o.logger, {
    signal,
    endpoint: maskUrl(o.otel[signal].url),
    warn: false,
    lost: () => ({ [lostKey]: chain ? chain.dropped.queue_full + chain.dropped.export_failed : 0 }),
  });
  chain = new QueuedExporter(new ObservedExporter(exporter, outage), options, o.logger);
  return chain;
}

interface LogExport {
  queue: QueuedExporter | null;
  /** http/protobuf: records go to the queue as handles into this encoder (log-sink.ts writes them). */
  encoder: LogRecordEncoder | null;
}

/** The log records' export chain for the first OTEL_LOGS_EXPORTER: OTLP, console, or none. */
async function logExport(o: TelemetryOptions, resource: Resource, scope: InstrumentationScope): Promise<LogExport> {
  const { otel, logger } = o;
  const first = otel.logsExporters[0];
  const options = { ...otel.blrp, maxQueueBytes: o.logQueueMaxBytes };
  if (first === undefined || first === 'none') return { queue: null, encoder: null };
  if (first !== 'otlp') return { queue: new QueuedExporter(new ReadableLogExporter(), options, logger), encoder: null };
  const encoder = takesEncodedLogRecords(otel.logs) ? new LogRecordEncoder() : null;
  const exporter = await createOtlpLogExporter(otel.logs, encoder ? { resource, scope, encoder } : undefined);
  const queue = otlpExportChain(o, 'logs', exporter, options);
  queue.store = encoder;
  return { queue, encoder };
}

/** The spans' export chain when OTEL_TRACES_EXPORTER is otlp (spans have no local form). */
async function spanExport(o: TelemetryOptions, resource: Resource, scope: InstrumentationScope): Promise<QueuedExporter | null> {
  if (o.otel.tracesExporters[0] !== 'otlp') return null;
  // The spans of the broker hop: the broker node's resource under its own service.name.
  const traceResource = resourceFromAttributes({ ...resource.attributes, 'service.name': o.traceServiceName ?? 'vernemq' });
  const exporter = await createOtlpSpanExporter(o.otel.traces, traceResource, scope);
  return otlpExportChain(o, 'traces', exporter, { ...o.otel.bsp, signal: { name: 'span', items: 'spans' } });
}

/** The OpenTelemetry SDK side: metric readers and exporters, the export chains of log records and spans. */
export class TelemetryPipeline implements Component {
  readonly resource: Resource;
  readonly meterProvider: MeterProvider;
  /** Instrumentation scope of the log records. */
  readonly scope: InstrumentationScope;
  /** Where the log sink puts records; null when OTEL_LOGS_EXPORTER=none. */
  readonly logOutput: LogRecordOutput | WireLogOutput | null;
  readonly logQueue: QueuedExporter | null;
  /** The span export chain; null unless spans are exported (OTEL_TRACES_EXPORTER). */
  readonly spanQueue: QueuedExporter | null;
  /** Where the span sink puts finished spans; null when spans are off. */
  readonly spanOutput: ((span: BrokerSpan) => void) | null;
  private readonly prometheusReader: PullMetricReader | null;
  private readonly metricExporter: CountingMetricExporter | null;
  private readonly otel: OtelConfig;
  private readonly serializer = new PrometheusSerializer('', false, undefined, false, false);

  private constructor(parts: {
    resource: Resource;
    meterProvider: MeterProvider;
    logs: LogExport;
    spanQueue: QueuedExporter | null;
    metrics: MetricReaders;
    otel: OtelConfig;
    scope: InstrumentationScope;
  }) {
    this.otel = parts.otel;
    this.resource = parts.resource;
    this.meterProvider = parts.meterProvider;
    const spans = parts.spanQueue;
    this.spanQueue = spans;
    this.spanOutput = spans ? (span) => spans.add(span) : null;
    this.prometheusReader = parts.metrics.prometheusReader;
    this.metricExporter = parts.metrics.metricExporter;
    this.scope = parts.scope;
    const { queue, encoder } = parts.logs;
    this.logQueue = queue;
    // http/protobuf: records go to the queue as their OTLP bytes (log-sink.ts writes them).
    this.logOutput = queue ? (encoder ? { encoding: 'otlp-protobuf', encoder, add: (handle) => queue.add(handle) } : (record) => queue.add(record)) : null;
  }

  static async create(o: TelemetryOptions): Promise<TelemetryPipeline> {
    let metrics: MetricReaders | null = null;
    diag.setLogger(
      diagAdapter(o.logger, () => metrics?.metricExporter?.outage ?? null),
      DiagLogLevel.WARN,
    );
    setGlobalErrorHandler(errorHandler(o.logger));
    const resource = sidecarResource(o);
    metrics = await metricReaders(o);
    const meterProvider = new MeterProvider({ resource, readers: metrics.readers });
    const scope: InstrumentationScope = { name: 'vmq-otel-sidecar', version: o.version };
    const logs = await logExport(o, resource, scope);
    if (o.otel.logsExporters.length > 1) o.logger.warn('only the first OTEL_LOGS_EXPORTER is used', { used: o.otel.logsExporters[0] });
    const spanQueue = await spanExport(o, resource, scope);
    return new TelemetryPipeline({ resource, meterProvider, logs, spanQueue, metrics, otel: o.otel, scope });
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

  registerMetrics(store: MetricStore): void {
    const M = SIDECAR_METRICS;
    // Families in the order /metrics has always listed them: the log queue's, the export
    // failures, the span queue's (dashboards and golden files diff that text).
    const processed = store.sum(M.logRecordsProcessed);
    const exported = store.sum(M.logRecordsExported);
    const queueSize = store.sum(M.logQueueSize);
    const queueCapacity = store.sum(M.logQueueCapacity);
    const exportFailures = store.sum(M.exportFailures);
    const logSeries: ExportCountSeries = { processed, exported, queueSize, queueCapacity, exportFailures };
    const spanSeries: ExportCountSeries = {
      processed: store.sum(M.spansProcessed),
      exported: store.sum(M.spansExported),
      queueSize: store.sum(M.spanQueueSize),
      queueCapacity: store.sum(M.spanQueueCapacity),
      exportFailures,
    };
    // The export chains play the SDK's batching processors' part and our OTLP exporters the
    // exporters', so their counts take the SDK's self-metric names (semconv otel.sdk.*). The
    // SDK's own self-metrics stay off (no selfObsMeterProvider is ever given), so nothing is
    // counted twice.
    const logExporter = exporterComponentType(this.otel.logs.protocol, 'log');
    const spanExporter = exporterComponentType(this.otel.traces.protocol, 'span');
    const metricExporter = exporterComponentType(this.otel.metrics.protocol, 'metric');
    store.onCollect(() => {
      const q = this.logQueue;
      if (q) writeExportCounts(q.accounting, { queued: q.queued, capacity: q.options.maxQueueSize }, logSeries, 'batching_log_processor', logExporter);
      const s = this.spanQueue;
      if (s) writeExportCounts(s.accounting, { queued: s.queued, capacity: s.options.maxQueueSize }, spanSeries, 'batching_span_processor', spanExporter);
      // A zero series without error.type, so that rate() reads 0 before the first failure.
      exportFailures.get(metricExporter, '');
      for (const [type, n] of this.metricExporter?.outage.failuresByType.counts ?? []) exportFailures.get(metricExporter, type).value = n;
    });
  }

  /** Past the shutdown deadline: the records and spans still queued are counted as lost (reason shutdown). */
  abandon(): void {
    this.logQueue?.abandon();
    this.spanQueue?.abandon();
  }

  /** Exports what is pending; half a second before the deadline is kept for what runs after. */
  stop(deadline: number): Promise<void> {
    return this.shutdown(Math.max(100, deadline - Date.now() - 500));
  }

  status(): StatusReport {
    const q = this.logQueue;
    const otel = this.otel;
    return {
      logs: q ? { exported: q.exported, queued: q.queued, exporting: q.exporting, dropped: q.dropped } : null,
      spans: this.spanQueue ? { exported: this.spanQueue.exported, queued: this.spanQueue.queued, exporting: this.spanQueue.exporting, dropped: this.spanQueue.dropped } : null,
      exporters: {
        metrics: otel.metricsExporters,
        logs: otel.logsExporters,
        traces: otel.tracesExporters,
        embeddedDefault: otel.embeddedDefault,
        // Credentials in an endpoint URL are masked (url-masking.ts).
        ...(otel.metricsExporters.includes('otlp') ? { metricsEndpoint: maskUrl(otel.metrics.url) } : {}),
        ...(otel.logsExporters.includes('otlp') ? { logsEndpoint: maskUrl(otel.logs.url) } : {}),
        ...(otel.tracesExporters.includes('otlp') ? { tracesEndpoint: maskUrl(otel.traces.url) } : {}),
      },
    };
  }

  /** Exports what is pending (metrics and log records) and stops, within timeoutMs. */
  async shutdown(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs).unref()));
    await Promise.race([
      Promise.allSettled([this.meterProvider.shutdown({ timeoutMillis: timeoutMs }), this.logQueue?.shutdown(timeoutMs), this.spanQueue?.shutdown(timeoutMs)]).then(() => undefined),
      deadline,
    ]);
    clearTimeout(timer);
    // Whatever did not make it is counted as lost (reason shutdown), never silently forgotten.
    this.logQueue?.abandon();
    this.spanQueue?.abandon();
  }
}
