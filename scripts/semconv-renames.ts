/**
 * The semantic-conventions pass of issue 14, decided once, as data, and applied: keyed by the
 * OLD name (0.1.0), every entry gives the name the metric or log attribute has now in
 * metric-catalog.ts / log-catalog.ts and the convention it follows (or why none applies). It is
 * the record of the old names: docs/telemetry.md's convention column and the compatibility
 * recording rules (alerts/compat/, new Prometheus names -> old ones) are generated from it, and
 * the tests hold its new names to the catalogs, so the three cannot disagree.
 *
 * Conventions checked against OpenTelemetry semantic conventions v1.44:
 *   - general/naming.md: namespaces are not plural (`mqtt.messages.*` -> `mqtt.message.*`, as the
 *     Collector's RabbitMQ receiver says `rabbitmq.message.published`); a leaf may be plural
 *     when it counts discrete things (`messaging.client.sent.messages`), so `mqtt.subscriptions`
 *     and `mqtt.client.registrations` keep theirs.
 *   - error.type (registry/attributes/error.md): the class of error an operation ended with, set
 *     only on failures; success carries no error.type (so a failure ratio is
 *     `sum(rate(x{error_type!=""})) / sum(rate(x))`).
 *   - messaging spans/logs: `messaging.destination.template` is the low-cardinality template of a
 *     destination (the ACL pattern or topic-group filter that matched), `messaging.client.id`,
 *     `messaging.destination.name`, `messaging.message.body.size`; `messaging.system` "mqtt" is
 *     not in the enum, custom values are allowed.
 *   - client.address / client.port: the client as the server (the broker) identifies it, which
 *     with the PROXY protocol is the original client, not the proxy (network.peer.* is the
 *     immediate socket peer).
 *   - otel.sdk.processor.log.processed, otel.sdk.exporter.log.exported,
 *     otel.sdk.processor.log.queue.size (unit {log_record}, with error.type and
 *     otel.component.type / otel.component.name), as OTel JS 2.x's own components emit them.
 *     Our log export queue plays the batching log processor's part and our OTLP exporters the
 *     exporter's, so their counts take those names.
 *
 * Kept names say why in `convention`. Attribute changes that apply to one metric only (the bare
 * `reason` / `outcome` / `signal` / `attribute` / `gauge` of the self-metrics) are listed on that
 * metric; attribute changes that apply wherever the attribute appears are in
 * METRIC_ATTRIBUTE_RENAMES.
 */
import { ALL_METRICS, type MetricDef } from '../src/metrics/metric-catalog.js';
import { prometheusLabel, prometheusName } from '../src/metrics/prometheus-naming.js';

export interface AttributeChange {
  from: string;
  /** The new attribute name; the same as `from` when only values change. */
  to: string;
  /** Old value -> new value; null: the new attribute is absent for that value (success). */
  values?: Readonly<Record<string, string | null>>;
  convention: string;
}

export interface AddedAttribute {
  name: string;
  values: string;
  convention: string;
}

/** One old metric becoming several, chosen by the value of one of its attributes. */
export interface MetricSplit {
  by: string;
  into: Readonly<Record<string, { name: string; unit: string; kind: MetricDef['kind']; attributes: Readonly<Record<string, string>> }>>;
}

export interface MetricRename {
  /** The new name; the same as the old one when only attributes change. */
  name: string;
  /** The new unit, when it changes (the otel.sdk.* metrics count {log_record}). */
  unit?: string;
  convention: string;
  attributes?: readonly AttributeChange[];
  added?: readonly AddedAttribute[];
  /** The old metric's points are the new metric's points with these attribute values. */
  selector?: Readonly<Record<string, string>>;
  split?: MetricSplit;
}

const SINGULAR = 'semconv general/naming.md: metric namespaces are not plural (as rabbitmq.message.published)';
const KEPT_MQTT = 'no MQTT or VerneMQ semantic conventions exist; the name already follows general/naming.md (singular namespace, snake_case leaf)';
const KEPT_SELF = 'the sidecar\'s own metric under its vmq_sidecar namespace; no convention describes it and the name already follows general/naming.md';
const ERROR_TYPE = 'semconv error.type: the class of error the operation ended with, absent on success';
const SUCCESS_ABSENT = { success: null } as const;
const LOG_RECORD = '{log_record}';

