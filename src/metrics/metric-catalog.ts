/**
 * Every metric the sidecar exports, in one typed list. The metric sinks create their series
 * from it, docs/telemetry.md is generated from it (`npm run docs`), and the tests check the
 * dashboards and alert rules against the Prometheus names it derives.
 */
import { prometheusName } from './prometheus-naming.js';
import type { ClientGroup, DropReason, GrantedQos, Mountpoint, Qos, TopicGroup } from './bounded-values.js';
import { CLIENT_GROUP_ATTRIBUTE_DEF } from './client-grouper.js';
import { DISCONNECT_REASONS, REGISTRATION_FAILURE_REASONS, type DisconnectReason, type RegistrationFailureReason } from '../events/reason-names.js';
import { HOOKS } from '../events/event-types.js';
import { CLOSE_REASONS, REJECT_REASONS, TRANSPORTS, type CloseReason, type RejectReason, type Transport } from '../receiver/ingest-attributes.js';

/**
 * counter: monotonic sum; updown: additive count that goes both ways (clients connected);
 * gauge: a value observed as is, not additive (an age, a flag, a count read from the broker).
 */
export type MetricKind = 'counter' | 'updown' | 'gauge' | 'histogram';
export type AttributeType = 'string' | 'int' | 'bool';
/** An attribute value as the sinks pass it, in the order of the metric's attributes. */
export type AttributeValue = string | number | boolean;

/** An attribute whose values have the type V in code. */
export interface AttributeDef<V extends AttributeValue = AttributeValue> {
  name: string;
  type: AttributeType;
  /** What values it takes, for the catalog. */
  values: string;
  /**
   * The value "" means the attribute is absent on that series (error.type on success: semconv
   * sets it only on failures, so a failure ratio is `x{error_type!=""} / x`).
   */
  absentWhenEmpty?: true;
  /** For attributes added after the semantic-conventions pass (not in scripts/semconv-renames.ts): the convention the name follows. */
  convention?: string;
  /** Never set: carries V for the compiler, which types the metric store's accessors with it. */
  readonly valueType?: V;
}

function attribute<V extends AttributeValue>(def: AttributeDef<V>): AttributeDef<V> {
  return def;
}

const CLOSE_REASON_MEANING: Record<CloseReason, string> = {
  buffer_budget: 'it held the most partial-frame bytes when --max-buffered-bytes was passed',
  evicted_idle: '--max-connections reached: the longest idle connection that had sent no valid event made room for a new one',
};

/** A value list as the catalog shows it. */
const list = (values: readonly string[]): string => values.join(', ');

/**
 * What a metric's values are: whole counts, or measurements with fractions. The OTLP producer
 * sends the first as `asInt` and the second as `asDouble`, so that a fraction survives the wire
 * (protobuf truncates 0.0123 in an int field to 0) and OTLP agrees with /metrics.
 */
export type MetricValueType = 'int' | 'double';

export interface MetricDef {
  name: string;
  kind: MetricKind;
  valueType: MetricValueType;
  unit: string;
  description: string;
  attributes: readonly AttributeDef[];
  /** Which events feed it, for the catalog. */
  source: string;
  /** Explicit bucket boundaries (histograms). */
  buckets?: readonly number[];
  /** For metrics added after the semantic-conventions pass (no entry in scripts/semconv-renames.ts): the convention the name follows. */
  conventionNote?: string;
}

// ---- attributes (values documented once, shared) ----

