/**
 * The error.type of a failed OTLP export (semconv error.type: the class of the error, low
 * cardinality): "timeout"; the HTTP status code ("503"); the gRPC status name ("UNAVAILABLE");
 * the socket error code ("ECONNREFUSED"); else the exception's name. At most MAX_ERROR_TYPES
 * distinct values are counted apart, the rest as "_OTHER" (semconv's fallback value).
 */
export const MAX_ERROR_TYPES = 20;
export const OTHER_ERROR_TYPE = '_OTHER';

const GRPC_STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

export function exportErrorType(error: Error | undefined): string {
  if (error === undefined) return OTHER_ERROR_TYPE;
  const code = (error as { code?: unknown }).code;
  if (error.name === 'TimeoutError' || /time(d)? ?out/i.test(error.message)) return 'timeout';
  // gRPC status codes are 0-16, HTTP status codes 100 and up.
  if (typeof code === 'number' && Number.isInteger(code)) return code < GRPC_STATUS.length ? GRPC_STATUS[code]! : String(code);
  if (typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code)) return code;
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  if (typeof cause === 'string' && /^[A-Z0-9_]{1,32}$/.test(cause)) return cause;
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(error.name) ? error.name : OTHER_ERROR_TYPE;
}

/** Failed exports by error.type, bounded. */
export class ErrorTypeCounts {
  readonly counts = new Map<string, number>();

  add(error: Error | undefined): void {
    let t = exportErrorType(error);
    if (!this.counts.has(t) && this.counts.size >= MAX_ERROR_TYPES) t = OTHER_ERROR_TYPE;
    this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
  }
}
