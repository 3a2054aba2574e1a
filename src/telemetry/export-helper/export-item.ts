/**
 * What the export chain carries and hands on (named after the Collector's exporterhelper, whose
 * sender chain this folder follows: queue, batching, retry, accounting).
 */
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/**
 * An item as queued: a log record object, its OTLP protobuf bytes, a handle to them in the
 * store (LogRecordEncoder, otlp/log-record-encoder.ts), or any other object (a span of the span
 * sink, which the same chain batches).
 */
export type ExportItem = ReadableLogRecord | Uint8Array | number | object;

/**
 * What batches are handed to: a log record exporter, or the span exporter (exporters.ts). The
 * chain never looks inside an item but for its size.
 */
export interface ItemExporter {
  export(batch: ExportItem[], done: (r: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/** The signal a chain carries, for its log lines. */
export interface ExportSignal {
  /** Key prefix of rate-limited lines: log, span. */
  name: string;
  /** What its items are called: log records, spans. */
  items: string;
}

export const LOG_SIGNAL: ExportSignal = { name: 'log', items: 'log records' };

/** Where handles' bytes are: their size, and their release once they leave for good. */
export interface EncodedRecordStore {
  size(handle: number): number;
  release(handle: number): void;
}

/** What an item object counts against the byte budget (an estimate: it is not serialized yet). */
export const RECORD_OBJECT_BYTES = 1024;

/** Bytes an item counts against the queue's byte budget. */
export function itemBytes(item: ExportItem, store: EncodedRecordStore | null): number {
  if (typeof item === 'number') return store!.size(item);
  return item instanceof Uint8Array ? item.length : RECORD_OBJECT_BYTES;
}