export const METRIC_RENAMES = {
  // ---- MQTT metrics ----
  'mqtt.client.connected': { name: 'mqtt.client.connected', convention: KEPT_MQTT },
  'mqtt.session.offline': { name: 'mqtt.session.offline', convention: KEPT_MQTT },
  'mqtt.client.registrations': { name: 'mqtt.client.registrations', convention: `${KEPT_MQTT}; the plural leaf counts discrete registrations (as messaging.client.sent.messages)` },
  'mqtt.client.registration.failures': {
    name: 'mqtt.client.registration.failures',
    convention: 'name kept (namespace singular); the refusal reason becomes error.type',
    attributes: [{ from: 'mqtt.failure.reason', to: 'error.type', convention: `${ERROR_TYPE}: every registration failure has one` }],
  },
  'mqtt.client.disconnects': {
    name: 'mqtt.client.disconnects',
    convention: `${KEPT_MQTT}; mqtt.disconnect.reason is kept, not error.type: most disconnects (normal_disconnect, session_taken_over) are not failures`,
  },
  'mqtt.session.expirations': { name: 'mqtt.session.expirations', convention: KEPT_MQTT },
  'mqtt.session.duration': { name: 'mqtt.session.duration', convention: `${KEPT_MQTT}; histogram in s as semconv durations` },
  'mqtt.messages.published': { name: 'mqtt.message.published', convention: SINGULAR },
  'mqtt.publish.payload.size': { name: 'mqtt.publish.payload.size', convention: `${KEPT_MQTT}; By as messaging.message.body.size` },
  'mqtt.messages.delivered': { name: 'mqtt.message.delivered', convention: SINGULAR },
  'mqtt.messages.delivery_completed': { name: 'mqtt.message.delivery_completed', convention: SINGULAR },
  'mqtt.messages.queued_offline': { name: 'mqtt.message.queued_offline', convention: SINGULAR },
  'mqtt.messages.dropped': {
    name: 'mqtt.message.dropped',
    convention: `${SINGULAR}; the drop reason becomes error.type (a dropped message is a failed delivery)`,
    attributes: [{ from: 'mqtt.drop.reason', to: 'error.type', convention: `${ERROR_TYPE}; still bounded by --max-drop-reasons` }],
  },
  'mqtt.subscriptions': {
    name: 'mqtt.subscriptions',
    convention: `${KEPT_MQTT}; a refused filter (qos 128) is a failed subscription: error.type`,
    attributes: [{ from: 'mqtt.subscription.outcome', to: 'error.type', values: { granted: null, refused: 'refused' }, convention: `${ERROR_TYPE}: "refused" for qos 128, absent when granted` }],
  },
  'mqtt.unsubscriptions': { name: 'mqtt.unsubscriptions', convention: KEPT_MQTT },

  // ---- sidecar health metrics ----
  'vmq_sidecar.connections.open': { name: 'vmq_sidecar.connection.open', convention: SINGULAR },
  'vmq_sidecar.connections.accepted': { name: 'vmq_sidecar.connection.accepted', convention: SINGULAR },
  'vmq_sidecar.connections.refused': { name: 'vmq_sidecar.connection.refused', convention: SINGULAR },
  'vmq_sidecar.connections.closed': {
    name: 'vmq_sidecar.connection.closed',
    convention: `${SINGULAR}; the bare reason becomes error.type (the sidecar closed a connection to protect the others: a failed connection)`,
    attributes: [{ from: 'reason', to: 'error.type', convention: ERROR_TYPE }],
  },
  'vmq_sidecar.frames.buffered': { name: 'vmq_sidecar.frame.buffered', convention: SINGULAR },
  'vmq_sidecar.received': { name: 'vmq_sidecar.received', convention: KEPT_SELF },
  'vmq_sidecar.events.received': { name: 'vmq_sidecar.event.received', convention: SINGULAR },
  'vmq_sidecar.frames.rejected': {
    name: 'vmq_sidecar.frame.rejected',
    convention: `${SINGULAR}; the bare reason becomes error.type`,
    attributes: [{ from: 'reason', to: 'error.type', convention: ERROR_TYPE }],
  },
  'vmq_sidecar.events.truncated_items': { name: 'vmq_sidecar.event.truncated_items', convention: SINGULAR },
  'vmq_sidecar.event.delay': { name: 'vmq_sidecar.event.delay', convention: KEPT_SELF },
  'vmq_sidecar.sessions.tracked': { name: 'vmq_sidecar.session.tracked', convention: SINGULAR },
  'vmq_sidecar.sessions.untracked': { name: 'vmq_sidecar.session.untracked', convention: SINGULAR },
  'vmq_sidecar.sessions.stale_events': { name: 'vmq_sidecar.session.stale_events', convention: SINGULAR },
  'vmq_sidecar.sessions.unregistered_wakeups': { name: 'vmq_sidecar.session.unregistered_wakeups', convention: SINGULAR },
  'vmq_sidecar.sessions.wakeup_match_overflow': { name: 'vmq_sidecar.session.wakeup_match_overflow', convention: SINGULAR },
  'vmq_sidecar.attribute_values.folded': {
    name: 'vmq_sidecar.attribute_value.folded',
    convention: `${SINGULAR}; the bare attribute name is namespaced (general/naming.md: names are namespaced)`,
    attributes: [{ from: 'attribute', to: 'vmq_sidecar.attribute.name', convention: 'general/naming.md: {namespace}.{object}.{property}; values are the renamed attribute names (error.type for drop reasons)' }],
  },
  'vmq_sidecar.attribute_values.invalid': {
    name: 'vmq_sidecar.attribute_value.invalid',
    convention: `${SINGULAR}; the bare attribute name is namespaced`,
    attributes: [{ from: 'attribute', to: 'vmq_sidecar.attribute.name', convention: 'general/naming.md: {namespace}.{object}.{property}' }],
  },
  'vmq_sidecar.log_records.exported': {
    name: 'otel.sdk.exporter.log.exported',
    unit: LOG_RECORD,
    convention: 'semconv otel.sdk.exporter.log.exported: log records whose export finished; success has no error.type',
    selector: { 'error.type': '' },
    added: [
      { name: 'otel.component.type', values: 'otlp_grpc_log_exporter, otlp_http_log_exporter, otlp_http_json_log_exporter (by OTEL_EXPORTER_OTLP_LOGS_PROTOCOL)', convention: 'semconv otel.component.type well-known values' },
      { name: 'otel.component.name', values: '<otel.component.type>/0', convention: 'semconv otel.component.name recommended form type/index' },
    ],
  },
  'vmq_sidecar.log_records.dropped': {
    name: 'otel.sdk.processor.log.processed',
    unit: LOG_RECORD,
    convention:
      'split by reason into the two semconv metrics: records the queue gave up before export are failed processing (otel.sdk.processor.log.processed, error.type queue_full as the SDK\'s batching processor says, shutdown for those still queued at the deadline); records whose export failed for good are failed exports (otel.sdk.exporter.log.exported, error.type rejected as semconv says for partial-success rejections, export_failed otherwise). Successful processing is counted there too (no error.type) when a batch is handed to the exporter',
    split: {
      by: 'reason',
      into: {
        queue_full: { name: 'otel.sdk.processor.log.processed', unit: LOG_RECORD, kind: 'counter', attributes: { 'error.type': 'queue_full' } },
        shutdown: { name: 'otel.sdk.processor.log.processed', unit: LOG_RECORD, kind: 'counter', attributes: { 'error.type': 'shutdown' } },
        export_failed: { name: 'otel.sdk.exporter.log.exported', unit: LOG_RECORD, kind: 'counter', attributes: { 'error.type': 'export_failed' } },
        rejected: { name: 'otel.sdk.exporter.log.exported', unit: LOG_RECORD, kind: 'counter', attributes: { 'error.type': 'rejected' } },
      },
    },
    added: [
      { name: 'otel.component.type', values: 'batching_log_processor on processed, the exporter type on exported', convention: 'semconv otel.component.type well-known values' },
      { name: 'otel.component.name', values: '<otel.component.type>/0', convention: 'semconv otel.component.name' },
    ],
  },
  'vmq_sidecar.log_records.queued': {
    name: 'otel.sdk.processor.log.queue.size',
    unit: LOG_RECORD,
    convention: 'semconv otel.sdk.processor.log.queue.size (beside otel.sdk.processor.log.queue.capacity, added with it)',
    added: [
      { name: 'otel.component.type', values: 'batching_log_processor', convention: 'semconv otel.component.type' },
      { name: 'otel.component.name', values: 'batching_log_processor/0', convention: 'semconv otel.component.name' },
    ],
  },
  'vmq_sidecar.export.failures': {
    name: 'vmq_sidecar.export.failures',
    convention:
      'kept: semconv has no count of failed export operations (only the otel.sdk.exporter.operation.duration histogram, which we do not record); the bare signal becomes the exporter\'s otel.component.type, and the failure class error.type',
    attributes: [
      {
        from: 'signal',
        to: 'otel.component.type',
        values: { metrics: 'otlp_<protocol>_metric_exporter', logs: 'otlp_<protocol>_log_exporter' },
        convention: 'semconv otel.component.type well-known values (otlp_grpc_metric_exporter, otlp_http_log_exporter, ...): the signal is in the type',
      },
    ],
    added: [{ name: 'error.type', values: 'timeout, the HTTP status code, the gRPC status name, the socket error code, or the exception name', convention: ERROR_TYPE }],
  },
  'vmq_sidecar.snapshot.writes': {
    name: 'vmq_sidecar.snapshot.writes',
    convention: `${KEPT_SELF}; the bare outcome becomes error.type`,
    attributes: [{ from: 'outcome', to: 'error.type', values: { ...SUCCESS_ABSENT, error: 'error' }, convention: `${ERROR_TYPE}; phase 2 may refine "error" into the errno code (ENOSPC, EACCES)` }],
  },
  'vmq_sidecar.snapshot.age': { name: 'vmq_sidecar.snapshot.age', convention: KEPT_SELF },
  'vmq_sidecar.snapshot.interval': { name: 'vmq_sidecar.snapshot.interval', convention: KEPT_SELF },
  'vmq_sidecar.hooks.missing': {
    name: 'vmq_sidecar.hook.missing',
    convention: `${SINGULAR}; the bare gauge attribute is namespaced`,
    attributes: [{ from: 'gauge', to: 'vmq_sidecar.gauge.name', convention: 'general/naming.md: {namespace}.{object}.{property}' }],
  },
  'vmq_sidecar.broker.scrapes': {
    name: 'vmq_sidecar.broker.scrapes',
    convention: `${KEPT_SELF}; the bare outcome becomes error.type`,
    attributes: [{ from: 'outcome', to: 'error.type', values: { ...SUCCESS_ABSENT, error: 'error', timeout: 'timeout', invalid: 'invalid' }, convention: ERROR_TYPE }],
  },
  'vmq_sidecar.broker.connections': {
    name: 'vmq_sidecar.broker.connections',
    convention: `${KEPT_SELF}; the sum of vernemq.connection.active over both listener types; kept for this release (the drift and the 0.1.0 alerts read it), retired with the compatibility rules`,
  },
  'vmq_sidecar.broker.queues': {
    name: 'vmq_sidecar.broker.queues',
    convention: `${KEPT_SELF}; the same value is re-exported as vernemq.queue.processes; kept for this release, retired with the compatibility rules`,
  },
  'vmq_sidecar.broker.connections.drift': { name: 'vmq_sidecar.broker.connection.drift', convention: SINGULAR },
  'vmq_sidecar.broker.sidecar_events': { name: 'vmq_sidecar.broker.sidecar_events', convention: `${KEPT_SELF}; the leaf is the broker's own metric name` },
  'vmq_sidecar.broker.sidecar_event_errors': { name: 'vmq_sidecar.broker.sidecar_event_errors', convention: `${KEPT_SELF}; the leaf is the broker's own metric name` },
  'vmq_sidecar.upstream.missing': { name: 'vmq_sidecar.upstream.missing', convention: KEPT_SELF },
  'vmq_sidecar.grpc.calls': {
    name: 'vmq_sidecar.grpc.calls',
    convention: `${KEPT_SELF}; a leaf may be plural when it counts discrete things (as messaging.client.sent.messages); rpc.grpc.status carries the status name as the gRPC server answered it`,
  },
  'vmq_sidecar.broker.grpc_calls': {
    name: 'vmq_sidecar.broker.grpc_calls',
    convention: `${KEPT_SELF}; the leaf is the broker's own metric name (grpc_call_result); the bare result becomes error.type`,
    attributes: [{ from: 'result', to: 'error.type', values: { ok: null }, convention: ERROR_TYPE }],
  },
} as const satisfies Record<string, MetricRename>;

