/**
 * The typed events the rest of the pipeline sees, one per plugin hook.
 *
 * Field names are the protobuf field names in lowerCamelCase, which is what the decoder
 * produces without a conversion pass. Fields absent on the wire read as their proto3 defaults
 * ("" / 0 / false), so an older sender's messages have the same shape as a newer one's.
 */

import type { DisconnectReason, RegistrationFailureReason } from './reason-names.js';

export const HOOKS = [
  'on_register',
  'on_register_failed',
  'on_client_wakeup',
  'on_client_offline',
  'on_client_gone',
  'on_session_expired',
  'on_subscribe',
  'on_unsubscribe',
  'on_publish',
  'on_deliver',
  'on_delivery_complete',
  'on_offline_message',
  'on_message_drop',
] as const;

export type HookName = (typeof HOOKS)[number];

/** Protobuf message name (as in Any.type_url) for each hook. */
export const MESSAGE_NAMES: Readonly<Record<HookName, string>> = {
  on_register: 'OnRegister',
  on_register_failed: 'OnRegisterFailed',
  on_client_wakeup: 'OnClientWakeUp',
  on_client_offline: 'OnClientOffline',
  on_client_gone: 'OnClientGone',
  on_session_expired: 'OnSessionExpired',
  on_subscribe: 'OnSubscribe',
  on_unsubscribe: 'OnUnsubscribe',
  on_publish: 'OnPublish',
  on_deliver: 'OnDeliver',
  on_delivery_complete: 'OnDeliveryComplete',
  on_offline_message: 'OnOfflineMessage',
  on_message_drop: 'OnMessageDrop',
};

export const TYPE_URL_PREFIX = 'type.googleapis.com/eventssidecar.v1.';

/**
 * The hooks vmq_events_sidecar_m5 (plugin/vmq_events_sidecar_m5/, the companion plugin) reports
 * for MQTT 5 sessions, from VerneMQ's on_register_m5, on_publish_m5, on_subscribe_m5,
 * on_unsubscribe_m5, on_deliver_m5 and three-argument on_message_drop. Its messages
 * (proto/mqtt5/) have the names of the plugin's, in their own package, and decode into the same
 * events with protocolVersion '5'.
 */
export const MQTT5_HOOKS = ['on_register', 'on_publish', 'on_subscribe', 'on_unsubscribe', 'on_deliver', 'on_message_drop'] as const satisfies readonly HookName[];

export const MQTT5_TYPE_URL_PREFIX = 'type.googleapis.com/vmq_otel_sidecar.mqtt5.v1.';

/**
 * The plugin's hooks that VerneMQ runs only for MQTT 3.1/3.1.1 sessions (vmq_mqtt_fsm); the
 * others come from the session layer, for both protocol versions.
 */
export const MQTT311_ONLY_HOOKS: readonly HookName[] = ['on_register', 'on_register_failed', 'on_subscribe', 'on_unsubscribe', 'on_publish', 'on_deliver', 'on_delivery_complete'];

/**
 * network.protocol.version of the session an event is about: '5' for the companion's events,
 * '3.1.1' for the plugin's events of MQTT3.1/3.1.1-only hooks (MQTT 3.1 sessions included), ''
 * (unknown) for the session-layer hooks, which fire for either version.
 */
export type ProtocolVersion = '' | '3.1.1' | '5';

export interface MatchedAcl {
  name: string;
  pattern: string;
}

interface EventBase<H extends HookName> {
  /** Discriminant: the plugin hook that produced the event. */
  hook: H;
  /** Index of the hook in HOOKS, for array-indexed counters. */
  hookIndex: number;
  /** Broker wall-clock time of the hook, whole seconds since the Unix epoch. */
  timeSec: number;
  /** Nanoseconds within timeSec. */
  timeNanos: number;
  /** True when the sender left the timestamp out (time then is the arrival time). */
  timeMissing: boolean;
  /**
   * Items of a list or map field (user properties, topics) beyond what one event may carry,
   * skipped by the decoder (event-decoder.ts: MAX_ITEMS); 0 for almost every event.
   */
  truncatedItems: number;
  mountpoint: string;
  clientId: string;
  /** Set by the decoder on every event it produces; absent on events built by hand (read as ''). */
  protocolVersion?: ProtocolVersion;
}

