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
import type { LogRecordEncoder } from './log-protobuf-serializer.js';

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
  const { credentials } = await import('@grpc/grpc-js');
  return { ...base, credentials: credentials.createSsl(c.tls.ca ?? null, c.tls.key ?? null, c.tls.cert ?? null) };
}

/** Whether the log exporter for `c` takes records as OTLP protobuf bytes (LogRecordEncoder). */
export function takesEncodedLogRecords(c: OtlpSignalConfig): boolean {
  return c.protocol === 'http/protobuf';
}

/**
 * `header`: the resource and scope of the records, and the encoder holding their bytes, for
 * batches of encoded records (the http/protobuf exporter copies those as they are, and
 * serializes record objects as before).
 */
export async function createOtlpLogExporter(
  c: OtlpSignalConfig,
  header?: { resource: Resource; scope: InstrumentationScope; encoder: LogRecordEncoder },
): Promise<LogRecordExporter> {
  switch (c.protocol) {
    case 'http/protobuf': {
      // The SDK's HTTP transport with our serializer (log-protobuf-serializer.ts explains why).
      const { OTLPExporterBase } = await import('@opentelemetry/otlp-exporter-base');
      const { createOtlpHttpExportDelegate, convertLegacyHttpOptions } = await import('@opentelemetry/otlp-exporter-base/node-http');
      const { LogsExporterMetricsHelper } = await import('@opentelemetry/otlp-transformer');
      const { FastProtobufLogsSerializer, wireLogsSerializer } = await import('./log-protobuf-serializer.js');
      const delegate = createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(httpOptions(c), 'LOGS', 'v1/logs', { 'Content-Type': 'application/x-protobuf' }),
        header ? wireLogsSerializer(header.resource, header.scope, header.encoder) : FastProtobufLogsSerializer,
        'otlp_http_log_exporter',
        LogsExporterMetricsHelper,
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
