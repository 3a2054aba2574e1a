/**
 * OTEL_LOGS_EXPORTER=console: one readable line per log record on stdout, e.g.
 *   2026-11-26T05:40:01.123456789Z WARN vernemq.on_client_gone client c1 disconnected (tcp_closed); session removed trace_id=...
 * (the SDK's console exporter prints a multi-line object per record).
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { formatEventTime } from '../sinks/event-printer.js';
import { escapeControl } from '../sinks/control-chars.js';

/** One line per record, for any record (any time, any text): never throws on odd values. */
export function formatLogRecord(r: ReadableLogRecord): string {
  const [sec, nanos] = r.hrTime;
  let line = `${formatEventTime(sec, nanos)} ${(r.severityText ?? 'INFO').padEnd(4)} ${r.eventName ?? ''} ${String(r.body ?? '')}`;
  const mp = r.attributes['mqtt.mountpoint'];
  if (typeof mp === 'string' && mp !== '') line += ` mountpoint=${mp}`;
  if (r.spanContext) line += ` trace_id=${r.spanContext.traceId} span_id=${r.spanContext.spanId}`;
  // The body and mountpoint hold client-chosen text: one record, one line, whatever it holds.
  return escapeControl(line);
}

/** stdout cannot be written (a closed pipe): retrying will not help. */
export class OutputClosedError extends Error {
  override name = 'OutputClosedError';
}

export class ReadableLogExporter implements LogRecordExporter {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  /**
   * Done when the lines have left the process (the write's callback), not when they are queued
   * in the stream: a record counts as exported only once it is out, so records still buffered
   * when the process exits are counted as lost, and a slow reader slows the export queue (which
   * then drops and counts) instead of growing the stream's buffer.
   */
  export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.out.write(logs.map(formatLogRecord).join('\n') + '\n', (err) => {
      if (err) done({ code: ExportResultCode.FAILED, error: new OutputClosedError(err.message) });
      else done({ code: ExportResultCode.SUCCESS });
    });
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}