export interface RegisterEvent extends EventBase<'on_register'> {
  peerAddr: string;
  peerPort: number;
  username: string;
  userProperties: Record<string, string>;
  sessionId: string;
}

export interface RegisterFailedEvent extends EventBase<'on_register_failed'> {
  peerAddr: string;
  peerPort: number;
  username: string;
  cleanSession: boolean;
  /** RegistrationFailureReason number as sent. */
  reason: number;
  /** Stable lowercase name of reason, e.g. "invalid_credentials"; "unknown" for unlisted numbers. */
  reasonName: RegistrationFailureReason;
}

export interface ClientWakeUpEvent extends EventBase<'on_client_wakeup'> {
  sessionId: string;
}

interface DisconnectFields {
  /** Disconnect Reason number as sent. */
  reason: number;
  /** Stable lowercase name of reason, e.g. "tcp_closed"; "unknown" for unlisted numbers. */
  reasonName: DisconnectReason;
  username: string;
  sessionId: string;
}

export interface ClientOfflineEvent extends EventBase<'on_client_offline'>, DisconnectFields {}

export interface ClientGoneEvent extends EventBase<'on_client_gone'>, DisconnectFields {}

export interface SessionExpiredEvent extends EventBase<'on_session_expired'> {
  sessionId: string;
}

export interface TopicInfo {
  topic: string;
  /** Granted QoS, or 128 when the subscription was refused. */
  qos: number;
  matchedAcl: MatchedAcl | null;
  /** MQTT 5 only (the companion): the SUBACK reason code, 0-2 or 0x80 and above. */
  reasonCode?: number;
}

export interface SubscribeEvent extends EventBase<'on_subscribe'> {
  username: string;
  topics: TopicInfo[];
  sessionId: string;
}

export interface UnsubscribeEvent extends EventBase<'on_unsubscribe'> {
  username: string;
  topics: string[];
  sessionId: string;
}

export interface PublishEvent extends EventBase<'on_publish'> {
  username: string;
  qos: number;
  topic: string;
  /** Raw MQTT payload; a view into the received bytes, valid for the duration of the call. */
  payload: Uint8Array;
  retain: boolean;
  matchedAcl: MatchedAcl | null;
  sessionId: string;
  /** MQTT 5 only (the companion): the PUBLISH's user properties its allowlist lets through. */
  userProperties?: Record<string, string>;
}

interface DeliveryFields {
  username: string;
  topic: string;
  qos: number;
  isRetain: boolean;
  payload: Uint8Array;
  matchedAcl: MatchedAcl | null;
  persisted: boolean;
  sessionId: string;
}

export interface DeliverEvent extends EventBase<'on_deliver'>, DeliveryFields {
  /** MQTT 5 only (the companion): the message's user properties its allowlist lets through. */
  userProperties?: Record<string, string>;
}

export interface DeliveryCompleteEvent extends EventBase<'on_delivery_complete'>, DeliveryFields {}

export interface OfflineMessageEvent extends EventBase<'on_offline_message'> {
  qos: number;
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  sessionId: string;
}

export interface MessageDropEvent extends EventBase<'on_message_drop'> {
  qos: number;
  topic: string;
  payload: Uint8Array;
  /** Free-form reason (an Erlang atom name such as "queue_full"). */
  reason: string;
  matchedAcl: MatchedAcl | null;
  sessionId: string;
}

export type SidecarEvent =
  | RegisterEvent
  | RegisterFailedEvent
  | ClientWakeUpEvent
  | ClientOfflineEvent
  | ClientGoneEvent
  | SessionExpiredEvent
  | SubscribeEvent
  | UnsubscribeEvent
  | PublishEvent
  | DeliverEvent
  | DeliveryCompleteEvent
  | OfflineMessageEvent
  | MessageDropEvent;
