/**
 * OpenTelemetry's own diagnostics and errors into the sidecar's log: rate-limited, one line
 * each, no stacks, and nothing reported twice.
 */
import type { DiagLogger } from '@opentelemetry/api';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { firstLine, type ExportOutage } from './export-outage.js';

/** OpenTelemetry's internal diagnostics into our log, rate-limited, one line each (no stacks). */
export function diagAdapter(logger: SidecarLogger, metricsOutage: () => ExportOutage | null): DiagLogger {
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
export function errorHandler(logger: SidecarLogger): (err: unknown) => void {
  return (err) => {
    const message = err instanceof Error ? err.message : String(err);
    if (message.startsWith('PeriodicExportingMetricReader: metrics export failed')) return;
    logger.limited('warn', 'otel-error', 30_000, 'opentelemetry error', { error: message.split('\n', 1)[0] });
  };
}
