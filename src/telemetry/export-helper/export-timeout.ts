/**
 * One export attempt with a deadline (the Collector's timeout sender): the exporter's answer, a
 * timeout, or what it threw, whichever comes first, reported once.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ExportItem, ItemExporter } from './export-item.js';

/** `thrown`: the exporter threw instead of answering (a serializer that cannot write an item). */
export type AttemptDone = (result: ExportResult, thrown: boolean) => void;

export function exportWithTimeout(exporter: ItemExporter, batch: ExportItem[], timeoutMs: number, done: AttemptDone): void {
  let settled = false;
  let thrown = false;
  const settle = (result: ExportResult) => {
    if (settled) return;
    settled = true;
    clearTimeout(guard);
    done(result, thrown);
  };
  const guard = setTimeout(() => settle({ code: ExportResultCode.FAILED, error: new Error(`export timed out after ${timeoutMs} ms`) }), timeoutMs);
  guard.unref();
  try {
    exporter.export(batch, settle);
  } catch (err) {
    thrown = true;
    settle({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
  }
}