export const ATTR = {
  mountpoint: attribute<Mountpoint>({ name: 'mqtt.mountpoint', type: 'string', values: 'the VerneMQ mountpoint; "" is the default mountpoint (no label in Prometheus); at most --max-mountpoints distinct values, then "other"' }),
  qos: attribute<GrantedQos>({ name: 'mqtt.qos', type: 'int', values: '0, 1, 2 (and 128 for a refused subscription); "invalid" for any other number (counted in vmq_sidecar.attribute_value.invalid)' }),
  subscriptionQos: attribute<Qos>({
    name: 'mqtt.subscription.qos',
    type: 'int',
    values: '0, 1, 2: the QoS of the subscription the message was delivered through, which is what the broker reports in on_deliver (a QoS 0 message to a QoS 2 subscription says 2); the QoS the message travelled with is mqtt.qos on mqtt.message.delivery_completed',
  }),
  retain: attribute<boolean>({ name: 'mqtt.retain', type: 'bool', values: 'true, false' }),
  topicGroup: attribute<TopicGroup>({
    name: 'mqtt.topic.group',
    type: 'string',
    values: 'the matched ACL name when the broker sends one, else the name of the first --topic-groups pattern that matches, else "unmatched"; at most --max-topic-groups distinct values, then "other"',
  }),
  clientGroup: attribute<ClientGroup>({ ...CLIENT_GROUP_ATTRIBUTE_DEF, values: `${CLIENT_GROUP_ATTRIBUTE_DEF.values}; absent without --client-groups`, absentWhenEmpty: true, convention: 'no convention for client classes; a bounded operator-chosen name, as mqtt.topic.group' }),
  persisted: attribute<boolean>({ name: 'mqtt.persisted', type: 'bool', values: 'true, false (the message came from the offline store)' }),
  persistent: attribute<boolean>({ name: 'mqtt.session.persistent', type: 'bool', values: 'true for on_client_offline (session kept), false for on_client_gone (session removed)' }),
  disconnectReason: attribute<DisconnectReason>({
    name: 'mqtt.disconnect.reason',
    type: 'string',
    values: `${list(DISCONNECT_REASONS)}; "unknown" for a number this version does not know`,
  }),
  failureReason: attribute<RegistrationFailureReason>({
    name: 'error.type',
    type: 'string',
    values: `${list(REGISTRATION_FAILURE_REASONS)}; "unknown" for a number this version does not know`,
  }),
  dropReason: attribute<DropReason>({
    name: 'error.type',
    type: 'string',
    values: 'the broker\'s reason as sent (queue_full, expired, ...); at most --max-drop-reasons distinct values, then "other"',
  }),
  subscriptionError: attribute<'' | 'refused'>({ name: 'error.type', type: 'string', values: 'refused (qos 128); absent when granted', absentWhenEmpty: true }),
  hook: attribute<string>({ name: 'vernemq.hook', type: 'string', values: `the hook names: ${list(HOOKS)}` }),
  rejectReason: attribute<RejectReason>({
    name: 'error.type',
    type: 'string',
    values: list(REJECT_REASONS),
  }),
  closeReason: attribute<CloseReason>({
    name: 'error.type',
    type: 'string',
    values: CLOSE_REASONS.map((r) => `${r} (${CLOSE_REASON_MEANING[r]})`).join(', '),
  }),
  logProcessError: attribute<'' | 'queue_full' | 'shutdown'>({
    name: 'error.type',
    type: 'string',
    values: 'absent for records handed to the exporter; queue_full (the export queue was full, in records (OTEL_BLRP_MAX_QUEUE_SIZE) or in bytes (--log-queue-max-bytes): the exporter is down or slow), shutdown (still queued when the shutdown deadline passed)',
    absentWhenEmpty: true,
  }),
  logExportError: attribute<'' | 'export_failed' | 'rejected'>({
    name: 'error.type',
    type: 'string',
    values: 'absent for records exported; export_failed (the batch could not be exported and there was no room to retry it), rejected (refused for good by the collector, e.g. HTTP 400/413 or gRPC INVALID_ARGUMENT, or not serializable: dropped without retry after bisecting the batch, within bounds, down to the refused records)',
    absentWhenEmpty: true,
  }),
  spanProcessError: attribute<'' | 'queue_full' | 'shutdown'>({
    name: 'error.type',
    type: 'string',
    values: 'absent for spans handed to the exporter; queue_full (the span export queue was full (OTEL_BSP_MAX_QUEUE_SIZE): the exporter is down or slow), shutdown (still queued when the shutdown deadline passed)',
    absentWhenEmpty: true,
  }),
  spanExportError: attribute<'' | 'export_failed' | 'rejected'>({
    name: 'error.type',
    type: 'string',
    values: 'absent for spans exported; export_failed (the batch could not be exported and there was no room to retry it), rejected (refused for good by the collector: dropped without retry after bisecting the batch down to the refused spans)',
    absentWhenEmpty: true,
  }),
  traceStateKind: attribute<string>({
    name: 'vmq_sidecar.trace.state',
    type: 'string',
    values:
      'receipt (a receipt time, forgotten: a later delivery of the message gets none), waiting_delivery (a delivery waiting for its publish, exported without a receipt time), held_delivery (a QoS 1/2 delivery span waiting for its completion, exported without it), early_completion (a completion that came before its delivery, forgotten)',
    convention: 'no convention for this state; vmq_sidecar namespace as the other self-metrics',
  }),
  componentType: attribute<string>({
    name: 'otel.component.type',
    type: 'string',
    values:
      'batching_log_processor (the log export queue), batching_span_processor (the span export queue); otlp_grpc_log_exporter, otlp_http_log_exporter, otlp_http_json_log_exporter, and the same with span for spans and metric for metrics (by OTEL_EXPORTER_OTLP_*_PROTOCOL)',
  }),
  exportError: attribute<string>({
    name: 'error.type',
    type: 'string',
    values:
      'timeout, the HTTP status code (503), the gRPC status name (UNAVAILABLE), the socket error code (ECONNREFUSED), else the exception name; at most 20 values, then _OTHER. The series without error.type stays 0, so that a rate reads 0 before the first failure rather than no data',
    absentWhenEmpty: true,
  }),
  componentName: attribute<string>({ name: 'otel.component.name', type: 'string', values: '<otel.component.type>/0' }),
  attribute: attribute<string>({ name: 'vmq_sidecar.attribute.name', type: 'string', values: 'the metric attribute whose value was folded into "other"' }),
  invalidAttribute: attribute<string>({
    name: 'vmq_sidecar.attribute.name',
    type: 'string',
    values: 'mqtt.qos, mqtt.mountpoint, error.type (the drop reason of mqtt.message.dropped), mqtt.topic.group, vernemq.user_type (the gRPC user-type metadata): the metric attribute whose value was outside the protocol\'s domain and became "invalid"',
  }),
  scrapeError: attribute<'' | 'error' | 'timeout' | 'invalid'>({
    name: 'error.type',
    type: 'string',
    values: 'absent on success; error (unreachable or HTTP error), timeout, invalid (not Prometheus text)',
    absentWhenEmpty: true,
  }),
  writeError: attribute<'' | 'error'>({ name: 'error.type', type: 'string', values: 'absent on success; error', absentWhenEmpty: true }),
  gaugeMode: attribute<'sessions' | 'deltas'>({ name: 'vmq_sidecar.gauge_mode', type: 'string', values: 'sessions, deltas (--gauge-mode)', convention: 'no convention for this configuration value; namespaced under vmq_sidecar' }),
  gauge: attribute<string>({ name: 'vmq_sidecar.gauge.name', type: 'string', values: 'mqtt.client.connected, mqtt.session.offline' }),
  grpcResult: attribute<string>({ name: 'error.type', type: 'string', absentWhenEmpty: true, values: "absent for the broker's result ok; else its result names as it reports them: deadline_exceeded, unavailable, invalid_argument, dropped, no_workers, crashed, ...; at most 8 names, then other; a name with control characters or over 128 characters is invalid" }),
  transport: attribute<Transport>({ name: 'vmq_sidecar.transport', type: 'string', values: `${list(TRANSPORTS)}: tcp (the plugin's connection pool), grpc (PluginService/Event calls, --grpc-listen)` }),
  grpcCode: attribute<string>({ name: 'rpc.grpc.status', type: 'string', values: 'OK (accepted), INVALID_ARGUMENT (undecodable event or unknown type), RESOURCE_EXHAUSTED (longer than --max-frame-bytes, or the bytes held would pass --max-buffered-bytes), DEADLINE_EXCEEDED (grpc-timeout passed before the message was complete), CANCELLED (reset by the client before the message was complete), UNAVAILABLE (shutting down), UNIMPLEMENTED (an unsupported grpc-encoding), INTERNAL (a malformed grpc-timeout, a compressed message without grpc-encoding); OK and INVALID_ARGUMENT always reported, the others once they occur' }),
  cpuMode: attribute<'user' | 'system'>({ name: 'cpu.mode', type: 'string', values: 'user, system', convention: 'semconv cpu.mode' }),
  eventLoopState: attribute<'active' | 'idle'>({
    name: 'nodejs.eventloop.state',
    type: 'string',
    values: 'active (callbacks: JavaScript and the native work they start, socket reads included), idle (waiting for I/O)',
    convention: 'semconv nodejs.eventloop.state',
  }),
  protocolVersion: attribute<string>({
    name: 'network.protocol.version',
    type: 'string',
    values:
      'the MQTT version of the sessions: 3.1.1 (the broker\'s mqtt_version="4"; on event metrics: events of vmq_events_sidecar, whose per-client hooks fire for MQTT 3.1 and 3.1.1 sessions only), 5 (the broker\'s mqtt_version="5"; on event metrics: events of the companion plugin vmq_events_sidecar_m5, docs/mqtt5.md); on the broker\'s re-exported metrics, invalid for any other value its page carries',
    convention: 'semconv network.protocol.version (the application protocol\'s version, with MQTT as the protocol)',
  }),
  userType: attribute<string>({ name: 'vernemq.user_type', type: 'string', values: 'the user-type metadata of the call (the plugin\'s vmq_events_sidecar.user_type, "default" unless set); "" when absent; at most 20 distinct values (10 at first sighting, 10 more once a value recurs), then "other"; "invalid" for a value over 128 characters or with control characters (counted in vmq_sidecar.attribute_value.invalid)' }),
} as const satisfies Record<string, AttributeDef>;

