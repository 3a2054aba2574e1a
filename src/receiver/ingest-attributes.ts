/**
 * The values of the receivers' metric attributes: why input did not become events, why the
 * receiver closed a connection, which transport carried an event (the catalog lists them from
 * here).
 */
import type { DecodeFailure } from '../decoding/event-decoder.js';

/**
 * Why a frame (or a part of the stream) did not become an event. These values are the
 * `reason` attribute of vmq_sidecar.frame.rejected: keep them stable.
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
  'empty_frame',
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
 * vmq_sidecar.connection.closed: keep them stable.
 */
export type CloseReason =
  /** It held the most partial-frame bytes when all connections together passed --max-buffered-bytes. */
  | 'buffer_budget'
  /** --max-connections were open; it was the longest idle one that had sent no valid frame. */
  | 'evicted_idle';

export const CLOSE_REASONS: readonly CloseReason[] = ['buffer_budget', 'evicted_idle'];

/** How an event reached the sidecar. Values are the `transport` attribute: keep them stable. */
export type Transport = 'tcp' | 'grpc';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'grpc'];
