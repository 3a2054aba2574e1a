/**
 * The export chain with exporters that fail in the ways real ones do: throwing on one record,
 * failing (retryably) every time, never answering. No spin, every record accounted for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { QueuedExporter } from '../../../src/telemetry/export-helper/queued-exporter.js';
import { SidecarLogger } from '../../../src/logging/sidecar-logger.js';
import { eventually } from '../../helpers/eventually.js';

const logger = new SidecarLogger('silent');
const record = (body: string) => ({ body }) as unknown as ReadableLogRecord;

class ScriptedExporter implements LogRecordExporter {
  calls = 0;
  exported: string[] = [];
  constructor(private readonly behave: (batch: ReadableLogRecord[], done: (r: ExportResult) => void) => void) {}
  export(batch: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.calls++;
    this.behave(batch, done);
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

test('a serializer that throws on one record: that record is dropped (rejected), the rest of its batch exported', async () => {
  const exp = new ScriptedExporter((batch, done) => {
    if (batch.some((r) => r.body === 'bad')) throw new RangeError('Invalid time value');
    exp.exported.push(...batch.map((r) => String(r.body)));
    done({ code: ExportResultCode.SUCCESS });
  });
  const q = new QueuedExporter(exp, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 10, exportTimeoutMillis: 1000 }, logger);
  for (let i = 0; i < 512; i++) q.add(record(i === 300 ? 'bad' : `r${i}`));
  await eventually(() => assert.equal(q.pending, 0));
  assert.equal(q.dropped.rejected, 1);
  assert.equal(q.exported, 511);
  assert.equal(exp.exported.length, 511);
  assert.ok(exp.calls <= 2 * 10 + 1, `${exp.calls} export calls for one bad record in 512`);
  await q.shutdown(100);
});

test('an exporter that fails retryably and synchronously: retries wait their back-off, no spin', async () => {
  const exp = new ScriptedExporter((_b, done) => done({ code: ExportResultCode.FAILED, error: new Error('ECONNREFUSED') }));
  const q = new QueuedExporter(
    exp,
    { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMillis: 5, exportTimeoutMillis: 1000, minBackoffMillis: 100, maxBackoffMillis: 100 },
    logger,
  );
  for (let i = 0; i < 50; i++) q.add(record(`r${i}`));
  const timerFired = await new Promise<number>((resolve) => {
    const t0 = Date.now();
    setTimeout(() => resolve(Date.now() - t0), 20);
  });
  assert.ok(timerFired < 500, 'the event loop kept running');
  await new Promise((r) => setTimeout(r, 450));
  // At most one attempt per back-off period (100 ms) plus the first batches before it.
  assert.ok(exp.calls <= 10, `${exp.calls} export calls in ~0.5 s`);
  assert.equal(q.dropped.rejected, 0, 'retryable failures are not rejections');
  await q.shutdown(50);
  assert.equal(q.dropped.shutdown, 50, 'what was left at shutdown is counted');
  assert.equal(q.pending, 0);
});

test('an exporter that never answers: shutdown returns by its deadline and counts the records in flight', async () => {
  const exp = new ScriptedExporter(() => {});
  exp.shutdown = () => new Promise<void>(() => {});
  const q = new QueuedExporter(exp, { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMillis: 5, exportTimeoutMillis: 60_000 }, logger);
  for (let i = 0; i < 35; i++) q.add(record(`r${i}`));
  // Meanwhile every record is somewhere /status shows: queued, or handed to the exporter.
  await eventually(() => assert.ok(q.exporting > 0));
  assert.equal(q.queued + q.exporting, 35);
  const t0 = Date.now();
  await q.shutdown(200);
  assert.ok(Date.now() - t0 < 1500, `shutdown took ${Date.now() - t0} ms`);
  assert.equal(q.dropped.shutdown, 35);
  assert.equal(q.exported, 0);
});

test('the byte budget: records past --log-queue-max-bytes are dropped as queue_full, counted, and room comes back as batches leave', async () => {
  const pending: ((r: ExportResult) => void)[] = [];
  const exp = new ScriptedExporter((_batch, done) => pending.push(done));
  const q = new QueuedExporter(exp, { maxQueueSize: 1_000_000, maxQueueBytes: 10_000, maxExportBatchSize: 50, scheduledDelayMillis: 60_000, exportTimeoutMillis: 60_000, maxConcurrentExports: 1 }, logger);
  // 100-byte encoded records: 100 fit; the first 50 leave for the exporter as one batch at once.
  for (let i = 0; i < 300; i++) q.add(new Uint8Array(100));
  assert.equal(exp.calls, 1);
  assert.equal(q.bytesQueued, 10_000);
  assert.equal(q.queued, 100);
  assert.equal(q.dropped.queue_full, 150);
  assert.equal(q.pending + q.dropped.queue_full, 300);
  pending.shift()!({ code: ExportResultCode.SUCCESS });
  await eventually(() => assert.equal(exp.calls, 2));
  assert.equal(q.exported, 50);
  assert.equal(q.bytesQueued, 5_000);
  // Record objects count RECORD_OBJECT_BYTES each.
  const objects = new QueuedExporter(exp, { maxQueueSize: 1_000_000, maxQueueBytes: 4096, maxExportBatchSize: 100, scheduledDelayMillis: 60_000, exportTimeoutMillis: 60_000 }, logger);
  for (let i = 0; i < 10; i++) objects.add(record(`r${i}`));
  assert.equal(objects.queued, 4);
  assert.equal(objects.dropped.queue_full, 6);
  await q.shutdown(10);
  await objects.shutdown(10);
});

test('a failed batch goes back only as far as the byte budget has room; the rest is export_failed', async () => {
  let fail = true;
  const exp = new ScriptedExporter((_batch, done) =>
    setImmediate(() => done(fail ? { code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED') } : { code: ExportResultCode.SUCCESS })),
  );
  // The back-off is long enough that the failed batch is still queued (not sent again) when the
  // test looks at it, even on a loaded machine.
  const q = new QueuedExporter(exp, { maxQueueSize: 1_000_000, maxQueueBytes: 1000, maxExportBatchSize: 10, scheduledDelayMillis: 5, exportTimeoutMillis: 1000, minBackoffMillis: 1000, maxBackoffMillis: 1000 }, logger);
  for (let i = 0; i < 10; i++) q.add(new Uint8Array(100)); // one full batch, sent and failed
  for (let i = 0; i < 6; i++) q.add(new Uint8Array(100)); // 600 of the 1000 bytes taken meanwhile
  await eventually(() => assert.equal(q.dropped.export_failed, 6));
  assert.equal(q.bytesQueued, 1000);
  fail = false;
  await eventually(() => assert.equal(q.pending, 0));
  assert.equal(q.exported, 10);
  assert.equal(q.exported + q.droppedTotal, 16);
});

test('every record is released exactly once when it leaves for good: exported, rejected, over the budget, or at shutdown', async () => {
  const exp = new ScriptedExporter((batch, done) => {
    if (batch.some((r) => (r as unknown as Uint8Array)[0] === 0xbb)) throw new RangeError('bad record');
    done({ code: ExportResultCode.SUCCESS });
  });
  const q = new QueuedExporter(exp, { maxQueueSize: 100_000, maxQueueBytes: 2000, maxExportBatchSize: 8, scheduledDelayMillis: 5, exportTimeoutMillis: 1000 }, logger);
  const released = new Map<unknown, number>();
  q.onRelease = (r) => released.set(r, (released.get(r) ?? 0) + 1);
  const all: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    const r = new Uint8Array(100).fill(i === 17 ? 0xbb : 0xaa);
    all.push(r);
    q.add(r);
  }
  await eventually(() => assert.equal(q.pending, 0));
  await q.shutdown(50);
  q.add(new Uint8Array(100)); // after shutdown: dropped and released at once
  assert.equal(q.dropped.rejected, 1);
  assert.equal(q.exported + q.droppedTotal, 201);
  assert.equal(released.size, 201);
  assert.ok([...released.values()].every((n) => n === 1));
  assert.ok(all.every((r) => released.has(r)));
});
