/**
 * What the log sink puts on each record, per hook: the source of the log half of
 * docs/telemetry.md, and what the tests hold the log sink to.
 */
import type { HookName } from '../events/event-types.js';

/**
 * Every attribute key a record may carry, with its description: log-sink.ts writes keys of this
 * type only (LogAttributeKey), so a key cannot be written without being documented here.
 */
export const LOG_ATTRIBUTES = {
  'messaging.system': 'always "mqtt"',
  'messaging.client.id': 'the MQTT client id',
  'mqtt.mountpoint': 'the VerneMQ mountpoint; absent for the default mountpoint ("")',
  'mqtt.client.group': 'the --client-groups name of the client (as on the metrics), only with --client-groups',
  'mqtt.session.id': 'the broker\'s session id (newer plugin versions), when not empty',
  'user.name': 'the MQTT username, when the client sent one',
  'client.address': 'the client\'s address as the broker sees it (behind a PROXY-protocol load balancer, the original client), when the broker could print it',
  'client.port': 'the client\'s port',
  'network.protocol.version': 'the MQTT version of the client\'s session: 5 on the events of the companion plugin vmq_events_sidecar_m5 (docs/mqtt5.md), 3.1.1 on vmq_events_sidecar\'s events of hooks that fire for MQTT 3.1/3.1.1 sessions only; absent on session-layer events (wakeup, offline, gone, expiry, offline message, and drops reported by vmq_events_sidecar), which fire for either version',
  'mqtt.user_property.<key>': 'on_register: user properties of an MQTT 3.1.1 CONNECT (the properties block after the CONNECT payload that Gojek\'s fork accepts; MQTT 5 CONNECT properties reach no notification hook); on_publish / on_deliver: user properties of the MQTT 5 PUBLISH (from vmq_events_sidecar_m5, which forwards only the keys of its own allowlist). Only for the keys allowed by --log-user-properties (traceparent and tracestate by default): at most 16, keys and values cut at 256 characters',
  'mqtt.user_properties.dropped': 'how many allowed user properties were left out past 16 (also counted in the record\'s dropped_attributes_count)',
  'error.type': 'on_register_failed: why the broker refused the connection (the values of error.type on mqtt.client.registration.failures); on_message_drop: why the broker dropped the message, as sent; WARN on_client_offline / on_client_gone: the disconnect reason (absent on INFO ones)',
  'mqtt.clean_session': 'whether the refused client asked for a clean session',
  'mqtt.disconnect.reason': 'why the client went away (see the metric attribute for values)',
  'mqtt.session.persistent': 'true for on_client_offline (session kept), false for on_client_gone',
  'mqtt.subscription.topics': 'the topic filters of the SUBSCRIBE or UNSUBSCRIBE (array)',
  'mqtt.subscription.qos': 'on_subscribe: the granted QoS per filter, 128 when refused (array); on_deliver: the QoS of the subscription the message was delivered through, as the broker reports it (not the message QoS)',
  'mqtt.subscription.reason_codes': 'MQTT 5 SUBSCRIBE (vmq_events_sidecar_m5): the SUBACK reason code per filter, 0-2 granted, 0x80 and above refused, e.g. 135 (0x87) not authorized (array, as mqtt.subscription.qos)',
  'mqtt.subscription.topics.dropped': 'how many topic filters were left out of mqtt.subscription.topics (and .qos) past the first 100',
  'messaging.destination.name': 'the topic',
  'mqtt.qos': 'the message QoS (on_offline_message: as the broker reports it, qos 1 for a QoS 0 message, which it then drops with reason user_offline)',
  'mqtt.retain': 'the retain flag',
  'mqtt.persisted': 'whether the delivered message came from the offline store',
  'messaging.message.body.size': 'payload size in bytes',
  'mqtt.acl.name': 'name of the ACL entry that allowed the topic, when sent',
  'messaging.destination.template': 'the low-cardinality template the topic matched: the pattern of that ACL entry when the broker sends one, else the first matching --topic-groups filter; absent when neither',
  'mqtt.payload': 'the payload, only with --log-payload-bytes, cut at that size: UTF-8 text when valid, else base64',
  'mqtt.payload.encoding': '"utf8" or "base64", with mqtt.payload',
  'mqtt.payload.truncated': 'true when mqtt.payload was cut',
} as const satisfies Record<string, string>;

/** An attribute key of a log record (user properties add their own key after mqtt.user_property.). */
export type LogAttributeKey = Exclude<keyof typeof LOG_ATTRIBUTES, 'mqtt.user_property.<key>'>;

type Key = keyof typeof LOG_ATTRIBUTES;

