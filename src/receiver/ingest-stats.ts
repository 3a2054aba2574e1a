/**
 * Counters kept by the receiver as plain numbers: the hot path bumps a field, and the
 * telemetry layer reads them when it collects (no SDK call per frame).
 */
import { HOOKS } from '../events/event-types.js';
import type { DecodeFailure } from '../decoding/event-decoder.js';

/**
 * Why a frame (or a part of the stream) did not become an event. These values are the
 * `reason` attribute of vmq_sidecar.frames.rejected: keep them stable.
 */
export type RejectReason =
  | DecodeFailure
  /** Length above --max-frame-bytes: the frame's bytes were skipped, the stream went on. */
  | 'oversized'
  /** Length no sender can produce: the connection was closed. */
  | 'unframeable'
  /** The connection closed in the middle of a frame. */
  | 'truncated'
  /** A sink threw while handling the event (a bug: the event is lost for that sink). */
  | 'sink_error';

export const REJECT_REASONS: readonly RejectReason[] = [
  'invalid_envelope',
  'unknown_type',
  'invalid_event',
  'oversized',
  'unframeable',
  'truncated',
  'sink_error',
];

/** How an event reached the sidecar. Values are the `transport` attribute: keep them stable. */
export type Transport = 'tcp' | 'grpc';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'grpc'];

function zeroRejects(): Record<RejectReason, number> {
  return { invalid_envelope: 0, unknown_type: 0, invalid_event: 0, oversized: 0, unframeable: 0, truncated: 0, sink_error: 0 };
}

/** The share of the ingest counters that came over one transport. */
export class TransportCounters {
  framesReceived = 0;
  readonly eventsByHook: number[] = HOOKS.map(() => 0);
  readonly rejected: Record<RejectReason, number> = zeroRejects();
}

/**
 * The totals (over all transports) are what the rest of the sidecar reads. The gRPC receiver
 * also bumps its share in `grpc`; the TCP share is the total minus that, worked out at
 * collection time, so the TCP hot path does not pay for a second set of counters.
 */
export class IngestStats {
  readonly grpc = new TransportCounters();

  connectionsOpen = 0;
  connectionsAccepted = 0;
  /** Connections refused because --max-connections were open. */
  connectionsRefused = 0;
  bytesReceived = 0;
  framesReceived = 0;
  eventsTotal = 0;
  /** Events decoded, by HOOKS index. */
  readonly eventsByHook: number[] = HOOKS.map(() => 0);
  /** Milliseconds since the epoch when each hook was last seen (0 = never), by HOOKS index. */
  readonly lastSeenByHook: number[] = HOOKS.map(() => 0);
  readonly rejected: Record<RejectReason, number> = zeroRejects();

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
}
