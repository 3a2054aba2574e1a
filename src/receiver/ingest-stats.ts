/**
 * Counters kept by the receiver as plain numbers: the hot path bumps a field, and the
 * telemetry layer reads them when it collects (no SDK call per frame).
 */
import { HOOKS, type SidecarEvent } from '../events/event-types.js';
import { MAX_ITEMS } from '../decoding/event-decoder.js';
import type { FrameBudget } from '../framing/frame-budget.js';
import { sidecarFamilies } from '../metrics/sidecar-families.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { Component, StatusReport } from '../lifecycle/component.js';
import { CLOSE_REASONS, REJECT_REASONS, TRANSPORTS, type CloseReason, type RejectReason, type Transport } from './ingest-attributes.js';

export { CLOSE_REASONS, REJECT_REASONS, TRANSPORTS, type CloseReason, type RejectReason, type Transport };

function zeroRejects(): Record<RejectReason, number> {
  return { empty_frame: 0, invalid_envelope: 0, unknown_type: 0, invalid_event: 0, oversized: 0, unframeable: 0, truncated: 0, sink_error: 0, buffer_budget: 0 };
}

/**
 * The ingest counters of one transport, bumped only by that transport and the ingest core for
 * it: each transport has its own object, and the totals are sums of them.
 */
export class TransportCounters {
  bytesReceived = 0;
  framesReceived = 0;
  events = 0;
  /** Events decoded, by HOOKS index. */
  readonly eventsByHook: number[] = HOOKS.map(() => 0);
  readonly rejected: Record<RejectReason, number> = zeroRejects();
}

/**
 * The receivers' counters; a component for the metrics and /status parts they feed. Each
 * transport counts in its own TransportCounters (`tcp`, `grpc`); the totals the rest of the
 * sidecar reads (eventsTotal, eventsByHook, rejected, ...) are their sums, worked out when read.
 */
export class IngestStats implements Component {
  readonly tcp = new TransportCounters();
  readonly grpc = new TransportCounters();

  /** `transports`: the ones enabled; each gets its series from the start. */
  constructor(private readonly transports: readonly Transport[] = ['tcp']) {}

  connectionsOpen = 0;
  connectionsAccepted = 0;
  /** When the last plugin connection was accepted, and the last one closed (ms, 0: never). */
  lastAcceptedAt = 0;
  lastClosedAt = 0;
  /** Connections refused because --max-connections were open. */
  connectionsRefused = 0;
  /** Connections the receiver closed itself, by reason. */
  readonly connectionsClosed: Record<CloseReason, number> = { buffer_budget: 0, evicted_idle: 0 };
  /** The gRPC listener's connections (open, accepted, refused), when it runs. */
  grpcConnections: { open: number; accepted: number; refused: number } | null = null;
  /** The receiver's budget for partial frames (bytes held now: `used`), once it started. */
  frameBudget: FrameBudget | null = null;
  /** Milliseconds since the epoch when each hook was last seen (0 = never), by HOOKS index. */
  readonly lastSeenByHook: number[] = HOOKS.map(() => 0);
  /** List and map items of events beyond the decoder's caps (not decoded), by HOOKS index. */
  readonly itemsTruncatedByHook: number[] = HOOKS.map(() => 0);
  /** Events of the companion plugin vmq_events_sidecar_m5 (MQTT 5 sessions), by HOOKS index. */
  readonly mqtt5EventsByHook: number[] = HOOKS.map(() => 0);
  /** Milliseconds since the epoch of the companion's first and last event (0 = none yet). */
  mqtt5FirstSeenMs = 0;
  mqtt5LastSeenMs = 0;

  /** Bytes received, all transports. */
  get bytesReceived(): number {
    return this.tcp.bytesReceived + this.grpc.bytesReceived;
  }

  /** Frames (TCP) and messages (gRPC) received, all transports. */
  get framesReceived(): number {
    return this.tcp.framesReceived + this.grpc.framesReceived;
  }