/** Metric attributes whose decision is the same on every metric that has them. */
export const METRIC_ATTRIBUTE_RENAMES = {
  'mqtt.mountpoint': { name: 'mqtt.mountpoint', convention: 'VerneMQ\'s mountpoint (a tenant namespace of topics and client ids); no convention' },
  'mqtt.qos': { name: 'mqtt.qos', convention: 'no messaging convention for QoS; MQTT\'s own term' },
  'mqtt.subscription.qos': { name: 'mqtt.subscription.qos', convention: 'no convention; says which QoS the broker reports (the subscription\'s)' },
  'mqtt.retain': { name: 'mqtt.retain', convention: 'no convention; MQTT\'s flag' },
  'mqtt.topic.group': {
    name: 'mqtt.topic.group',
    convention:
      'kept on metrics: a bounded operator-chosen name (ACL name or --topic-groups name), not the template itself (patterns can be long and several share a name); the pattern goes to log records as messaging.destination.template',
  },
  'mqtt.persisted': { name: 'mqtt.persisted', convention: 'no convention' },
  'mqtt.session.persistent': { name: 'mqtt.session.persistent', convention: 'no convention (session.* is for application sessions, not MQTT sessions)' },
  'mqtt.disconnect.reason': { name: 'mqtt.disconnect.reason', convention: 'kept: not error.type, most reasons are not failures' },
  'vernemq.hook': { name: 'vernemq.hook', convention: 'VerneMQ plugin hook; namespaced, no convention' },
  transport: {
    name: 'vmq_sidecar.transport',
    convention:
      'general/naming.md: no bare attribute names; not network.transport (tcp/udp/...: gRPC runs over TCP as well): which of the plugin\'s two transports carried the event',
  },
  'rpc.grpc.status': { name: 'rpc.grpc.status', convention: 'the gRPC status name the server answered (OK, INVALID_ARGUMENT); semconv RPC names the numeric code rpc.grpc.status_code' },
  'vernemq.user_type': { name: 'vernemq.user_type', convention: 'the plugin\'s user-type call metadata; VerneMQ-specific, no convention' },
} as const satisfies Record<string, { name: string; convention: string }>;

