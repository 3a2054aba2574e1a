/**
 * Counters kept by the receiver as plain numbers: the hot path bumps a field, and the
 * telemetry layer reads them when it collects (no SDK call per frame).
 */
import { HOOKS } from '../events/event-types.js';
import type { DecodeFailure } from '../decoding/event-decoder.js';
import type { FrameBudget } from '../framing/frame-budget.js';

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
  | 'sink_error'
  /** A partial frame was dropped with its connection because partial frames passed --max-buffered-bytes. */
  | 'buffer_budget';

export const REJECT_REASONS: readonly RejectReason[] = [
  'invalid_envelope',
  'unknown_type',
  'invalid_event',
  'oversized',
  'unframeable',
  'truncated',
  'sink_error',
  'buffer_budget',
];

/**
 * Why the receiver closed a plugin connection itself. Values are the `reason` attribute of
 * vmq_sidecar.connections.closed: keep them stable.
 */
export type CloseReason =
  /** It held the most partial-frame bytes when all connections together passed --max-buffered-bytes. */
  | 'buffer_budget'
  /** --max-connections were open; it was the longest idle one that had sent no valid frame. */
  | 'evicted_idle';

export const CLOSE_REASONS: readonly CloseReason[] = ['buffer_budget', 'evicted_idle'];

export class IngestStats {
  connectionsOpen = 0;
  connectionsAccepted = 0;
  /** Connections refused because --max-connections were open. */
  connectionsRefused = 0;
  /** Connections the receiver closed itself, by reason. */
  readonly connectionsClosed: Record<CloseReason, number> = { buffer_budget: 0, evicted_idle: 0 };
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
  readonly rejected: Record<RejectReason, number> = {
    invalid_envelope: 0,
    unknown_type: 0,
    invalid_event: 0,
    oversized: 0,
    unframeable: 0,
    truncated: 0,
    sink_error: 0,
    buffer_budget: 0,
  };

  eventsOf(hook: (typeof HOOKS)[number]): number {
    return this.eventsByHook[HOOKS.indexOf(hook)]!;
  }

  rejectedTotal(): number {
    let n = 0;
    for (const r of REJECT_REASONS) n += this.rejected[r];
    return n;
  }
}
