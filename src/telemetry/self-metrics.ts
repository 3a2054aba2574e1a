/**
 * The sidecar's own health metrics (vmq_sidecar.*), copied from the counters the receiver and
 * the log queue keep, at collection time.
 */
import { HOOKS } from '../events/event-types.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { REJECT_REASONS, type IngestStats } from '../receiver/ingest-stats.js';
import type { TelemetryPipeline } from './telemetry-pipeline.js';

export function registerSelfMetrics(store: MetricStore, stats: IngestStats, telemetry: TelemetryPipeline): void {
  const M = SIDECAR_METRICS;
  const open = store.sum(M.connectionsOpen);
  const accepted = store.sum(M.connectionsAccepted);
  const refused = store.sum(M.connectionsRefused);
  const bytes = store.sum(M.bytesReceived);
  const events = store.sum(M.eventsReceived);
  const rejected = store.sum(M.framesRejected);
  const logsExported = store.sum(M.logRecordsExported);
  const logsDropped = store.sum(M.logRecordsDropped);
  const logsQueued = store.sum(M.logQueueSize);
  const exportFailures = store.sum(M.exportFailures);
  // Every hook and reason is reported from the start (as 0), so rate() and alerts see them.
  store.onCollect(() => {
    open.set('', stats.connectionsOpen);
    accepted.set('', stats.connectionsAccepted);
    refused.set('', stats.connectionsRefused);
    bytes.set('', stats.bytesReceived);
    HOOKS.forEach((h, i) => events.set(h, stats.eventsByHook[i]!));
    for (const r of REJECT_REASONS) rejected.set(r, stats.rejected[r]);
    const q = telemetry.logQueue;
    if (q) {
      logsExported.set('', q.exported);
      for (const [reason, n] of Object.entries(q.dropped)) logsDropped.set(reason, n);
      logsQueued.set('', q.queued);
      exportFailures.set('logs', q.failedExports);
    }
    exportFailures.set('metrics', telemetry.metricExportFailures);
  });
}