/** Every log attribute of log-catalog.ts: the name it gets. */
export const LOG_ATTRIBUTE_RENAMES = {
  'messaging.system': { name: 'messaging.system', convention: 'semconv messaging.system; "mqtt" is a custom value (not in the enum)' },
  'messaging.client.id': { name: 'messaging.client.id', convention: 'semconv messaging.client.id' },
  'mqtt.mountpoint': { name: 'mqtt.mountpoint', convention: 'no convention (VerneMQ tenant namespace)' },
  'mqtt.session.id': { name: 'mqtt.session.id', convention: 'kept: session.id is for application/user sessions, the broker\'s session id is not one' },
  'user.name': { name: 'user.name', convention: 'semconv user.name (the login name)' },
  'network.peer.address': { name: 'client.address', convention: 'semconv client.address: the client as the broker (the server) identifies it, the original client behind a PROXY-protocol load balancer' },
  'network.peer.port': { name: 'client.port', convention: 'semconv client.port, with client.address' },
  'mqtt.user_property.<key>': { name: 'mqtt.user_property.<key>', convention: 'template attribute as http.request.header.<key>; no MQTT convention' },
  'mqtt.user_properties.dropped': { name: 'mqtt.user_properties.dropped', convention: 'no convention' },
  'mqtt.failure.reason': { name: 'error.type', convention: `${ERROR_TYPE}; on_register_failed is a failure record` },
  'mqtt.clean_session': { name: 'mqtt.clean_session', convention: 'no convention; MQTT 3.1.1\'s flag name' },
  'mqtt.disconnect.reason': { name: 'mqtt.disconnect.reason', convention: 'kept on every disconnect record; WARN ones also get error.type (LOG_ATTRIBUTES_ADDED)' },
  'mqtt.session.persistent': { name: 'mqtt.session.persistent', convention: 'no convention' },
  'mqtt.subscription.topics': { name: 'mqtt.subscription.topics', convention: 'no convention for a list of topic filters' },
  'mqtt.subscription.qos': { name: 'mqtt.subscription.qos', convention: 'no convention' },
  'mqtt.subscription.topics.dropped': { name: 'mqtt.subscription.topics.dropped', convention: 'no convention' },
  'messaging.destination.name': { name: 'messaging.destination.name', convention: 'semconv messaging.destination.name (the topic)' },
  'mqtt.qos': { name: 'mqtt.qos', convention: 'no convention' },
  'mqtt.retain': { name: 'mqtt.retain', convention: 'no convention' },
  'mqtt.persisted': { name: 'mqtt.persisted', convention: 'no convention' },
  'messaging.message.body.size': { name: 'messaging.message.body.size', convention: 'semconv messaging.message.body.size' },
  'mqtt.acl.name': { name: 'mqtt.acl.name', convention: 'no convention (the name of the ACL entry; Gojek\'s fork)' },
  'mqtt.acl.pattern': {
    name: 'messaging.destination.template',
    convention: 'semconv messaging.destination.template: the low-cardinality template the topic matched (the ACL pattern)',
  },
  'mqtt.drop.reason': { name: 'error.type', convention: `${ERROR_TYPE}; on_message_drop is a failure record` },
  'mqtt.payload': { name: 'mqtt.payload', convention: 'no convention for message content' },
  'mqtt.payload.encoding': { name: 'mqtt.payload.encoding', convention: 'no convention' },
  'mqtt.payload.truncated': { name: 'mqtt.payload.truncated', convention: 'no convention' },
} as const satisfies Record<string, { name: string; convention: string }>;

