/**
 * Counters kept by the receiver as plain numbers: the hot path bumps a field, and the
 * telemetry layer reads them when it collects (no SDK call per frame).
 */
import { HOOKS, type SidecarEvent } from '../events/event-types.js';
import { MAX_ITEMS } from '../decoding/event-decoder.js';
import type { FrameBudget } from '../framing/frame-budget.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { Component, StatusReport } from '../lifecycle/component.js';
import { CLOSE_REASONS, REJECT_REASONS, TRANSPORTS, type CloseReason, type RejectReason, type Transport } from './ingest-attributes.js';

export { CLOSE_REASONS, REJECT_REASONS, TRANSPORTS, type CloseReason, type RejectReason, type Transport };

function zeroRejects(): Record<RejectReason, number> {
  return { empty_frame: 0, invalid_envelope: 0, unknown_type: 0, invalid_event: 0, oversized: 0, unframeable: 0, truncated: 0, sink_error: 0, buffer_budget: 0 };
}

/** The share of the ingest counters that came over one transport. */
export class TransportCounters {
  framesReceived = 0;
  readonly eventsByHook: number[] = HOOKS.map(() => 0);
  readonly rejected: Record<RejectReason, number> = zeroRejects();
}

/**
 * The receivers' counters; a component for the metrics and /status parts they feed. The totals
 * (over all transports) are what the rest of the sidecar reads. The gRPC receiver also bumps its
 * share in `grpc`; the TCP share is the total minus that, worked out at collection time, so the
 * TCP hot path does not pay for a second set of counters.
 */
export class IngestStats implements Component {
  readonly grpc = new TransportCounters();

  /** `transports`: the ones enabled; each gets its series from the start. */
  constructor(private readonly transports: readonly Transport[] = ['tcp']) {}

  connectionsOpen = 0;
  connectionsAccepted = 0;
  /** Connections refused because --max-connections were open. */
  connectionsRefused = 0;
  /** Connections the receiver closed itself, by reason. */
  readonly connectionsClosed: Record<CloseReason, number> = { buffer_budget: 0, evicted_idle: 0 };
  /** The gRPC listener's connections (open, accepted, refused), when it runs. */
  grpcConnections: { open: number; accepted: number; refused: number } | null = null;
  /** The receiver's budget for partial frames (bytes held now: `used`), once it started. */
  frameBudget: FrameBudget | null = null;
  bytesReceived = 0;
  framesReceived = 0;
  eventsTotal = 0;
  /** Events decoded, by HOOKS index. */
  readonly eventsByHook: number[] = HOOKS.map(() => 0);
  /** Milliseconds since the epoch when each hook was last seen (0 = never), by HOOKS index. */
  readonly lastSeenByHook: number[] = HOOKS.map(() => 0);
  /** List and map items of events beyond the decoder's caps (not decoded), by HOOKS index. */
  readonly itemsTruncatedByHook: number[] = HOOKS.map(() => 0);
  readonly rejected: Record<RejectReason, number> = zeroRejects();
  /** Events of the companion plugin vmq_events_sidecar_m5 (MQTT 5 sessions), by HOOKS index. */
  readonly mqtt5EventsByHook: number[] = HOOKS.map(() => 0);
  /** Milliseconds since the epoch of the companion's first and last event (0 = none yet). */
  mqtt5FirstSeenMs = 0;
  mqtt5LastSeenMs = 0;

  /**
   * One decoded event, whichever transport carried it: the one place both receivers count an
   * event, so a counter added here cannot be missed by one of them.
   */
  countEvent(event: SidecarEvent, nowMs: number): void {
    const i = event.hookIndex;
    this.eventsTotal++;
    this.eventsByHook[i]!++;
    this.lastSeenByHook[i] = nowMs;
    if (event.truncatedItems > 0) this.itemsTruncatedByHook[i]! += event.truncatedItems;
    if (event.protocolVersion === '5') {
      if (this.mqtt5FirstSeenMs === 0) this.mqtt5FirstSeenMs = nowMs;
      this.mqtt5LastSeenMs = nowMs;
      this.mqtt5EventsByHook[i]!++;
    }
  }

  eventsOf(hook: (typeof HOOKS)[number]): number {
    return this.eventsByHook[HOOKS.indexOf(hook)]!;
  }

  /** The counters of one transport (for tcp: the totals minus the gRPC share). */
  of(transport: Transport): TransportCounters {
    if (transport === 'grpc') return this.grpc;
    const t = new TransportCounters();
    t.framesReceived = this.framesReceived - this.grpc.framesReceived;
    HOOKS.forEach((_, i) => (t.eventsByHook[i] = this.eventsByHook[i]! - this.grpc.eventsByHook[i]!));
    for (const r of REJECT_REASONS) t.rejected[r] = this.rejected[r] - this.grpc.rejected[r];
    return t;
  }

  rejectedTotal(): number {
    let n = 0;
    for (const r of REJECT_REASONS) n += this.rejected[r];
    return n;
  }

  /** Copied into the metric families at collection time: the hot path only bumps fields. */
  registerMetrics(store: MetricStore): void {
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
    // Every hook and reason is reported from the start (as 0), so rate() and alerts see them.
    store.onCollect(() => {
      open.get('tcp').value = this.connectionsOpen;
      accepted.get('tcp').value = this.connectionsAccepted;
      refused.get('tcp').value = this.connectionsRefused;
      const g = this.grpcConnections;
      if (g !== null) {
        open.get('grpc').value = g.open;
        accepted.get('grpc').value = g.accepted;
        refused.get('grpc').value = g.refused;
      }
      for (const r of CLOSE_REASONS) closed.get(r).value = this.connectionsClosed[r];
      buffered.get().value = this.frameBudget?.used ?? 0;
      HOOKS.forEach((h, i) => {
        if (MAX_ITEMS[h] !== undefined || this.itemsTruncatedByHook[i]! > 0) truncated.get(h).value = this.itemsTruncatedByHook[i]!;
      });
      bytes.get().value = this.bytesReceived;
      for (const t of this.transports) {
        const c = this.of(t);
        HOOKS.forEach((h, i) => (events.get(h, t).value = c.eventsByHook[i]!));
        for (const r of REJECT_REASONS) rejected.get(r, t).value = c.rejected[r];
      }
    });
  }

  status(): StatusReport {
    return {
      connections: { open: this.connectionsOpen, accepted: this.connectionsAccepted, refused: this.connectionsRefused, closed: this.connectionsClosed },
      events: { total: this.eventsTotal },
      rejected: this.rejected,
    };
  }
}
