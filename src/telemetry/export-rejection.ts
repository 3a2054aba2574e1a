/**
 * Which failed exports are worth retrying (or: the console exporter's stdout is closed: drop). The OTLP exporters (@opentelemetry/otlp-exporter-base
 * 0.223) report them as follows, checked in their sources:
 * - HTTP: a status the specification calls retryable (429, 502, 503, 504) or a network error
 *   (ECONNRESET, ECONNREFUSED, ...) is retried inside the exporter until its timeout, then
 *   reported as a plain Error or an OTLPExporterError without a code; any other non-2xx status
 *   is reported at once as an OTLPExporterError whose `code` is the HTTP status.
 * - gRPC: every error is reported as grpc-js's ServiceError: a numeric `code` (the gRPC status)
 *   and `metadata`.
 * - Our exporters (console, the protobuf serializer) throw synchronously when they cannot
 *   format a record.
 */

/** retry: later, with back-off; split: refused, maybe for its size or one record; drop: refused. */
export type ExportFailureVerdict = 'retry' | 'split' | 'drop';

/** gRPC statuses the OTLP specification makes non-retryable, and the two worth a bisection. */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_PERMANENT = new Set([3, 5, 6, 7, 9, 12, 16]);

export function classifyExportFailure(error: unknown, thrown: boolean): ExportFailureVerdict {
  if (thrown) return 'split';
  if (error === null || typeof error !== 'object') return 'retry';
  const e = error as { name?: unknown; code?: unknown; metadata?: unknown };
  // The console exporter's stdout is gone (readable-log-exporter.ts).
  if (e.name === 'OutputClosedError') return 'drop';
  if (typeof e.code !== 'number') return 'retry';
  if (e.name === 'OTLPExporterError') {
    const status = e.code;
    if (status < 400 || status >= 500 || status === 429) return 'retry';
    // 400: a record the collector cannot take; 413: a batch too large. Both pass when split.
    return status === 400 || status === 413 ? 'split' : 'drop';
  }
  if (e.metadata !== undefined) {
    // RESOURCE_EXHAUSTED is retryable only with RetryInfo (in grpc-status-details-bin); without
    // it, it is grpc-js's "message larger than max": a batch too large for the collector.
    if (e.code === GRPC_RESOURCE_EXHAUSTED) {
      const details = (e.metadata as { get?: (k: string) => unknown[] }).get?.('grpc-status-details-bin');
      return Array.isArray(details) && details.length > 0 ? 'retry' : 'split';
    }
    if (e.code === GRPC_INVALID_ARGUMENT) return 'split';
    return GRPC_PERMANENT.has(e.code) ? 'drop' : 'retry';
  }
  return 'retry';
}