/** Attributes log records gain, per hook. */
export const LOG_ATTRIBUTES_ADDED = [
  {
    name: 'error.type',
    hooks: ['on_client_offline', 'on_client_gone'],
    values: 'the disconnect reason, only on WARN records (not for normal_disconnect, mqtt_client_disconnect, session_taken_over, remote_session_taken_over, disconnect_migration)',
    convention: ERROR_TYPE,
  },
  {
    name: 'messaging.destination.template',
    hooks: ['on_publish', 'on_deliver', 'on_delivery_complete', 'on_offline_message', 'on_message_drop'],
    values: 'the ACL pattern when the broker sends one, else the first matching --topic-groups filter; absent when neither',
    convention: 'semconv messaging.destination.template',
  },
  {
    name: 'mqtt.client.group',
    hooks: ['on_register', 'on_register_failed', 'on_client_offline', 'on_client_gone', 'on_publish', 'on_deliver'],
    values: 'the --client-groups name (src/metrics/client-grouper.ts), only when --client-groups is set',
    convention: 'no convention; bounded, same values as the metric attribute',
  },
  {
    name: 'network.protocol.version',
    hooks: ['on_register', 'on_register_failed', 'on_subscribe', 'on_unsubscribe', 'on_publish', 'on_deliver', 'on_delivery_complete', 'on_message_drop'],
    values: '5 on the events of the companion plugin vmq_events_sidecar_m5, 3.1.1 on the plugin\'s events of hooks that fire for MQTT 3.1/3.1.1 sessions only; absent on session-layer events',
    convention: 'semconv network.protocol.version (the application protocol\'s version, with MQTT as the protocol)',
  },
  {
    name: 'mqtt.subscription.reason_codes',
    hooks: ['on_subscribe'],
    values: 'MQTT 5 SUBSCRIBE only: the SUBACK reason code per filter',
    convention: 'no convention; MQTT 5\'s reason codes, as mqtt.subscription.qos',
  },
] as const;

