/**
 * Builds the OTLP exporters for the configured protocol. The gRPC exporters (and grpc-js) are
 * loaded only when asked for.
 */
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ExportResult, InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { OtlpSignalConfig } from './otel-config.js';
import { isOtlpTime, otlpTime } from './otlp-time.js';
import type { LogRecordEncoder } from './otlp/log-record-encoder.js';
import type { BrokerSpan } from '../traces/broker-span.js';

/**
 * The SDK's serializers turn a time OTLP cannot carry into garbage (protobuf: wrapped modulo
 * 2^64) or into a request the collector refuses (JSON: a number beyond uint64). Records with
 * such a time are passed on as copies with time 0, "unknown" (otlp-time.ts); all others as is.
 */
class OtlpTimeGuard implements LogRecordExporter {
  constructor(private readonly inner: LogRecordExporter) {}

  export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    let out = logs;
    for (let i = 0; i < logs.length; i++) {
      const r = logs[i]!;
      if (isOtlpTime(r.hrTime) && isOtlpTime(r.hrTimeObserved)) continue;
      if (out === logs) out = logs.slice();
      out[i] = { ...r, hrTime: otlpTime(r.hrTime), hrTimeObserved: otlpTime(r.hrTimeObserved) };
    }
    this.inner.export(out, done);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function httpOptions(c: OtlpSignalConfig) {
  return {
    url: c.url,
    headers: c.headers,
    timeoutMillis: c.timeoutMillis,
    compression: c.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    // Always given, so that the exporter does not read the certificate variables from
    // process.env itself: the ones parseOtelConfig read and checked are used (an http://
    // endpoint ignores them).
    httpAgentOptions: { keepAlive: true, ...c.tls },
  };
}

/** gRPC: TLS with the configured roots and client certificate for https://, plaintext for http://. */
async function grpcOptions(c: OtlpSignalConfig) {
  const base = { url: c.url, timeoutMillis: c.timeoutMillis, compression: httpOptions(c).compression };
  if (!c.url.startsWith('https:')) return base;
  const { grpcTlsCredentials } = await import('./grpc-tls-credentials.js');
  return { ...base, credentials: grpcTlsCredentials(c.tls.ca ?? null, c.tls.key ?? null, c.tls.cert ?? null) };
}

/** Whether the log exporter for `c` takes records as OTLP protobuf bytes (LogRecordEncoder). */
export function takesEncodedLogRecords(c: OtlpSignalConfig): boolean {
  return c.protocol === 'http/protobuf';
}

/**
 * `encoded`: for http/protobuf (takesEncodedLogRecords), where batches are of encoded records,
 * the records' resource and scope and the encoder holding their bytes (the exporter copies
 * those as they are).
 */
export async function createOtlpLogExporter(
  c: OtlpSignalConfig,
  encoded?: { resource: Resource; scope: InstrumentationScope; encoder: LogRecordEncoder },
): Promise<LogRecordExporter> {
  switch (c.protocol) {
    case 'http/protobuf': {
      if (!encoded) throw new Error('http/protobuf log export takes encoded records: give their resource, scope and encoder');
      // The SDK's HTTP transport with our serializer (otlp/log-record-encoder.ts explains why).
      const { OTLPExporterBase } = await import('@opentelemetry/otlp-exporter-base');
      const { createOtlpHttpExportDelegate, convertLegacyHttpOptions } = await import('@opentelemetry/otlp-exporter-base/node-http');
      const { LogsExporterMetricsHelper } = await import('@opentelemetry/otlp-transformer');
      const { wireLogsSerializer } = await import('./otlp/log-record-encoder.js');
      const delegate = createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(httpOptions(c), 'LOGS', 'v1/logs', { 'Content-Type': 'application/x-protobuf' }),
        wireLogsSerializer(encoded.resource, encoded.scope, encoded.encoder),
        'otlp_http_log_exporter',
        // Typed for the SDK's record objects; it only counts a batch's length, and only with a
        // meter provider (none is given: the export chain counts, telemetry-pipeline.ts).
        LogsExporterMetricsHelper as never,
        undefined,
      );
      return new OTLPExporterBase(delegate) as unknown as LogRecordExporter;
    }
    case 'http/json': {
      const { OTLPLogExporter } = await import('@opentelemetry/exporter-logs-otlp-http');
      return new OtlpTimeGuard(new OTLPLogExporter(httpOptions(c)));
    }
    case 'grpc': {
      // gRPC headers come from OTEL_EXPORTER_OTLP_[LOGS_]HEADERS, read by the exporter itself.
      const { OTLPLogExporter } = await import('@opentelemetry/exporter-logs-otlp-grpc');
      return new OtlpTimeGuard(new OTLPLogExporter(await grpcOptions(c)));
    }
  }
}

export async function createOtlpMetricExporter(c: OtlpSignalConfig): Promise<PushMetricExporter> {
  switch (c.protocol) {
    case 'http/protobuf': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
      return new OTLPMetricExporter(httpOptions(c));
    }
    case 'http/json': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
      return new OTLPMetricExporter(httpOptions(c));
    }
    case 'grpc': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-grpc');
      return new OTLPMetricExporter(await grpcOptions(c));
    }
  }
}

/** What the span export queue hands batches to: the OTLP exporter over the configured protocol. */
export interface SpanExporter {
  export(spans: BrokerSpan[], done: (r: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/**
 * The SDK's OTLP transports (HTTP or gRPC: retries, timeouts, compression, headers) with our
 * span serializers (otlp/span-encoder.ts), so no Tracer, span processor or trace exporter package
 * is involved.
 */
export async function createOtlpSpanExporter(c: OtlpSignalConfig, resource: Resource, scope: InstrumentationScope): Promise<SpanExporter> {
  const { OTLPExporterBase } = await import('@opentelemetry/otlp-exporter-base');
  const { TraceExporterMetricsHelper } = await import('@opentelemetry/otlp-transformer');
  const { spanSerializer } = await import('./otlp/span-encoder.js');
  // Typed for the SDK's span objects; it only counts a batch's length, and only with a meter
  // provider (none is given: the queue counts, telemetry-pipeline.ts).
  const helper = TraceExporterMetricsHelper as never;
  switch (c.protocol) {
    case 'http/protobuf':
    case 'http/json': {
      const { createOtlpHttpExportDelegate, convertLegacyHttpOptions } = await import('@opentelemetry/otlp-exporter-base/node-http');
      const json = c.protocol === 'http/json';
      const delegate = createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(httpOptions(c), 'TRACES', 'v1/traces', { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' }),
        spanSerializer(json ? 'json' : 'protobuf', resource, scope),
        json ? 'otlp_http_json_span_exporter' : 'otlp_http_span_exporter',
        helper,
        undefined,
      );
      return new OTLPExporterBase(delegate) as unknown as SpanExporter;
    }
    case 'grpc': {
      // gRPC headers come from OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, read by the transport itself.
      const { createOtlpGrpcExportDelegate, convertLegacyOtlpGrpcOptions } = await import('@opentelemetry/otlp-grpc-exporter-base');
      const delegate = createOtlpGrpcExportDelegate(
        convertLegacyOtlpGrpcOptions(await grpcOptions(c), 'TRACES'),
        spanSerializer('protobuf', resource, scope),
        'otlp_grpc_span_exporter',
        helper,
        undefined,
        'TraceExportService',
        '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      );
      return new OTLPExporterBase(delegate) as unknown as SpanExporter;
    }
  }
}
