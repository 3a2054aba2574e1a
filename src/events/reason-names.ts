/**
 * Stable lowercase names for the enum reasons the plugin sends. These names are metric
 * attribute values and alert-rule selectors, so they never change once published.
 */

/** Returned for an enum number this version does not know (a newer sender). */
export const UNKNOWN_REASON = 'unknown' as const;

/** eventssidecar.v1.Reason, indexed by number. */
export const DISCONNECT_REASONS = [
  'unspecified',
  'not_authorized',
  'normal_disconnect',
  'session_taken_over',
  'administrative_action',
  'disconnect_keep_alive',
  'disconnect_migration',
  'bad_authentication_method',
  'remote_session_taken_over',
  'mqtt_client_disconnect',
  'receive_max_exceeded',
  'protocol_error',
  'publish_auth_error',
  'invalid_pubrec_error',
  'invalid_pubcomp_error',
  'unexpected_frame_type',
  'exit_signal_received',
  'tcp_closed',
] as const;

/** A disconnect reason as metric attribute value. */
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number] | typeof UNKNOWN_REASON;

/** eventssidecar.v1.RegistrationFailureReason, indexed by number. */
export const REGISTRATION_FAILURE_REASONS = [
  'unspecified',
  'no_matching_hook_found',
  'invalid_credentials',
  'not_authorized',
  'stale_request',
  'invalid_signature',
  'username_rid_mismatch',
] as const;

/** A registration failure reason as metric attribute value. */
export type RegistrationFailureReason = (typeof REGISTRATION_FAILURE_REASONS)[number] | typeof UNKNOWN_REASON;

/**
 * Disconnect reasons that are part of a client's normal life; any other reason is abnormal
 * (logged at WARN, and what disconnect alerts look at).
 */
export const NORMAL_DISCONNECT_REASONS: ReadonlySet<string> = new Set([
  'normal_disconnect',
  'mqtt_client_disconnect',
  'session_taken_over',
  'remote_session_taken_over',
  'disconnect_migration',
]);

/**
 * Whether a disconnect reason says the connection failed: neither a normal one nor
 * `unspecified`, which says nothing. The broker reports every disconnect of an MQTT 5 session
 * as unspecified (a normal DISCONNECT, a killed TCP connection, a persistent session alike:
 * observed on v5.1.0), so treating it as a failure would make every MQTT 5 disconnect a WARN.
 */
export function isFailedDisconnect(reason: string): boolean {
  return reason !== 'unspecified' && !NORMAL_DISCONNECT_REASONS.has(reason);
}

export function disconnectReasonName(n: number): DisconnectReason {
  return (DISCONNECT_REASONS as readonly DisconnectReason[])[n] ?? UNKNOWN_REASON;
}

export function registrationFailureReasonName(n: number): RegistrationFailureReason {
  return (REGISTRATION_FAILURE_REASONS as readonly RegistrationFailureReason[])[n] ?? UNKNOWN_REASON;
}