const COMMON: readonly Key[] = ['messaging.system', 'messaging.client.id', 'mqtt.mountpoint'];
/** COMMON, on the records of hooks whose events say the session's MQTT version. */
const VERSIONED: readonly Key[] = [...COMMON, 'network.protocol.version'];
/** A connection attempt, accepted (on_register) or refused (on_register_failed). */
const CONNECTING: readonly Key[] = [...VERSIONED, 'mqtt.client.group', 'client.address', 'client.port', 'user.name'];
/** A connection's end: on_client_offline and on_client_gone carry the same attributes. */
const DISCONNECT: readonly Key[] = [...COMMON, 'mqtt.client.group', 'user.name', 'mqtt.session.id', 'mqtt.disconnect.reason', 'error.type', 'mqtt.session.persistent'];
const MESSAGE: readonly Key[] = ['messaging.destination.name', 'mqtt.qos', 'messaging.message.body.size', 'mqtt.payload', 'mqtt.payload.encoding', 'mqtt.payload.truncated'];
// on_deliver carries the subscription's QoS where other message hooks carry the message's.
const DELIVERY = MESSAGE.map((a) => (a === 'mqtt.qos' ? 'mqtt.subscription.qos' : a));

export interface LogRecordDoc {
  body: string;
  severity: string;
  trace: string;
  attributes: readonly string[];
}

export const LOG_RECORDS: Record<HookName, LogRecordDoc> = {
  on_register: {
    body: 'client C connected from ADDR:PORT',
    severity: 'INFO',
    trace: 'traceparent/tracestate user properties (MQTT 3.1.1 CONNECT)',
    attributes: [...CONNECTING, 'mqtt.session.id', 'mqtt.user_property.<key>', 'mqtt.user_properties.dropped'],
  },
  on_register_failed: {
    body: 'client C refused: REASON',
    severity: 'WARN',
    trace: '-',
    attributes: [...CONNECTING, 'error.type', 'mqtt.clean_session'],
  },
  on_client_wakeup: { body: 'client C attached to its session', severity: 'INFO', trace: '-', attributes: [...COMMON, 'mqtt.session.id'] },
  on_client_offline: {
    body: 'client C went offline (REASON); session kept',
    severity: 'INFO for normal_disconnect, mqtt_client_disconnect, session_taken_over, remote_session_taken_over, disconnect_migration and unspecified (every MQTT 5 disconnect); WARN otherwise',
    trace: '-',
    attributes: DISCONNECT,
  },
  on_client_gone: {
    body: 'client C disconnected (REASON); session removed',
    severity: 'as on_client_offline',
    trace: '-',
    attributes: DISCONNECT,
  },
  on_session_expired: { body: 'session of client C expired', severity: 'INFO', trace: '-', attributes: [...COMMON, 'mqtt.session.id'] },
  on_subscribe: {
    body: 'client C subscribed to N topic filter(s)[, M refused]',
    severity: 'WARN when a filter was refused, else INFO',
    trace: '-',
    attributes: [...VERSIONED, 'user.name', 'mqtt.session.id', 'mqtt.subscription.topics', 'mqtt.subscription.qos', 'mqtt.subscription.reason_codes', 'mqtt.subscription.topics.dropped'],
  },
  on_unsubscribe: {
    body: 'client C unsubscribed from N topic filter(s)',
    severity: 'INFO',
    trace: '-',
    attributes: [...VERSIONED, 'user.name', 'mqtt.session.id', 'mqtt.subscription.topics', 'mqtt.subscription.topics.dropped'],
  },
  on_publish: {
    body: 'client C published to TOPIC (qos Q, N bytes)',
    severity: 'INFO',
    trace: 'traceparent/tracestate user properties of an MQTT 5 PUBLISH, else JSON payload field (--trace-context-field)',
    attributes: [...VERSIONED, 'mqtt.client.group', 'user.name', 'mqtt.session.id', ...MESSAGE, 'mqtt.retain', 'mqtt.acl.name', 'messaging.destination.template', 'mqtt.user_property.<key>', 'mqtt.user_properties.dropped'],
  },
  on_deliver: {
    body: 'message on TOPIC delivered to C',
    severity: 'INFO',
    trace: 'as on_publish',
    attributes: [...VERSIONED, 'mqtt.client.group', 'user.name', 'mqtt.session.id', ...DELIVERY, 'mqtt.retain', 'mqtt.persisted', 'mqtt.acl.name', 'messaging.destination.template', 'mqtt.user_property.<key>', 'mqtt.user_properties.dropped'],
  },
  on_delivery_complete: {
    body: 'delivery of message on TOPIC to C complete',
    severity: 'INFO',
    trace: 'JSON payload field',
    attributes: [...VERSIONED, 'user.name', 'mqtt.session.id', ...MESSAGE, 'mqtt.retain', 'mqtt.persisted', 'mqtt.acl.name', 'messaging.destination.template'],
  },
  on_offline_message: {
    body: 'message on TOPIC queued for offline client C',
    severity: 'INFO',
    trace: 'JSON payload field',
    attributes: [...COMMON, 'mqtt.session.id', ...MESSAGE, 'mqtt.retain', 'messaging.destination.template'],
  },
  on_message_drop: {
    body: 'message on TOPIC for C dropped: REASON',
    severity: 'WARN',
    trace: 'JSON payload field',
    attributes: [...VERSIONED, 'mqtt.session.id', ...MESSAGE, 'error.type', 'mqtt.acl.name', 'messaging.destination.template'],
  },
};
