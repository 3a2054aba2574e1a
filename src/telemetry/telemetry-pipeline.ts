/**
 * The OpenTelemetry SDK side: a MeterProvider whose readers (periodic OTLP export, Prometheus
 * pull, console) collect from the metric store, and the export queue that batches the log
 * sink's records to the configured exporter. Everything here runs off the hot path.
 */
import os from 'node:os';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode, setGlobalErrorHandler, type ExportResult, type InstrumentationScope } from '@opentelemetry/core';
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
import { StoreMetricProducer, settleDeltas } from './metric-producer.js';
import { LogExportQueue } from './log-export-queue.js';
import { ReadableLogExporter } from './readable-log-exporter.js';
import { createOtlpLogExporter, createOtlpMetricExporter, createOtlpSpanExporter, takesEncodedLogRecords, type SpanExporter } from './exporters.js';
import type { BrokerSpan } from '../traces/broker-span.js';
import type { LogRecordOutput, WireLogOutput } from '../sinks/log-record-builder.js';
import { LogRecordEncoder } from './log-protobuf-serializer.js';
import { ExportOutage, firstLine } from './export-outage.js';
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

/** Reports failed metric exports and their recovery (ExportOutage); otherwise passes through. */
class CountingMetricExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    readonly outage: ExportOutage,
  ) {}

  get failures(): number {
    return this.outage.failures;
  }

  export(metrics: ResourceMetrics, done: (r: ExportResult) => void): void {
    this.inner.export(metrics, (r) => {
      // With cumulative temporality the next export carries the totals; with delta, a failed
      // export's deltas are added into the next one (settleDeltas).
      const ok = r.code === ExportResultCode.SUCCESS;
      settleDeltas(metrics, ok);
      if (ok) this.outage.succeeded();
      else this.outage.failed(r.error);
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

/** Passes log exports through, telling the outage tracker how each ended. */
class ObservedLogExporter implements LogRecordExporter {
  constructor(
    private readonly inner: LogRecordExporter,
    private readonly outage: ExportOutage,
  ) {}

  export(records: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.inner.export(records, (r) => {
      if (r.code === ExportResultCode.SUCCESS) this.outage.succeeded();
      else this.outage.failed(r.error);
      done(r);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** Passes span exports through, telling the outage tracker how each ended. */
class ObservedSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly outage: ExportOutage,
  ) {}

  export(spans: BrokerSpan[], done: (r: ExportResult) => void): void {
    this.inner.export(spans, (r) => {
      if (r.code === ExportResultCode.SUCCESS) this.outage.succeeded();
      else this.outage.failed(r.error);
      done(r);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** The semconv otel.component.type of our OTLP exporter for a signal (otlp_grpc_log_exporter, ...). */
export function exporterComponentType(protocol: OtlpProtocol, signal: 'log' | 'metric' | 'span'): string {
  const p = protocol === 'grpc' ? 'grpc' : protocol === 'http/json' ? 'http_json' : 'http';
  return `otlp_${p}_${signal}_exporter`;
}

/** OpenTelemetry's internal diagnostics into our log, rate-limited, one line each (no stacks). */
function diagAdapter(logger: SidecarLogger, metricsOutage: () => ExportOutage | null): DiagLogger {
  const limited = (level: 'warn' | 'error') => (message: string, ...args: unknown[]) => {
    const detail = args.length > 0 ? { detail: args.map((a) => (a instanceof Error ? firstLine(a) : String(a).split('\n', 1)[0])).join(' ') } : undefined;
    // A slow collector: the periodic reader gives up waiting; an outage, not an internal error.
    // It goes through the OTLP exporter's outage tracker, so that a timeout and a refused
    // connection in the same outage make one WARN line per interval, not one of each.
    if (message.startsWith('PeriodicExportingMetricReader: metrics export timed out')) {
      const outage = metricsOutage();
      if (outage) outage.timedOut(message);
      else logger.limited('warn', 'metrics-export-timeout', 30_000, 'metrics export timed out; retrying', { error: message, ...detail });
      return;
    }
    logger.limited(level, `otel-diag-${level}`, 30_000, `opentelemetry: ${message.split('\n', 1)[0]}`, detail);
  };
  return { error: limited('error'), warn: limited('warn'), info: () => {}, debug: () => {}, verbose: () => {} };
}

/**
 * The SDK's periodic reader hands a failed export to the global error handler, whose default
 * writes the whole exception (stack included) as an error; the exporter wrapper has already
 * reported it, so only other errors get a line here.
 */
function errorHandler(logger: SidecarLogger): (err: unknown) => void {
  return (err) => {
    const message = err instanceof Error ? err.message : String(err);
    if (message.startsWith('PeriodicExportingMetricReader: metrics export failed')) return;
    logger.limited('warn', 'otel-error', 30_000, 'opentelemetry error', { error: message.split('\n', 1)[0] });
  };
}

/** The OpenTelemetry SDK side: metric readers and exporters, the log export queue. */
export class TelemetryPipeline implements Component {
  readonly resource: Resource;
  readonly meterProvider: MeterProvider;
  /** Instrumentation scope of the log records. */
  readonly scope: InstrumentationScope;
  /** Where the log sink puts records; null when OTEL_LOGS_EXPORTER=none. */
  readonly logOutput: LogRecordOutput | WireLogOutput | null;
  readonly logQueue: LogExportQueue | null;
  /** The span export queue; null unless spans are exported (OTEL_TRACES_EXPORTER). */
  readonly spanQueue: LogExportQueue | null;
  /** Where the span sink puts finished spans; null when spans are off. */
  readonly spanOutput: ((span: BrokerSpan) => void) | null;
  private readonly prometheusReader: PullMetricReader | null;
  private readonly metricExporter: CountingMetricExporter | null;
  private readonly otel: OtelConfig;
  private readonly serializer = new PrometheusSerializer('', false, undefined, false, false);

  private constructor(parts: {
    resource: Resource;
    meterProvider: MeterProvider;
    logQueue: LogExportQueue | null;
    spanQueue: LogExportQueue | null;
    prometheusReader: PullMetricReader | null;
    metricExporter: CountingMetricExporter | null;
    otel: OtelConfig;
    scope: InstrumentationScope;
    /** http/protobuf: records go to the queue as handles into this encoder (log-sink.ts writes them). */
    encoder: LogRecordEncoder | null;
  }) {
    this.otel = parts.otel;
    this.resource = parts.resource;
    this.meterProvider = parts.meterProvider;
    this.logQueue = parts.logQueue;
    const spans = parts.spanQueue;
    this.spanQueue = spans;
    this.spanOutput = spans ? (span) => spans.add(span) : null;
    this.prometheusReader = parts.prometheusReader;
    this.metricExporter = parts.metricExporter;
    this.scope = parts.scope;
    const queue = parts.logQueue;
    // http/protobuf: records go to the queue as their OTLP bytes (log-sink.ts writes them).
    const encoder = parts.encoder;
    this.logOutput = queue ? (encoder ? { encoding: 'otlp-protobuf', encoder, add: (handle) => queue.add(handle) } : (record) => queue.add(record)) : null;
  }

  static async create(o: TelemetryOptions): Promise<TelemetryPipeline> {
    const { otel, store, logger } = o;
    let metricsOutage: ExportOutage | null = null;
    diag.setLogger(
      diagAdapter(logger, () => metricsOutage),
      DiagLogLevel.WARN,
    );
    setGlobalErrorHandler(errorHandler(logger));
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
        metricsOutage = new ExportOutage(logger, { signal: 'metrics', endpoint: maskUrl(otel.metrics.url), warn: true });
        metricExporter = new CountingMetricExporter(await createOtlpMetricExporter(otel.metrics), metricsOutage);
        readers.push(
          new PeriodicExportingMetricReader({
            exporter: metricExporter,
            exportIntervalMillis: interval,
            exportTimeoutMillis: timeout,
            metricProducers: [new StoreMetricProducer(store, otel.temporality, o.version, o.deltaShares)],
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
    let encoder: LogRecordEncoder | null = null;
    const scope: InstrumentationScope = { name: 'vmq-otel-sidecar', version: o.version };
    const logsExporter = otel.logsExporters[0];
    if (logsExporter !== undefined && logsExporter !== 'none') {
      if (logsExporter === 'otlp') {
        // The queue writes the WARN lines (it knows its back-off); the tracker adds the recovery line.
        let queue: LogExportQueue | null = null;
        const outage = new ExportOutage(logger, {
          signal: 'logs',
          endpoint: maskUrl(otel.logs.url),
          warn: false,
          lost: () => ({ droppedRecords: queue ? queue.dropped.queue_full + queue.dropped.export_failed : 0 }),
        });
        if (takesEncodedLogRecords(otel.logs)) encoder = new LogRecordEncoder();
        const exporter = await createOtlpLogExporter(otel.logs, encoder ? { resource, scope, encoder } : undefined);
        queue = new LogExportQueue(new ObservedLogExporter(exporter, outage), { ...otel.blrp, maxQueueBytes: o.logQueueMaxBytes }, logger);
        queue.store = encoder;
        logQueue = queue;
      } else {
        logQueue = new LogExportQueue(new ReadableLogExporter(), { ...otel.blrp, maxQueueBytes: o.logQueueMaxBytes }, logger);
      }
    }
    if (otel.logsExporters.length > 1) logger.warn('only the first OTEL_LOGS_EXPORTER is used', { used: logsExporter });

    let spanQueue: LogExportQueue | null = null;
    if (otel.tracesExporters[0] === 'otlp') {
      // The spans of the broker hop: the broker node's resource under its own service.name.
      const traceResource = resourceFromAttributes({ ...resource.attributes, 'service.name': o.traceServiceName ?? 'vernemq' });
      let queue: LogExportQueue | null = null;
      const outage = new ExportOutage(logger, {
        signal: 'traces',
        endpoint: maskUrl(otel.traces.url),
        warn: false,
        lost: () => ({ droppedSpans: queue ? queue.dropped.queue_full + queue.dropped.export_failed : 0 }),
      });
      const exporter = await createOtlpSpanExporter(otel.traces, traceResource, scope);
      queue = new LogExportQueue(new ObservedSpanExporter(exporter, outage), { ...otel.bsp, signal: { name: 'span', items: 'spans' } }, logger);
      spanQueue = queue;
    }

    return new TelemetryPipeline({ resource, meterProvider, logQueue, spanQueue, prometheusReader, metricExporter, otel, scope, encoder });
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
    const processed = store.sum(M.logRecordsProcessed);
    const exported = store.sum(M.logRecordsExported);
    const queued = store.sum(M.logQueueSize);
    const capacity = store.sum(M.logQueueCapacity);
    const exportFailures = store.sum(M.exportFailures);
    const spansProcessed = store.sum(M.spansProcessed);
    const spansExported = store.sum(M.spansExported);
    const spanQueued = store.sum(M.spanQueueSize);
    const spanCapacity = store.sum(M.spanQueueCapacity);
    // The log export queue plays the SDK's batching log processor's part and our OTLP exporter
    // the exporter's, so their counts take the SDK's self-metric names (semconv otel.sdk.*).
    // The SDK's own self-metrics stay off (no selfObsMeterProvider is ever given), so nothing
    // is counted twice.
    const processor = 'batching_log_processor';
    const logExporter = exporterComponentType(this.otel.logs.protocol, 'log');
    const metricExporter = exporterComponentType(this.otel.metrics.protocol, 'metric');
    store.onCollect(() => {
      const q = this.logQueue;
      if (q) {
        const d = q.dropped;
        processed.get(processor, `${processor}/0`, '').value = q.exported + d.export_failed + d.rejected;
        processed.get(processor, `${processor}/0`, 'queue_full').value = d.queue_full;
        processed.get(processor, `${processor}/0`, 'shutdown').value = d.shutdown;
        exported.get(logExporter, `${logExporter}/0`, '').value = q.exported;
        exported.get(logExporter, `${logExporter}/0`, 'export_failed').value = d.export_failed;
        exported.get(logExporter, `${logExporter}/0`, 'rejected').value = d.rejected;
        queued.get(processor, `${processor}/0`).value = q.queued;
        capacity.get(processor, `${processor}/0`).value = q.options.maxQueueSize;
        exportFailures.get(logExporter, '');
        for (const [type, n] of q.failedByType.counts) exportFailures.get(logExporter, type).value = n;
      }
      const s = this.spanQueue;
      if (s) {
        // The same accounting as the log records', under the span names.
        const sp = 'batching_span_processor';
        const se = exporterComponentType(this.otel.traces.protocol, 'span');
        const d = s.dropped;
        spansProcessed.get(sp, `${sp}/0`, '').value = s.exported + d.export_failed + d.rejected;
        spansProcessed.get(sp, `${sp}/0`, 'queue_full').value = d.queue_full;
        spansProcessed.get(sp, `${sp}/0`, 'shutdown').value = d.shutdown;
        spansExported.get(se, `${se}/0`, '').value = s.exported;
        spansExported.get(se, `${se}/0`, 'export_failed').value = d.export_failed;
        spansExported.get(se, `${se}/0`, 'rejected').value = d.rejected;
        spanQueued.get(sp, `${sp}/0`).value = s.queued;
        spanCapacity.get(sp, `${sp}/0`).value = s.options.maxQueueSize;
        exportFailures.get(se, '');
        for (const [type, n] of s.failedByType.counts) exportFailures.get(se, type).value = n;
      }
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