/**
 * mqtt.client.group (--client-groups, src/metrics/client-grouper.ts) goes on these metrics (old
 * names; CLIENT_GROUP_METRIC_NAMES has the current ones). On mqtt.client.connected the session state must remember the group a client was
 * counted under, so that its -1 goes to the same series as its +1.
 */
export const CLIENT_GROUP_METRICS = [
  'mqtt.client.connected',
  'mqtt.client.registrations',
  'mqtt.client.registration.failures',
  'mqtt.client.disconnects',
  'mqtt.messages.published',
  'mqtt.messages.delivered',
  'mqtt.messages.delivery_completed',
  'mqtt.messages.queued_offline',
  'mqtt.messages.dropped',
] as const satisfies readonly (keyof typeof METRIC_RENAMES)[];

/** The current names of CLIENT_GROUP_METRICS. */
export const CLIENT_GROUP_METRIC_NAMES: readonly string[] = CLIENT_GROUP_METRICS.map((m) => METRIC_RENAMES[m].name);

// ---- derived: Prometheus names and the compatibility recording rules ----

type PromType = 'counter' | 'gauge' | 'histogram';
const promType = (kind: MetricDef['kind']): PromType => (kind === 'counter' ? 'counter' : kind === 'histogram' ? 'histogram' : 'gauge');

