/**
 * The sidecar's own health metrics (vmq_sidecar.*), copied from the counters the receiver and
 * the log queue keep, at collection time.
 */
import { HOOKS } from '../events/event-types.js';
import { MAX_ITEMS } from '../decoding/event-decoder.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { CLOSE_REASONS, REJECT_REASONS, type IngestStats } from '../receiver/ingest-stats.js';
import type { TelemetryPipeline } from './telemetry-pipeline.js';

export function registerSelfMetrics(store: MetricStore, stats: IngestStats, telemetry: TelemetryPipeline): void {
  const M = SIDECAR_METRICS;
  const open = store.sum(M.connectionsOpen);
  const accepted = store.sum(M.connectionsAccepted);
  const refused = store.sum(M.connectionsRefused);
  const closed = store.sum(M.connectionsClosed);
  const buffered = store.sum(M.framesBuffered);
  const truncated = store.sum(M.itemsTruncated);
  const bytes = store.sum(M.bytesReceived);
  const events = store.sum(M.eventsReceived);
  const rejected = store.sum(M.framesRejected);
  const logsExported = store.sum(M.logRecordsExported);
  const logsDropped = store.sum(M.logRecordsDropped);
  const logsQueued = store.sum(M.logQueueSize);
  const exportFailures = store.sum(M.exportFailures);
  // Every hook and reason is reported from the start (as 0), so rate() and alerts see them.
  store.onCollect(() => {
    open.get().value = stats.connectionsOpen;
    accepted.get().value = stats.connectionsAccepted;
    refused.get().value = stats.connectionsRefused;
    for (const r of CLOSE_REASONS) closed.get(r).value = stats.connectionsClosed[r];
    buffered.get().value = stats.frameBudget?.used ?? 0;
    HOOKS.forEach((h, i) => {
      if (MAX_ITEMS[h] !== undefined || stats.itemsTruncatedByHook[i]! > 0) truncated.get(h).value = stats.itemsTruncatedByHook[i]!;
    });
    bytes.get().value = stats.bytesReceived;
    HOOKS.forEach((h, i) => (events.get(h).value = stats.eventsByHook[i]!));
    for (const r of REJECT_REASONS) rejected.get(r).value = stats.rejected[r];
    const q = telemetry.logQueue;
    if (q) {
      logsExported.get().value = q.exported;
      for (const [reason, n] of Object.entries(q.dropped)) logsDropped.get(reason).value = n;
      logsQueued.get().value = q.queued;
      exportFailures.get('logs').value = q.failedExports;
    }
    exportFailures.get('metrics').value = telemetry.metricExportFailures;
  });
}
