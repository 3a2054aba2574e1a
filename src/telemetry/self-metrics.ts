/**
 * The sidecar's own health metrics (vmq_sidecar.*), copied from the counters the receiver and
 * the log queue keep, at collection time.
 */
import { HOOKS } from '../events/event-types.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { REJECT_REASONS, type IngestStats, type Transport } from '../receiver/ingest-stats.js';
import type { TelemetryPipeline } from './telemetry-pipeline.js';

/** `transports`: the ones enabled; each gets its series from the start. */
export function registerSelfMetrics(store: MetricStore, stats: IngestStats, telemetry: TelemetryPipeline, transports: readonly Transport[] = ['tcp']): void {
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
    open.get().value = stats.connectionsOpen;
    accepted.get().value = stats.connectionsAccepted;
    refused.get().value = stats.connectionsRefused;
    bytes.get().value = stats.bytesReceived;
    for (const t of transports) {
      const c = stats.of(t);
      HOOKS.forEach((h, i) => (events.get(h, t).value = c.eventsByHook[i]!));
      for (const r of REJECT_REASONS) rejected.get(r, t).value = c.rejected[r];
    }
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