export interface RecordingRule {
  record: string;
  expr: string;
}

/** The catalog metric a table entry names now. */
function currentDef(rename: MetricRename): MetricDef {
  const def = ALL_METRICS.find((d) => d.name === rename.name);
  if (def === undefined) throw new Error(`${rename.name} (METRIC_RENAMES) is not in the metric catalog`);
  return def;
}

/**
 * The table's entry for a catalog metric (by its current name): the one renamed to it, or for a
 * metric that is only the target of a split, the split one. Undefined for metrics new since the
 * rename (the broker's vernemq.* gauges), which have no old name.
 */
export function renameFor(name: string): { old: string; rename: MetricRename } | undefined {
  const entries = Object.entries(METRIC_RENAMES as Record<string, MetricRename>);
  const hit = entries.find(([, r]) => r.name === name) ?? entries.find(([, r]) => r.split !== undefined && Object.values(r.split.into).some((t) => t.name === name));
  return hit && { old: hit[0], rename: hit[1] };
}

/**
 * Old series name -> new series name for every entry (histograms: each of the three series).
 * The old Prometheus name is derived with the current unit and kind: the only unit that changed
 * ({record} -> {log_record}) is an annotation, which adds no suffix either way.
 */
export function prometheusRenames(): { from: string; to: string; def: MetricDef; rename: MetricRename }[] {
  const out: { from: string; to: string; def: MetricDef; rename: MetricRename }[] = [];
  for (const [old, rename] of Object.entries(METRIC_RENAMES as Record<string, MetricRename>)) {
    const def = currentDef(rename);
    const type = promType(def.kind);
    const from = prometheusName(old, def.unit, type);
    const to = prometheusName(rename.name, def.unit, type);
    if (def.kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.push({ from: from + s, to: to + s, def, rename });
    else out.push({ from, to, def, rename });
  }
  return out;
}

const quote = (s: string) => JSON.stringify(s);

/** Wraps `expr` so that its new labels also appear under the old names. */
function withOldLabels(expr: string, changes: readonly AttributeChange[]): string {
  let e = expr;
  for (const c of changes) {
    const from = prometheusLabel(c.from);
    const to = prometheusLabel(c.to);
    if (from !== to) e = `label_replace(${e}, ${quote(from)}, "$1", ${quote(to)}, "(.*)")`;
  }
  return e;
}

function selector(name: string, labels: Readonly<Record<string, string>>): string {
  const inner = Object.entries(labels)
    .map(([k, v]) => `${prometheusLabel(k)}=${quote(v)}`)
    .join(', ');
  return inner === '' ? name : `${name}{${inner}}`;
}

/**
 * Recording rules that keep each renamed series under its old Prometheus name for one release:
 * `record: <old name>`, `expr: <new name>` (with the old labels added back). Metrics whose name
 * stays and only an attribute changes cannot be recorded under the same name without
 * duplicating series: queries on them are changed by hand (CHANGELOG.md lists them).
 */
export function compatRecordingRules(): RecordingRule[] {
  const rules: RecordingRule[] = [];
  for (const { from, to, rename } of prometheusRenames()) {
    if (rename.split !== undefined) {
      const oldLabel = prometheusLabel(rename.split.by);
      const parts = Object.entries(rename.split.into).map(([oldValue, target]) => {
        const name = prometheusName(target.name, target.unit, promType(target.kind));
        return `label_replace(${selector(name, target.attributes)}, ${quote(oldLabel)}, ${quote(oldValue)}, "", "")`;
      });
      rules.push({ record: from, expr: parts.join(' or ') });
      continue;
    }
    if (from === to) continue;
    rules.push({ record: from, expr: withOldLabels(selector(to, rename.selector ?? {}), rename.attributes ?? []) });
  }
  return rules;
}

/** Metrics whose Prometheus name stays while an attribute changes: their queries change by hand. */
export function attributeOnlyChanges(): { series: string; changes: readonly AttributeChange[] }[] {
  return prometheusRenames()
    .filter(({ from, to, rename }) => from === to && (rename.attributes?.length ?? 0) > 0)
    .map(({ from, rename }) => ({ series: from, changes: rename.attributes! }));
}