  /** Events decoded, all transports. */
  get eventsTotal(): number {
    return this.tcp.events + this.grpc.events;
  }

  /** Events decoded, all transports, by HOOKS index (a new array). */
  get eventsByHook(): readonly number[] {
    return this.tcp.eventsByHook.map((n, i) => n + this.grpc.eventsByHook[i]!);
  }

  /** Events of one hook (by HOOKS index), all transports. */
  eventsAt(i: number): number {
    return this.tcp.eventsByHook[i]! + this.grpc.eventsByHook[i]!;
  }

  /** Rejects by reason, all transports (a new record). */
  get rejected(): Readonly<Record<RejectReason, number>> {
    const r = zeroRejects();
    for (const reason of REJECT_REASONS) r[reason] = this.tcp.rejected[reason] + this.grpc.rejected[reason];
    return r;
  }

  /**
   * What one decoded event tells whichever transport carried it (when each hook was last seen,
   * items cut, the MQTT 5 companion); called by the ingest core only, which counts the event on
   * its transport's counters.
   */
  countEvent(event: SidecarEvent, nowMs: number): void {
    const i = event.hookIndex;
    this.lastSeenByHook[i] = nowMs;
    if (event.truncatedItems > 0) this.itemsTruncatedByHook[i]! += event.truncatedItems;
    if (event.protocolVersion === '5') {
      if (this.mqtt5FirstSeenMs === 0) this.mqtt5FirstSeenMs = nowMs;
      this.mqtt5LastSeenMs = nowMs;
      this.mqtt5EventsByHook[i]!++;
    }
  }

  eventsOf(hook: (typeof HOOKS)[number]): number {
    return this.eventsAt(HOOKS.indexOf(hook));
  }

  /** The counters of one transport. */
  of(transport: Transport): TransportCounters {
    return transport === 'grpc' ? this.grpc : this.tcp;
  }

  rejectedTotal(): number {
    let n = 0;
    for (const r of REJECT_REASONS) n += this.tcp.rejected[r] + this.grpc.rejected[r];
    return n;
  }

  /** Copied into the metric families at collection time: the hot path only bumps fields. */
  registerMetrics(store: MetricStore): void {
    const f = sidecarFamilies(store, ['connectionsOpen', 'connectionsAccepted', 'connectionsRefused', 'connectionsClosed', 'framesBuffered', 'itemsTruncated', 'bytesReceived', 'eventsReceived', 'framesRejected']);
    // Every hook and reason is reported from the start (as 0), so rate() and alerts see them.
    store.onCollect(() => {
      f.connectionsOpen.get('tcp').value = this.connectionsOpen;
      f.connectionsAccepted.get('tcp').value = this.connectionsAccepted;
      f.connectionsRefused.get('tcp').value = this.connectionsRefused;
      const g = this.grpcConnections;
      if (g !== null) {
        f.connectionsOpen.get('grpc').value = g.open;
        f.connectionsAccepted.get('grpc').value = g.accepted;
        f.connectionsRefused.get('grpc').value = g.refused;
      }
      for (const r of CLOSE_REASONS) f.connectionsClosed.get(r).value = this.connectionsClosed[r];
      f.framesBuffered.get().value = this.frameBudget?.used ?? 0;
      HOOKS.forEach((h, i) => {
        if (MAX_ITEMS[h] !== undefined || this.itemsTruncatedByHook[i]! > 0) f.itemsTruncated.get(h).value = this.itemsTruncatedByHook[i]!;
      });
      f.bytesReceived.get().value = this.bytesReceived;
      for (const t of this.transports) {
        const c = this.of(t);
        HOOKS.forEach((h, i) => (f.eventsReceived.get(h, t).value = c.eventsByHook[i]!));
        for (const r of REJECT_REASONS) f.framesRejected.get(r, t).value = c.rejected[r];
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
