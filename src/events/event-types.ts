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

export interface DeliverEvent extends EventBase<'on_deliver'>, DeliveryFields {}

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