// Bucket boundaries sized for what they measure (the SDK default is for milliseconds).
const PAYLOAD_BUCKETS = [0, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
const SESSION_BUCKETS = [1, 10, 60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 259200, 604800, 2592000];
const DELAY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const A = ATTR;

export const MQTT_METRICS = {
  connected: {
    name: 'mqtt.client.connected',
    kind: 'updown',
    valueType: 'int',
    unit: '{client}',
    description: 'Clients connected now (woken up and not yet offline or gone), as derived from events since the sidecar started.',
    attributes: [A.mountpoint, A.clientGroup],
    source: '+1 on_client_wakeup, -1 on_client_offline / on_client_gone (reorder-safe per client); with user: --client-groups, on_register moves a connected client to its username\'s group',
  },
  offline: {
    name: 'mqtt.session.offline',
    kind: 'updown',
    valueType: 'int',
    unit: '{session}',
    description: 'Persistent sessions whose client is offline now, as derived from events since the sidecar started.',
    attributes: [A.mountpoint],
    source: '+1 on_client_offline, -1 on_client_wakeup / on_session_expired (reorder-safe per client)',
  },
  registrations: {
    name: 'mqtt.client.registrations',
    kind: 'counter',
    valueType: 'int',
    unit: '{registration}',
    description: 'Clients that connected and were authenticated.',
    attributes: [A.mountpoint, A.clientGroup, A.protocolVersion],
    source: 'on_register (MQTT 3.1/3.1.1), on_register_m5 through vmq_events_sidecar_m5 (MQTT 5)',
  },
  registrationFailures: {
    name: 'mqtt.client.registration.failures',
    kind: 'counter',
    valueType: 'int',
    unit: '{registration}',
    description: 'Connection attempts the broker refused.',
    attributes: [A.mountpoint, A.failureReason, A.clientGroup],
    source: 'on_register_failed',
  },
  disconnects: {
    name: 'mqtt.client.disconnects',
    kind: 'counter',
    valueType: 'int',
    unit: '{disconnect}',
    description: 'Clients that went away, by reason.',
    attributes: [A.mountpoint, A.disconnectReason, A.persistent, A.clientGroup],
    source: 'on_client_offline (persistent=true), on_client_gone (persistent=false)',
  },
  expirations: {
    name: 'mqtt.session.expirations',
    kind: 'counter',
    valueType: 'int',
    unit: '{session}',
    description: 'Offline persistent sessions that expired and were removed.',
    attributes: [A.mountpoint],
    source: 'on_session_expired',
  },
  sessionDuration: {
    name: 'mqtt.session.duration',
    kind: 'histogram',
    valueType: 'double',
    unit: 's',
    description: 'How long a client stayed connected, from its wakeup to its offline or gone event (both seen by this sidecar).',
    attributes: [A.mountpoint, A.persistent],
    source: 'on_client_wakeup -> on_client_offline / on_client_gone',
    buckets: SESSION_BUCKETS,
  },
  published: {
    name: 'mqtt.message.published',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: 'Messages published by clients (a sample when the plugin samples on_publish).',
    attributes: [A.mountpoint, A.qos, A.retain, A.topicGroup, A.clientGroup, A.protocolVersion],
    source: 'on_publish (MQTT 3.1/3.1.1), on_publish_m5 through vmq_events_sidecar_m5 (MQTT 5)',
  },
  payloadSize: {
    name: 'mqtt.publish.payload.size',
    kind: 'histogram',
    valueType: 'double',
    unit: 'By',
    description: 'Size of published payloads.',
    attributes: [A.qos, A.topicGroup],
    source: 'on_publish',
    buckets: PAYLOAD_BUCKETS,
  },
  delivered: {
    name: 'mqtt.message.delivered',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: "Messages delivered to subscribers (a sample when the plugin samples on_deliver), by the subscription's QoS (not the message's).",
    attributes: [A.mountpoint, A.subscriptionQos, A.topicGroup, A.persisted, A.clientGroup, A.protocolVersion],
    source: 'on_deliver (to MQTT 3.1/3.1.1 subscribers), on_deliver_m5 through vmq_events_sidecar_m5 (to MQTT 5 subscribers; persisted is always false)',
  },
  deliveryDuration: {
    name: 'mqtt.message.delivery.duration',
    kind: 'histogram',
    valueType: 'double',
    unit: 's',
    description:
      "Broker hop of a message with trace context: from the broker's receipt (on_publish) to a delivery (on_deliver), both broker times. Only while spans are exported (OTEL_TRACES_EXPORTER), for messages whose publish this sidecar saw within --trace-receipt-retention (sampled or not). No exemplars: the OpenTelemetry JS SDK's data points carry none (docs/traces.md).",
    attributes: [A.topicGroup, A.subscriptionQos],
    source: 'on_publish -> on_deliver of messages whose payload carries a traceparent (--trace-context-field)',
    buckets: DELAY_BUCKETS,
    conventionNote: 'semconv messaging.*.duration style (a duration histogram in s under the operation it times); mqtt namespace as the other derived metrics, no semconv metric for a broker hop',
  },
  deliveryCompleted: {
    name: 'mqtt.message.delivery_completed',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: "Deliveries completed (a sample when the plugin samples on_delivery_complete), by the message's QoS as delivered (1 or 2; QoS 0 deliveries complete nothing).",
    attributes: [A.mountpoint, A.qos, A.topicGroup, A.clientGroup],
    source: 'on_delivery_complete',
  },
  queuedOffline: {
    name: 'mqtt.message.queued_offline',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description:
      'Messages queued for offline persistent sessions, by the QoS the broker reports: it reports a QoS 0 message as qos 1 here and then drops it (mqtt.message.dropped, reason user_offline).',
    attributes: [A.mountpoint, A.qos, A.topicGroup, A.clientGroup],
    source: 'on_offline_message',
  },
  dropped: {
    name: 'mqtt.message.dropped',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: 'Messages the broker dropped, by reason.',
    attributes: [A.mountpoint, A.qos, A.dropReason, A.topicGroup, A.clientGroup],
    source: 'on_message_drop; for MQTT 5 sessions the three-argument on_message_drop (no_matching_subscribers, max_packet_size_exceeded) through vmq_events_sidecar_m5',
  },
  subscriptions: {
    name: 'mqtt.subscriptions',
    kind: 'counter',
    valueType: 'int',
    unit: '{subscription}',
    description: 'Topic filters subscribed to (one per filter of a SUBSCRIBE), granted or refused.',
    attributes: [A.mountpoint, A.qos, A.subscriptionError, A.topicGroup, A.protocolVersion],
    source: 'on_subscribe (MQTT 3.1/3.1.1), on_subscribe_m5 through vmq_events_sidecar_m5 (MQTT 5)',
  },
  unsubscriptions: {
    name: 'mqtt.unsubscriptions',
    kind: 'counter',
    valueType: 'int',
    unit: '{subscription}',
    description: 'Topic filters unsubscribed from (one per filter of an UNSUBSCRIBE).',
    attributes: [A.mountpoint, A.protocolVersion],
    source: 'on_unsubscribe (MQTT 3.1/3.1.1), on_unsubscribe_m5 through vmq_events_sidecar_m5 (MQTT 5)',
  },
} as const satisfies Record<string, MetricDef>;

export const SIDECAR_METRICS = {
  connectionsOpen: {
    name: 'vmq_sidecar.connection.open',
    kind: 'updown',
    valueType: 'int',
    unit: '{connection}',
    description: 'Plugin connections open now, by transport (TCP connections of the plugin\'s pool; HTTP/2 connections of its gRPC transport).',
    attributes: [A.transport],
    source: 'the TCP and gRPC receivers',
  },
  connectionsAccepted: {
    name: 'vmq_sidecar.connection.accepted',
    kind: 'counter',
    valueType: 'int',
    unit: '{connection}',
    description: 'Plugin connections accepted, by transport.',
    attributes: [A.transport],
    source: 'the TCP and gRPC receivers',
  },
  connectionsRefused: {
    name: 'vmq_sidecar.connection.refused',
    kind: 'counter',
    valueType: 'int',
    unit: '{connection}',
    description: 'Plugin connections refused because --max-connections (tcp) or --grpc-max-connections (grpc) were open, by transport.',
    attributes: [A.transport],
    source: 'the TCP and gRPC receivers',
  },
  connectionsClosed: {
    name: 'vmq_sidecar.connection.closed',
    kind: 'counter',
    valueType: 'int',
    unit: '{connection}',
    description: 'Plugin connections the sidecar closed itself to protect the others, by reason.',
    attributes: [A.closeReason],
    source: 'the TCP receiver',
  },
  framesBuffered: {
    name: 'vmq_sidecar.frame.buffered',
    kind: 'updown',
    valueType: 'int',
    unit: 'By',
    description: 'Memory held now by partial frames (received in part, waiting for the rest), all connections together; bounded by --max-buffered-bytes.',
    attributes: [],
    source: 'the TCP receiver',
  },
  bytesReceived: {
    name: 'vmq_sidecar.received',
    kind: 'counter',
    valueType: 'int',
    unit: 'By',
    description: 'Bytes received from the plugin.',
    attributes: [],
    source: 'the TCP receiver',
  },
  eventsReceived: {
    name: 'vmq_sidecar.event.received',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description: 'Events received and decoded, by hook and transport.',
    attributes: [A.hook, A.transport],
    source: 'every event',
  },
  framesRejected: {
    name: 'vmq_sidecar.frame.rejected',
    kind: 'counter',
    valueType: 'int',
    unit: '{frame}',
    description: 'Frames (or stream remainders, or gRPC calls) that did not become events, by reason and transport.',
    attributes: [A.rejectReason, A.transport],
    source: 'the receiver and decoder',
  },
  itemsTruncated: {
    name: 'vmq_sidecar.event.truncated_items',
    kind: 'counter',
    valueType: 'int',
    unit: '{item}',
    description:
      'Items of an event beyond what one event may carry (user properties past 100 per on_register, and per on_publish / on_deliver of the MQTT 5 companion, topics past 10000 per on_subscribe / on_unsubscribe), skipped by the decoder, by hook. The event itself is kept; skipped unsubscribed topics still count in mqtt.unsubscriptions, skipped subscribed topics (whose QoS is not decoded) do not count in mqtt.subscriptions.',
    attributes: [A.hook],
    source: 'the decoder',
  },
  grpcCalls: {
    name: 'vmq_sidecar.grpc.calls',
    kind: 'counter',
    valueType: 'int',
    unit: '{call}',
    description: 'PluginService/Event calls answered, by status and user-type metadata.',
    attributes: [A.grpcCode, A.userType],
    source: 'the gRPC receiver',
  },
  eventDelay: {
    name: 'vmq_sidecar.event.delay',
    kind: 'histogram',
    valueType: 'double',
    unit: 's',
    description: "Time from the broker's event timestamp to its arrival at the sidecar (includes clock skew between the two).",
    attributes: [],
    source: 'every event with a timestamp',
    buckets: DELAY_BUCKETS,
  },
  eventDelayClamped: {
    name: 'vmq_sidecar.event.delay.clamped',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description:
      'Events whose delay was more than a day either way (a broker clock far off, or a forged timestamp): recorded in vmq_sidecar.event.delay as 86,400 s (late) or 0 (from the future), so that one such event cannot make the histogram\'s sum meaningless.',
    attributes: [],
    source: 'every event with a timestamp',
    conventionNote: 'no convention for clamped measurements; named after the histogram it guards (added after the pass: no 0.1.0 name)',
  },
  spansProcessed: {
    name: 'otel.sdk.processor.span.processed',
    kind: 'counter',
    valueType: 'int',
    unit: '{span}',
    description:
      "Spans the span export queue (the part of the SDK's batching span processor) finished with: handed to the exporter (no error.type; counted once their export has finished), or given up before export (error.type). The SDK's own span processor is not used.",
    attributes: [A.componentType, A.componentName, A.spanProcessError],
    source: 'the span export queue',
    conventionNote: 'semconv otel.sdk.processor.span.processed, as the log queue\'s otel.sdk.processor.log.processed (added with spans: no 0.1.0 name)',
  },
  spansExported: {
    name: 'otel.sdk.exporter.span.exported',
    kind: 'counter',
    valueType: 'int',
    unit: '{span}',
    description: 'Spans whose export finished: exported (no error.type), or lost for good (error.type).',
    attributes: [A.componentType, A.componentName, A.spanExportError],
    source: 'the span export queue and the OTLP span exporter',
    conventionNote: 'semconv otel.sdk.exporter.span.exported (added with spans: no 0.1.0 name)',
  },
  spanQueueSize: {
    name: 'otel.sdk.processor.span.queue.size',
    kind: 'updown',
    valueType: 'int',
    unit: '{span}',
    description: 'Spans waiting in the span export queue.',
    attributes: [A.componentType, A.componentName],
    source: 'the span export queue',
    conventionNote: 'semconv otel.sdk.processor.span.queue.size (added with spans: no 0.1.0 name)',
  },
  spanQueueCapacity: {
    name: 'otel.sdk.processor.span.queue.capacity',
    kind: 'updown',
    valueType: 'int',
    unit: '{span}',
    description: 'Spans the span export queue holds at most (OTEL_BSP_MAX_QUEUE_SIZE).',
    attributes: [A.componentType, A.componentName],
    source: 'the span export queue',
    conventionNote: 'semconv otel.sdk.processor.span.queue.capacity (added with spans: no 0.1.0 name)',
  },
  traceStateEntries: {
    name: 'vmq_sidecar.trace.state.entries',
    kind: 'gauge',
    valueType: 'int',
    unit: '{entry}',
    description:
      'Entries the span sink holds now: receipt times, deliveries waiting for their publish or their completion, early completions (bounded by --trace-state-max-entries and --trace-state-max-bytes).',
    attributes: [],
    source: 'the span sink',
    conventionNote: 'no convention for this state; vmq_sidecar namespace as the other self-metrics (added with spans: no 0.1.0 name)',
  },
  traceStateEvicted: {
    name: 'vmq_sidecar.trace.state.evicted',
    kind: 'counter',
    valueType: 'int',
    unit: '{entry}',
    description: 'Entries the span sink gave up early because --trace-state-max-entries or --trace-state-max-bytes was reached (oldest first), by what they were.',
    attributes: [A.traceStateKind],
    source: 'the span sink',
    conventionNote: 'no convention for this state; vmq_sidecar namespace as the other self-metrics (added with spans: no 0.1.0 name)',
  },
  deliveriesWithoutReceipt: {
    name: 'vmq_sidecar.trace.delivery.receipt_unknown',
    kind: 'counter',
    valueType: 'int',
    unit: '{span}',
    description:
      "Delivery spans exported without the broker's receipt time (an instant at the delivery): the publish went to another sidecar or replica, was sampled out by the plugin, came later than --trace-reorder-window, or is older than --trace-receipt-retention (offline and retained deliveries).",
    attributes: [],
    source: 'the span sink',
    conventionNote: 'no convention for this state; vmq_sidecar namespace as the other self-metrics (added with spans: no 0.1.0 name)',
  },
  sessionsTracked: {
    name: 'vmq_sidecar.session.tracked',
    kind: 'updown',
    valueType: 'int',
    unit: '{client}',
    description: 'Clients whose session state the sidecar keeps (connected, offline, or recently gone).',
    attributes: [],
    source: 'the session tracker',
  },
  sessionsUntracked: {
    name: 'vmq_sidecar.session.untracked',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description: 'Session events not applied to the gauges because --max-tracked-clients was reached.',
    attributes: [],
    source: 'the session tracker',
  },
  sessionsStale: {
    name: 'vmq_sidecar.session.stale_events',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description: 'Session events older than the state already applied for their client (arrived out of order), not applied to the gauges.',
    attributes: [],
    source: 'the session tracker',
  },
  sessionsUnregisteredWakeups: {
    name: 'vmq_sidecar.session.unregistered_wakeups',
    kind: 'counter',
    valueType: 'int',
    unit: '{session}',
    description:
      'Wakeups for which no on_register arrived within 5 s of broker time while on_register events were flowing: without the companion plugin vmq_events_sidecar_m5, in practice MQTT 5 sessions, for which the plugin sends only session events (no register, publish, subscribe or deliver); with it (its registers pair with MQTT 5 wakeups), registers lost on the way. Wakeups stamped while the broker reported failed on_register sends, or while the plugin\'s connections came back, are held off and not counted (/status heldOff). Divide by the on_client_wakeup rate for the share.',
    attributes: [],
    source: 'on_client_wakeup and on_register, paired by session_id, else by mountpoint + client id and broker time',
  },
  sessionsWakeupMatchOverflow: {
    name: 'vmq_sidecar.session.wakeup_match_overflow',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description: 'Wakeups and registers not paired because 100,000 were already waiting for their partner (neither matched nor counted as unregistered).',
    attributes: [],
    source: 'the wakeup/register pairing',
  },
  attributeValuesFolded: {
    name: 'vmq_sidecar.attribute_value.folded',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description:
      'Metric updates whose attribute value was replaced by "other": the attribute reached its limit of distinct values, or (past half the limit) the value was new and seen for the first time (it gets its own series from its second event on).',
    attributes: [A.attribute],
    source: 'the metric sink',
  },
  attributeValuesInvalid: {
    name: 'vmq_sidecar.attribute_value.invalid',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description:
      'Metric updates whose attribute value was outside the protocol\'s domain (a QoS other than 0, 1, 2, 128; a string with control characters or U+FFFD, or over 128 characters) and became "invalid".',
    attributes: [A.invalidAttribute],
    source: 'the metric sink',
  },
  logRecordsProcessed: {
    name: 'otel.sdk.processor.log.processed',
    kind: 'counter',
    valueType: 'int',
    unit: '{log_record}',
    description:
      'Log records the log export queue (the part of the SDK\'s batching log processor) finished with: handed to the exporter (no error.type; counted once their export has finished), or given up before export (error.type). The SDK\'s own processor and exporters are not used for these records, and their self-metrics are not enabled, so nothing is counted twice.',
    attributes: [A.componentType, A.componentName, A.logProcessError],
    source: 'the log export queue',
  },
  logRecordsExported: {
    name: 'otel.sdk.exporter.log.exported',
    kind: 'counter',
    valueType: 'int',
    unit: '{log_record}',
    description: 'Log records whose export finished: exported (no error.type), or lost for good (error.type).',
    attributes: [A.componentType, A.componentName, A.logExportError],
    source: 'the log export queue and the OTLP log exporter',
  },
  logQueueSize: {
    name: 'otel.sdk.processor.log.queue.size',
    kind: 'updown',
    valueType: 'int',
    unit: '{log_record}',
    description: 'Log records waiting in the log export queue.',
    attributes: [A.componentType, A.componentName],
    source: 'the log export queue',
  },
  logQueueCapacity: {
    name: 'otel.sdk.processor.log.queue.capacity',
    kind: 'updown',
    valueType: 'int',
    unit: '{log_record}',
    description: 'Log records the log export queue holds at most (OTEL_BLRP_MAX_QUEUE_SIZE; --log-queue-max-bytes may fill it first).',
    attributes: [A.componentType, A.componentName],
    source: 'the log export queue',
    conventionNote: 'semconv otel.sdk.processor.log.queue.capacity, beside otel.sdk.processor.log.queue.size (added after the pass: no 0.1.0 name)',
  },
  exportFailures: {
    name: 'vmq_sidecar.export.failures',
    kind: 'counter',
    valueType: 'int',
    unit: '{export}',
    description: 'OTLP exports that failed, by exporter (otel.component.type says the signal and the protocol) and error.type.',
    attributes: [A.componentType, A.exportError],
    source: 'the exporters',
  },
  snapshotWrites: {
    name: 'vmq_sidecar.snapshot.writes',
    kind: 'counter',
    valueType: 'int',
    unit: '{write}',
    description: 'Session state snapshots written to --state-file; failed ones with error.type.',
    attributes: [A.writeError],
    source: 'the snapshot writer',
  },
  snapshotAge: {
    name: 'vmq_sidecar.snapshot.age',
    kind: 'gauge',
    valueType: 'double',
    unit: 's',
    description: 'Seconds since the last successful snapshot (since start, before the first one).',
    attributes: [],
    source: 'the snapshot writer',
  },
  gaugeMode: {
    name: 'vmq_sidecar.gauge.mode',
    kind: 'gauge',
    valueType: 'int',
    unit: '{mode}',
    description:
      'Always 1, with the configured --gauge-mode as attribute: alerts and dashboards sum a deltas-mode deployment\'s replicas (whose gauges mean nothing alone) and judge a sessions-mode sidecar on its own.',
    attributes: [A.gaugeMode],
    source: 'the configuration',
    conventionNote: 'an info-style gauge (always 1) under the vmq_sidecar namespace, as semconv general/naming.md; no convention describes a configuration value',
  },
  snapshotInterval: {
    name: 'vmq_sidecar.snapshot.interval',
    kind: 'gauge',
    valueType: 'double',
    unit: 's',
    description: 'The configured --state-interval, so that alerts judge the snapshot age against it.',
    attributes: [],
    source: 'the snapshot writer',
  },
  hooksMissing: {
    name: 'vmq_sidecar.hook.missing',
    kind: 'gauge',
    valueType: 'int',
    unit: '{hook}',
    description: 'Hooks a gauge needs that never arrived (and that the broker never attempted) while events show they should have fired, e.g. a client waking up again with no offline or gone for its earlier connection (1 while missing, 0 once seen): the gauge is meaningless until the plugin sends them. Not set for a hook that is enabled with nothing to report.',
    attributes: [A.gauge, A.hook],
    source: 'the hook coverage check',
  },
  brokerScrapes: {
    name: 'vmq_sidecar.broker.scrapes',
    kind: 'counter',
    valueType: 'int',
    unit: '{scrape}',
    description: 'Scrapes of --broker-metrics-url; failed ones by error.type.',
    attributes: [A.scrapeError],
    source: 'the broker reconciler',
  },
  brokerConnections: {
    name: 'vmq_sidecar.broker.connections',
    kind: 'gauge',
    valueType: 'int',
    unit: '{client}',
    description: "The broker node's own count of MQTT connections on every listener (active_mqtt_connections, TCP and TLS, plus active_mqttws_connections, WebSocket) at the last scrape.",
    attributes: [],
    source: 'the broker reconciler',
  },
  brokerQueues: {
    name: 'vmq_sidecar.broker.queues',
    kind: 'gauge',
    valueType: 'int',
    unit: '{session}',
    description: "The broker node's session queues, online and offline (queue_processes), at the last scrape.",
    attributes: [],
    source: 'the broker reconciler',
  },
  brokerDrift: {
    name: 'vmq_sidecar.broker.connection.drift',
    kind: 'gauge',
    valueType: 'int',
    unit: '{client}',
    description:
      "mqtt.client.connected (all mountpoints) minus the broker's active_mqtt_connections + active_mqttws_connections, both taken at the last scrape (0 when the broker's count lies between our gauge's values at request and answer): how far the derived gauge is off.",
    attributes: [],
    source: 'the broker reconciler',
  },
  brokerSidecarEvents: {
    name: 'vmq_sidecar.broker.sidecar_events',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description: "The broker's count of events it tried to send to the sidecar (sidecar_events), by hook; counted before the plugin's sampling.",
    attributes: [A.hook],
    source: 'the broker reconciler',
  },
  brokerSidecarEventErrors: {
    name: 'vmq_sidecar.broker.sidecar_event_errors',
    kind: 'counter',
    valueType: 'int',
    unit: '{event}',
    description: "The broker's count of events it failed to send (sidecar_events_error), by hook: lost before reaching the sidecar.",
    attributes: [A.hook],
    source: 'the broker reconciler',
  },
  brokerGrpcCalls: {
    name: 'vmq_sidecar.broker.grpc_calls',
    kind: 'counter',
    valueType: 'int',
    unit: '{call}',
    description:
      "The broker's count of gRPC transport sends (grpc_call_result), by hook and result: ok, or why the event was lost (deadline_exceeded, unavailable, invalid_argument, dropped when every worker queue was full, ...).",
    attributes: [A.hook, A.grpcResult],
    source: 'the broker reconciler',
  },
  upstreamMissing: {
    name: 'vmq_sidecar.upstream.missing',
    kind: 'updown',
    valueType: 'int',
    unit: '{event}',
    description:
      'Since the first broker scrape (carried across sidecar restarts by --state-file, started over when the broker restarts): events the broker attempted minus those received here, both counted at the same scrape (so it moves only at scrapes, and only when the loss does), by hook: its failed sends (vmq_sidecar.broker.sidecar_event_errors) plus what it sent that no sidecar process read. For sampled hooks (publish, deliver, delivery_complete) this includes the sampled-out events.',
    attributes: [A.hook],
    source: 'the broker reconciler',
  },
  processCpuTime: {
    name: 'process.cpu.time',
    kind: 'counter',
    valueType: 'double',
    unit: 's',
    description: "CPU time of the sidecar's process since it started, every thread (the event loop, V8's compiler and garbage collector, libuv's pool), by mode.",
    attributes: [A.cpuMode],
    source: 'the runtime',
    conventionNote: 'semconv process.cpu.time (added after the pass: no 0.1.0 name)',
  },
  processMemoryUsage: {
    name: 'process.memory.usage',
    kind: 'updown',
    valueType: 'int',
    unit: 'By',
    description: "Resident set size of the sidecar's process.",
    attributes: [],
    source: 'the runtime',
    conventionNote: 'semconv process.memory.usage (added after the pass: no 0.1.0 name)',
  },
  eventLoopTime: {
    name: 'nodejs.eventloop.time',
    kind: 'counter',
    valueType: 'double',
    unit: 's',
    description:
      'Time the event loop spent active and idle since it started; active / (active + idle) over an interval is its utilization. Every event is decoded and aggregated on this one loop: near 1, the sidecar is at its throughput limit and the plugin\'s sends wait in the kernel (docs/architecture.md, "One event loop").',
    attributes: [A.eventLoopState],
    source: 'the runtime',
    conventionNote: 'semconv nodejs.eventloop.time (added after the pass: no 0.1.0 name)',
  },
  eventLoopDelayP99: {
    name: 'nodejs.eventloop.delay.p99',
    kind: 'gauge',
    valueType: 'double',
    unit: 's',
    description: "99th percentile of the event loop's delay (perf_hooks.monitorEventLoopDelay) in the last complete 10 s window (the monitor's 10 ms timer period taken off, so an idle loop reads about 0): how late timers and I/O callbacks ran, what exports, scrapes and probes waited. 0 until the first window closes.",
    attributes: [],
    source: 'the runtime',
    conventionNote: 'semconv nodejs.eventloop.delay.p99 (added after the pass: no 0.1.0 name)',
  },
  eventLoopDelayMax: {
    name: 'nodejs.eventloop.delay.max',
    kind: 'gauge',
    valueType: 'double',
    unit: 's',
    description: "The event loop's longest delay in the last complete 10 s window (perf_hooks.monitorEventLoopDelay, its 10 ms timer period taken off): the longest a timer, an export or a probe waited. 0 until the first window closes.",
    attributes: [],
    source: 'the runtime',
    conventionNote: 'semconv nodejs.eventloop.delay.max (added after the pass: no 0.1.0 name)',
  },
} as const satisfies Record<string, MetricDef>;

// ---- the broker's own metrics ----

/**
 * The broker node's own metrics, re-exported under `vernemq.*` from the page --broker-metrics-url
 * already scrapes (only when it is set), so that backends that only take OTLP see retained
 * messages, subscriptions, bytes in/out, netsplits and keep-alive expirations beside the metrics
 * derived from events: the numbers the broker counts itself (src/reconcile/broker-gauges.ts reads
 * them from the page).
 *
 * Names on the broker side are VerneMQ's (apps/vmq_server/src/vmq_metrics.erl), as served by its
 * Prometheus listener (vmq_metrics_http.erl: the bare name, no `_total`, a `node` label, for some
 * an `mqtt_version` label of "4" for MQTT 3.1/3.1.1 sessions and "5" for MQTT 5):
 *   - gojek/vernemq v5.1.0 (the fork this sidecar runs against): all below except netsplit_*;
 *     offline_messages exists only in the fork.
 *   - vernemq/vernemq 2.x (upstream, 2.2.0): netsplit_detected / netsplit_resolved (counters,
 *     from vmq_cluster:netsplit_statistics/0); no offline_messages.
 * A metric the broker does not serve is simply not reported (no zero is invented).
 *
 * The `node` label is dropped (one sidecar per node; the sidecar's resource attributes say which
 * node), other labels are mapped to attributes or summed away.
 */
export type BrokerMetricDef = (BrokerMetricFields & { kind: 'counter' }) | (BrokerMetricFields & { kind: 'gauge' });

interface BrokerMetricFields extends MetricDef {
  /** At most one: the broker-metrics reader passes a point's values by position. */
  attributes: readonly [] | readonly [AttributeDef<string>];
  /** Where the points come from on the broker's page. */
  broker: BrokerMapping;
}

export interface BrokerMapping {
  sources: readonly BrokerSource[];
  /** Broker labels kept, as attribute name and value mapping. */
  labels?: readonly LabelMapping[];
  /** Which VerneMQ versions serve it. */
  versions: string;
}

export interface BrokerSource {
  /** The broker's metric name. */
  broker: string;
  /** Attributes this source's samples get (beside those mapped from labels). */
  attributes?: Readonly<Record<string, string>>;
}

export interface LabelMapping {
  label: string;
  attribute: string;
  /**
   * Broker value -> attribute value; a value not listed becomes "invalid" (the page is a peer's
   * text: its label values are not ours to turn into series).
   */
  values?: Readonly<Record<string, string>>;
}

/** The attributes the broker's metrics carry (mapped from its labels or its metric names). */
const BROKER_ATTR = {
  listenerType: attribute<string>({ name: 'vernemq.listener.type', type: 'string', values: 'tcp (active_mqtt_connections: TCP and TLS listeners), websocket (active_mqttws_connections)', convention: 'VerneMQ\'s listener kind; namespaced, no convention' }),
  ioDirection: attribute<string>({ name: 'network.io.direction', type: 'string', values: 'receive, transmit', convention: 'semconv network.io.direction' }),
} as const;

/** An entry of the broker's metrics, with its catalog source and naming note said from where it comes. */
function brokerMetric<const D extends Omit<BrokerMetricDef, 'source' | 'conventionNote'>>(d: D): D & Pick<MetricDef, 'source' | 'conventionNote'> {
  const names = d.broker.sources.map((s) => s.broker);
  return {
    ...d,
    source: `from the broker: ${names.join(', ')} at each --broker-metrics-url scrape (${d.broker.versions})`,
    conventionNote: `VerneMQ's own ${names.join(' / ')} under the vernemq namespace (general/naming.md: singular namespace, snake_case leaf); no semconv for MQTT brokers${d.attributes.some((a) => a.name.startsWith('network.')) ? '; network.* attributes as semconv' : ''}`,
  };
}

const FORK = 'gojek/vernemq v5.1.0 and vernemq/vernemq 2.x';
const MQTT_VERSION: LabelMapping = { label: 'mqtt_version', attribute: 'network.protocol.version', values: { '4': '3.1.1', '5': '5' } };

/** A pair of the broker's byte counters, one per network.io.direction. */
function directions(received: string, sent: string): BrokerSource[] {
  return [
    { broker: received, attributes: { 'network.io.direction': 'receive' } },
    { broker: sent, attributes: { 'network.io.direction': 'transmit' } },
  ];
}

export const BROKER_METRICS = {
  retainedMessages: brokerMetric({
    name: 'vernemq.retain.messages',
    kind: 'gauge',
    valueType: 'int',
    unit: '{message}',
    description: 'Retained messages the broker node stores now (retain_messages).',
    attributes: [],
    broker: { sources: [{ broker: 'retain_messages' }], versions: FORK },
  }),
  retainedMemory: brokerMetric({
    name: 'vernemq.retain.memory',
    kind: 'gauge',
    valueType: 'int',
    unit: 'By',
    description: 'Memory used by the stored retained messages (retain_memory).',
    attributes: [],
    broker: { sources: [{ broker: 'retain_memory' }], versions: FORK },
  }),
  subscriptions: brokerMetric({
    name: 'vernemq.router.subscriptions',
    kind: 'gauge',
    valueType: 'int',
    unit: '{subscription}',
    description: "Subscriptions in the broker's routing table now (router_subscriptions).",
    attributes: [],
    broker: { sources: [{ broker: 'router_subscriptions' }], versions: FORK },
  }),
  routerMemory: brokerMetric({
    name: 'vernemq.router.memory',
    kind: 'gauge',
    valueType: 'int',
    unit: 'By',
    description: 'Memory used by the routing table (router_memory).',
    attributes: [],
    broker: { sources: [{ broker: 'router_memory' }], versions: FORK },
  }),
  queueProcesses: brokerMetric({
    name: 'vernemq.queue.processes',
    kind: 'gauge',
    valueType: 'int',
    unit: '{queue}',
    description: 'Session queues on the node, online and offline (queue_processes).',
    attributes: [],
    broker: { sources: [{ broker: 'queue_processes' }], versions: FORK },
  }),
  offlineMessages: brokerMetric({
    name: 'vernemq.queue.offline_messages',
    kind: 'gauge',
    valueType: 'int',
    unit: '{message}',
    description: "Messages stored for offline sessions (offline_messages; Gojek's fork only).",
    attributes: [],
    broker: { sources: [{ broker: 'offline_messages' }], versions: 'gojek/vernemq v5.1.0' },
  }),
  activeConnections: brokerMetric({
    name: 'vernemq.connection.active',
    kind: 'gauge',
    valueType: 'int',
    unit: '{connection}',
    description: 'MQTT connections open on the node now, by listener type (active_mqtt_connections: TCP and TLS listeners; active_mqttws_connections: WebSocket listeners).',
    attributes: [BROKER_ATTR.listenerType],
    broker: {
      sources: [
        { broker: 'active_mqtt_connections', attributes: { 'vernemq.listener.type': 'tcp' } },
        { broker: 'active_mqttws_connections', attributes: { 'vernemq.listener.type': 'websocket' } },
      ],
      versions: FORK,
    },
  }),
  networkIo: brokerMetric({
    name: 'vernemq.network.io',
    kind: 'counter',
    valueType: 'int',
    unit: 'By',
    description: 'Bytes received from and sent to MQTT clients (bytes_received, bytes_sent).',
    attributes: [BROKER_ATTR.ioDirection],
    broker: { sources: directions('bytes_received', 'bytes_sent'), versions: FORK },
  }),
  clusterNetworkIo: brokerMetric({
    name: 'vernemq.cluster.network.io',
    kind: 'counter',
    valueType: 'int',
    unit: 'By',
    description: 'Bytes received from and sent to other cluster nodes (cluster_bytes_received, cluster_bytes_sent).',
    attributes: [BROKER_ATTR.ioDirection],
    broker: { sources: directions('cluster_bytes_received', 'cluster_bytes_sent'), versions: FORK },
  }),
  clusterDropped: brokerMetric({
    name: 'vernemq.cluster.network.dropped',
    kind: 'counter',
    valueType: 'int',
    unit: 'By',
    description: 'Bytes for other cluster nodes dropped because the connection to them was down or its buffer full (cluster_bytes_dropped).',
    attributes: [],
    broker: { sources: [{ broker: 'cluster_bytes_dropped' }], versions: FORK },
  }),
  netsplitsDetected: brokerMetric({
    name: 'vernemq.netsplit.detected',
    kind: 'counter',
    valueType: 'int',
    unit: '{netsplit}',
    description: 'Netsplits this node detected (netsplit_detected).',
    attributes: [],
    broker: { sources: [{ broker: 'netsplit_detected' }], versions: 'vernemq/vernemq 2.x (not served by gojek/vernemq v5.1.0)' },
  }),
  netsplitsResolved: brokerMetric({
    name: 'vernemq.netsplit.resolved',
    kind: 'counter',
    valueType: 'int',
    unit: '{netsplit}',
    description: 'Netsplits this node saw resolved (netsplit_resolved).',
    attributes: [],
    broker: { sources: [{ broker: 'netsplit_resolved' }], versions: 'vernemq/vernemq 2.x (not served by gojek/vernemq v5.1.0)' },
  }),
  keepaliveExpired: brokerMetric({
    name: 'vernemq.client.keepalive.expired',
    kind: 'counter',
    valueType: 'int',
    unit: '{client}',
    description: 'Clients disconnected because they sent nothing within their keep-alive period (client_keepalive_expired), by MQTT version.',
    attributes: [ATTR.protocolVersion],
    broker: { sources: [{ broker: 'client_keepalive_expired' }], labels: [MQTT_VERSION], versions: FORK },
  }),
  publishReceived: brokerMetric({
    name: 'vernemq.mqtt.publish.received',
    kind: 'counter',
    valueType: 'int',
    unit: '{packet}',
    description: 'PUBLISH packets received from clients (mqtt_publish_received), by MQTT version; not sampled, unlike on_publish.',
    attributes: [ATTR.protocolVersion],
    broker: { sources: [{ broker: 'mqtt_publish_received' }], labels: [MQTT_VERSION], versions: FORK },
  }),
  publishSent: brokerMetric({
    name: 'vernemq.mqtt.publish.sent',
    kind: 'counter',
    valueType: 'int',
    unit: '{packet}',
    description: 'PUBLISH packets sent to clients (mqtt_publish_sent), by MQTT version; not sampled, unlike on_deliver.',
    attributes: [ATTR.protocolVersion],
    broker: { sources: [{ broker: 'mqtt_publish_sent' }], labels: [MQTT_VERSION], versions: FORK },
  }),
  queueMessagesIn: brokerMetric({
    name: 'vernemq.queue.message.in',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: 'Messages put into session queues (queue_message_in).',
    attributes: [],
    broker: { sources: [{ broker: 'queue_message_in' }], versions: FORK },
  }),
  queueMessagesOut: brokerMetric({
    name: 'vernemq.queue.message.out',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: 'Messages taken out of session queues to be sent (queue_message_out).',
    attributes: [],
    broker: { sources: [{ broker: 'queue_message_out' }], versions: FORK },
  }),
  queueMessagesDropped: brokerMetric({
    name: 'vernemq.queue.message.dropped',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: 'Messages dropped because a session queue was full (queue_message_drop).',
    attributes: [],
    broker: { sources: [{ broker: 'queue_message_drop' }], versions: FORK },
  }),
  queueMessagesExpired: brokerMetric({
    name: 'vernemq.queue.message.expired',
    kind: 'counter',
    valueType: 'int',
    unit: '{message}',
    description: 'Messages that expired in session queues (queue_message_expired).',
    attributes: [],
    broker: { sources: [{ broker: 'queue_message_expired' }], versions: FORK },
  }),
} as const satisfies Record<string, BrokerMetricDef>;

/** The broker's metrics in catalog order (the order of their families, readings and docs). */
export const BROKER_METRIC_DEFS: readonly BrokerMetricDef[] = Object.values(BROKER_METRICS);

export const ALL_METRICS: readonly MetricDef[] = [...Object.values(MQTT_METRICS), ...Object.values(SIDECAR_METRICS), ...BROKER_METRIC_DEFS];

/** The name a metric has in Prometheus, through the Collector or the sidecar's own endpoint. */
export function prometheusNameOf(def: MetricDef): string {
  return prometheusName(def.name, def.unit, def.kind === 'counter' ? 'counter' : def.kind === 'histogram' ? 'histogram' : 'gauge');
}

/** The series names Prometheus stores for a metric (histograms have three). */
export function prometheusSeriesOf(def: MetricDef): string[] {
  const base = prometheusNameOf(def);
  return def.kind === 'histogram' ? [`${base}_bucket`, `${base}_sum`, `${base}_count`] : [base];
}
