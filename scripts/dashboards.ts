/**
 * The Grafana dashboards, defined compactly here and rendered to dashboards/*.json by
 * `npm run docs` (a test keeps the JSON current and runs every query against a real Prometheus).
 * Every dashboard takes its data sources as variables, so it imports into any Grafana.
 */

interface Target {
  expr: string;
  legend?: string;
}

interface PanelDef {
  title: string;
  type: 'timeseries' | 'stat' | 'logs' | 'alertlist' | 'row';
  /** Required on every panel but rows: what is counted and where it comes from. */
  description?: string;
  targets?: Target[];
  unit?: string;
  w?: number;
  h?: number;
  /** A LogQL query (logs panels). */
  logql?: string;
  stacked?: boolean;
}

export interface DashboardDef {
  uid: string;
  title: string;
  description: string;
  panels: PanelDef[];
}

const I = 'job=~"$service",instance=~"$instance"';
const RI = '$__rate_interval';

/**
 * Units say what is counted: Grafana's `count:X` scales the number (1.2K) and appends X, so a
 * panel reads "1.2K messages/s", never "req/s".
 */
export const UNITS = {
  clients: 'count:clients',
  sessions: 'count:sessions',
  connections: 'count:connections',
  connectionsPerSecond: 'count:connections/s',
  eventsPerSecond: 'count:events/s',
  events: 'count:events',
  messagesPerSecond: 'count:messages/s',
  items: 'count:items',
  clientsPerSecond: 'count:clients/s',
  disconnectsPerSecond: 'count:disconnects/s',
  connectsPerSecond: 'count:connects/s',
  subscriptionsPerSecond: 'count:requests/s',
  framesPerSecond: 'count:frames/s',
  recordsPerSecond: 'count:records/s',
  records: 'count:records',
  exportsPerSecond: 'count:exports/s',
  scrapesPerSecond: 'count:scrapes/s',
  hooks: 'count:hooks',
  seconds: 's',
  share: 'percentunit',
  cpuSecondsPerSecond: 'count:seconds/s',
  bytes: 'bytes',
  bytesPerSecond: 'Bps',
} as const;
const U = UNITS;

const row = (title: string): PanelDef => ({ title, type: 'row' });
const ts = (title: string, unit: string, description: string, targets: Target[], extra: Partial<PanelDef> = {}): PanelDef => ({ title, type: 'timeseries', unit, description, targets, ...extra });
const stat = (title: string, unit: string, description: string, expr: string): PanelDef => ({ title, type: 'stat', unit, targets: [{ expr }], w: 6, h: 4, description });

export const DASHBOARDS: DashboardDef[] = [
  {
    uid: 'vmq-broker-health',
    title: 'VerneMQ broker health',
    description: 'Clients, sessions, disconnect reasons, message flow and broker events, from vmq-otel-sidecar.',
    panels: [
      row('Is the broker healthy?'),
      stat('Connected clients', U.clients, 'Clients connected now, all selected nodes. Derived from events since each sidecar started (or its --state-file); see "How far can I trust the gauges?" in docs/operations.md.', `sum(mqtt_client_connected{${I}})`),
      stat('Offline sessions', U.sessions, 'Persistent sessions whose client is away (clean_session=false), all selected nodes.', `sum(mqtt_session_offline{${I}})`),
      stat('Connects /s', U.connectsPerSecond, 'Successful CONNECTs per second (on_register), all selected nodes.', `sum(rate(mqtt_client_registrations_total{${I}}[${RI}]))`),
      stat('Disconnects /s', U.disconnectsPerSecond, 'Client disconnects per second, every reason, all selected nodes.', `sum(rate(mqtt_client_disconnects_total{${I}}[${RI}]))`),
      ts('Connected clients per node', U.clients, 'Clients connected now, one line per broker node; a central deployment (--gauge-mode deltas) is one line for all its replicas (the Collector\'s sum, no instance).', [{ expr: `sum by (job, instance) (mqtt_client_connected{${I}})`, legend: '{{instance}}{{job}}' }]),
      ts('Offline sessions per node', U.sessions, 'Persistent sessions whose client is away, one line per broker node.', [{ expr: `sum by (instance) (mqtt_session_offline{${I}})`, legend: '{{instance}}' }]),
      row('Why are clients disconnecting?'),
      ts('Disconnects by reason', U.disconnectsPerSecond, 'Disconnects per second by reason (normal_disconnect, tcp_closed, keep-alive timeouts, ...), stacked.', [
        { expr: `sum by (mqtt_disconnect_reason) (rate(mqtt_client_disconnects_total{${I}}[${RI}]))`, legend: '{{mqtt_disconnect_reason}}' },
      ], { stacked: true }),
      ts('Refused connections by reason', U.connectsPerSecond, 'CONNECTs the broker refused per second (on_register_failed), by reason, stacked.', [
        { expr: `sum by (error_type) (rate(mqtt_client_registration_failures_total{${I}}[${RI}]))`, legend: '{{error_type}}' },
      ], { stacked: true }),
      ts('Connects, disconnects and session expiries', U.eventsPerSecond, 'Client lifecycle per second: connects, disconnects by session persistence, and offline sessions expired by the broker.', [
        { expr: `sum(rate(mqtt_client_registrations_total{${I}}[${RI}]))`, legend: 'connects' },
        { expr: `sum by (mqtt_session_persistent) (rate(mqtt_client_disconnects_total{${I}}[${RI}]))`, legend: 'disconnects (persistent={{mqtt_session_persistent}})' },
        { expr: `sum(rate(mqtt_session_expirations_total{${I}}[${RI}]))`, legend: 'sessions expired' },
      ]),
      ts('Session duration', U.seconds, 'How long sessions that ended lasted: median and 90th percentile.', [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(mqtt_session_duration_seconds_bucket{${I}}[${RI}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.9, sum by (le) (rate(mqtt_session_duration_seconds_bucket{${I}}[${RI}])))`, legend: 'p90' },
      ]),
      row('Where do messages go?'),
      ts('Published by QoS', U.messagesPerSecond, 'PUBLISHes received by the broker per second, by QoS. A sample when the plugin samples on_publish.', [
        { expr: `sum by (mqtt_qos) (rate(mqtt_message_published_total{${I}}[${RI}]))`, legend: 'qos {{mqtt_qos}}' },
      ]),
      ts('Delivered by subscription QoS; completed by message QoS', U.messagesPerSecond, 'Messages sent to subscribers per second, by the QoS of the subscription they matched (on_deliver carries the subscription\'s QoS, not the message\'s), and QoS 1/2 deliveries completed, by the QoS the message travelled with.', [
        { expr: `sum by (mqtt_subscription_qos) (rate(mqtt_message_delivered_total{${I}}[${RI}]))`, legend: 'delivered, subscription qos {{mqtt_subscription_qos}}' },
        { expr: `sum by (mqtt_qos) (rate(mqtt_message_delivery_completed_total{${I}}[${RI}]))`, legend: 'completed, message qos {{mqtt_qos}}' },
      ]),
      ts('Dropped by reason', U.messagesPerSecond, 'Messages the broker dropped per second, by reason (queue full, expired, ...), stacked.', [
        { expr: `sum by (error_type) (rate(mqtt_message_dropped_total{${I}}[${RI}]))`, legend: '{{error_type}}' },
      ], { stacked: true }),
      ts('Queued for offline sessions', U.messagesPerSecond, 'Messages stored per second for sessions whose client is away, by topic group.', [
        { expr: `sum by (mqtt_topic_group) (rate(mqtt_message_queued_offline_total{${I}}[${RI}]))`, legend: '{{mqtt_topic_group}}' },
      ]),
      ts('Published by topic group', U.messagesPerSecond, 'PUBLISHes per second by topic group (the matched ACL name, else the first --topic-groups filter that matches).', [
        { expr: `sum by (mqtt_topic_group) (rate(mqtt_message_published_total{${I}}[${RI}]))`, legend: '{{mqtt_topic_group}}' },
      ]),
      ts('Payload size', U.bytes, 'Size of published payloads: median and 99th percentile.', [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(mqtt_publish_payload_size_bytes_bucket{${I}}[${RI}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(mqtt_publish_payload_size_bytes_bucket{${I}}[${RI}])))`, legend: 'p99' },
      ]),
      ts('Subscribe and unsubscribe requests', U.subscriptionsPerSecond, 'SUBSCRIBE requests per second, granted or refused (error.type), and UNSUBSCRIBE requests.', [
        { expr: `label_replace(sum by (error_type) (rate(mqtt_subscriptions_total{${I}}[${RI}])), "error_type", "granted", "error_type", "")`, legend: 'subscribe {{error_type}}' },
        { expr: `sum(rate(mqtt_unsubscriptions_total{${I}}[${RI}]))`, legend: 'unsubscribe' },
      ]),
      ts('Connected clients by client group', U.clients, 'Clients connected now by mqtt.client.group (--client-groups; one unlabelled line without it), all selected nodes.', [
        { expr: `sum by (mqtt_client_group) (mqtt_client_connected{${I}})`, legend: '{{mqtt_client_group}}' },
      ]),
      ts('Messages published by client group', U.messagesPerSecond, 'Messages published per second by mqtt.client.group (--client-groups), all selected nodes.', [
        { expr: `sum by (mqtt_client_group) (rate(mqtt_message_published_total{${I}}[${RI}]))`, legend: '{{mqtt_client_group}}' },
      ]),
      row('What the broker counts itself (--broker-metrics-url)'),
      ts('Retained messages and subscriptions', U.items, "The broker's own counts (vernemq.retain.messages, vernemq.router.subscriptions), all selected nodes.", [
        { expr: `sum(vernemq_retain_messages{${I}})`, legend: 'retained messages' },
        { expr: `sum(vernemq_router_subscriptions{${I}})`, legend: 'subscriptions' },
      ]),
      ts('MQTT bytes in and out', U.bytesPerSecond, "Bytes per second the broker received from and sent to MQTT clients (vernemq.network.io), all selected nodes.", [
        { expr: `sum by (network_io_direction) (rate(vernemq_network_io_bytes_total{${I}}[${RI}]))`, legend: '{{network_io_direction}}' },
      ]),
      ts('Keep-alive expirations', U.clientsPerSecond, 'Clients per second the broker disconnected for silence past their keep-alive (vernemq.client.keepalive.expired), by MQTT version.', [
        { expr: `sum by (network_protocol_version) (rate(vernemq_client_keepalive_expired_total{${I}}[${RI}]))`, legend: 'MQTT {{network_protocol_version}}' },
      ]),
      row('What happened?'),
      { title: 'Alerts', type: 'alertlist', w: 24, h: 6, description: 'Alerts of alerts/vmq-otel-sidecar.rules.yml firing or pending; each links to its runbook section.' },
      {
        title: 'Broker events (warnings)',
        type: 'logs',
        w: 24,
        h: 10,
        logql: '{service_name=~"$service"} | severity_text="WARN"',
        description: 'Log records of broker events at WARN (refusals, drops, abnormal disconnects); open a record\'s trace_id to jump to the application trace in Tempo.',
      },
    ],
  },
  {
    uid: 'vmq-sidecar-health',
    title: 'vmq-otel-sidecar health',
    description: 'Is the sidecar receiving, decoding and exporting everything?',
    panels: [
      row('Intake'),
      stat('Events /s', U.eventsPerSecond, 'Plugin events decoded per second, every hook, all selected sidecars.', `sum(rate(vmq_sidecar_event_received_total{${I}}[${RI}]))`),
      stat('Open plugin connections', U.connections, 'Connections from the vmq_events_sidecar plugin open now: TCP (its pool_size per node, 100 by default) and gRPC (a central deployment\'s replicas share the brokers\' gRPC connections).', `sum(vmq_sidecar_connection_open{${I}})`),
      stat('Rejected frames /s', U.framesPerSecond, 'Frames per second that did not become events (unknown type, undecodable, oversized); those events are lost.', `sum(rate(vmq_sidecar_frame_rejected_total{${I}}[${RI}]))`),
      stat('Log records dropped /s', U.recordsPerSecond, 'Log records per second dropped before export (queue full, export failed, shutdown).', `(sum(rate(otel_sdk_processor_log_processed_total{error_type!="",${I}}[${RI}])) or on() vector(0)) + (sum(rate(otel_sdk_exporter_log_exported_total{error_type!="",${I}}[${RI}])) or on() vector(0))`),
      ts('Events by hook', U.eventsPerSecond, 'Plugin events decoded per second by hook, stacked.', [
        { expr: `sum by (vernemq_hook) (rate(vmq_sidecar_event_received_total{${I}}[${RI}]))`, legend: '{{vernemq_hook}}' },
      ], { stacked: true }),
      ts('Events by transport', U.eventsPerSecond, "Plugin events decoded per second by transport (tcp: the plugin's connection pool; grpc: PluginService/Event calls), stacked.", [
        { expr: `sum by (vmq_sidecar_transport) (rate(vmq_sidecar_event_received_total{${I}}[${RI}]))`, legend: '{{vmq_sidecar_transport}}' },
      ], { stacked: true }),
      ts('Rejected frames by reason', U.framesPerSecond, 'Frames per second that did not become events, by reason and transport; see the runbook (VmqSidecarRejectingFrames).', [
        { expr: `sum by (error_type, vmq_sidecar_transport) (rate(vmq_sidecar_frame_rejected_total{${I}}[${RI}]))`, legend: '{{error_type}} ({{vmq_sidecar_transport}})' },
      ]),
      ts('Event delay (broker timestamp to arrival)', U.seconds, 'Time from the broker\'s event timestamp to its arrival here: median and 99th percentile (includes any clock difference).', [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(vmq_sidecar_event_delay_seconds_bucket{${I}}[${RI}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(vmq_sidecar_event_delay_seconds_bucket{${I}}[${RI}])))`, legend: 'p99' },
      ]),
      ts('Bytes received', U.bytesPerSecond, 'Bytes per second read from plugin connections, per sidecar.', [
        { expr: `sum by (instance) (rate(vmq_sidecar_received_bytes_total{${I}}[${RI}]))`, legend: '{{instance}}' },
      ]),
      ts('Plugin connections per node', U.connections, 'Plugin connections open now, per sidecar.', [
        { expr: `sum by (instance, vmq_sidecar_transport) (vmq_sidecar_connection_open{${I}})`, legend: '{{instance}} {{vmq_sidecar_transport}}' },
      ]),
      ts('Refused plugin connections', U.connectionsPerSecond, 'Plugin connections refused per second because --max-connections was reached, per sidecar.', [
        { expr: `sum by (instance) (rate(vmq_sidecar_connection_refused_total{${I}}[${RI}]))`, legend: '{{instance}}' },
      ]),
      row('Process'),
      ts('Event loop: share of time busy', U.share, 'Share of the time the event loop was busy, per sidecar. Every event is decoded and aggregated on this one loop: near 100% the sidecar is at its throughput limit and the plugin\'s sends wait in the kernel (VmqSidecarSaturated).', [
        { expr: `sum by (instance) (rate(nodejs_eventloop_time_seconds_total{nodejs_eventloop_state="active",${I}}[${RI}])) / sum by (instance) (rate(nodejs_eventloop_time_seconds_total{${I}}[${RI}]))`, legend: '{{instance}}' },
      ]),
      ts('Event loop delay', U.seconds, 'How late timers and I/O callbacks ran in the last 10 s window, per sidecar: 99th percentile and longest. Exports, scrapes and probes wait that long.', [
        { expr: `max by (instance) (nodejs_eventloop_delay_p99_seconds{${I}})`, legend: 'p99 {{instance}}' },
        { expr: `max by (instance) (nodejs_eventloop_delay_max_seconds{${I}})`, legend: 'max {{instance}}' },
      ]),
      ts('CPU', U.cpuSecondsPerSecond, 'CPU seconds per second of the sidecar\'s process (1 = one core), every thread (the event loop, garbage collection, compilation), per sidecar.', [
        { expr: `sum by (instance) (rate(process_cpu_time_seconds_total{${I}}[${RI}]))`, legend: '{{instance}}' },
      ]),
      ts('Resident memory', U.bytes, 'Resident set size of the sidecar\'s process, per sidecar.', [
        { expr: `max by (instance) (process_memory_usage_bytes{${I}})`, legend: '{{instance}}' },
      ]),
      row('Export'),
      ts('Log records', U.recordsPerSecond, 'Log records exported per second, and lost per second by error.type (otel.sdk.* semantic conventions).', [
        { expr: `sum(rate(otel_sdk_exporter_log_exported_total{error_type="",${I}}[${RI}]))`, legend: 'exported' },
        { expr: `sum by (error_type) (rate(otel_sdk_processor_log_processed_total{error_type!="",${I}}[${RI}])) or sum by (error_type) (rate(otel_sdk_exporter_log_exported_total{error_type!="",${I}}[${RI}]))`, legend: 'lost ({{error_type}})' },
      ]),
      ts('Log export queue', U.records, 'Log records waiting for export now, per sidecar (bounded by OTEL_BLRP_MAX_QUEUE_SIZE).', [
        { expr: `sum by (instance) (otel_sdk_processor_log_queue_size{${I}})`, legend: '{{instance}}' },
      ]),
      ts('Export failures', U.exportsPerSecond, 'Failed OTLP exports per second, by exporter (otel.component.type: otlp_<protocol>_metric_exporter, otlp_<protocol>_log_exporter): the collector is down, slow or refusing.', [
        { expr: `sum by (otel_component_type) (rate(vmq_sidecar_export_failures_total{${I}}[${RI}]))`, legend: '{{otel_component_type}}' },
      ]),
      row('Session state'),
      ts('Tracked clients', U.clients, 'Clients whose session state the sidecar keeps (connected or offline), per sidecar; capped by --max-tracked-clients.', [
        { expr: `sum by (instance) (vmq_sidecar_session_tracked{${I}})`, legend: '{{instance}}' },
      ]),
      ts('Session events not applied', U.eventsPerSecond, 'Session events per second that did not change the gauges: out of order (stale) or beyond --max-tracked-clients (untracked).', [
        { expr: `sum(rate(vmq_sidecar_session_stale_events_total{${I}}[${RI}]))`, legend: 'stale (arrived out of order)' },
        { expr: `sum(rate(vmq_sidecar_session_untracked_total{${I}}[${RI}])) or on() vector(0)`, legend: 'untracked (limit reached)' },
      ]),
      ts('MQTT 5 sessions: share of wakeups without on_register', 'percentunit',
        'Wakeups for which no on_register arrived within 5 s while registers were flowing: without the companion plugin vmq_events_sidecar_m5, MQTT 5 sessions, for which the plugin sends only session events: their registrations, publishes, subscriptions, deliveries and CONNECT trace context are missing (README "MQTT 5 clients"). With it (docs/mqtt5.md), registers lost on the way.',
        [
          {
            expr: `sum by (instance) (rate(vmq_sidecar_session_unregistered_wakeups_total{${I}}[${RI}])) / sum by (instance) (rate(vmq_sidecar_event_received_total{${I},vernemq_hook="on_client_wakeup"}[${RI}]))`,
            legend: '{{instance}}',
          },
        ],
      ),
      ts('Attribute values folded into "other"', U.eventsPerSecond, 'Events per second whose attribute value was replaced by "other" because its --max-* limit of distinct values was reached, by attribute.', [
        { expr: `sum by (vmq_sidecar_attribute_name) (rate(vmq_sidecar_attribute_value_folded_total{${I}}[${RI}])) or on() vector(0)`, legend: '{{vmq_sidecar_attribute_name}}' },
      ]),
      row('Can I trust the gauges?'),
      ts('Connected clients: derived vs the broker\'s count', U.clients, 'Our connected-clients gauge next to the broker\'s own count (active_mqtt_connections + active_mqttws_connections, from --broker-metrics-url), per node.', [
        { expr: `sum by (instance) (mqtt_client_connected{${I}})`, legend: 'derived {{instance}}' },
        { expr: `sum by (instance) (vmq_sidecar_broker_connections{${I}})`, legend: 'broker {{instance}}' },
      ]),
      ts('Gauge drift (derived minus broker)', U.clients, 'Derived connected clients minus the broker\'s count, per node; VmqSidecarGaugeDrift fires past 5% and 10 clients.', [
        { expr: `sum by (instance) (vmq_sidecar_broker_connection_drift{${I}})`, legend: '{{instance}}' },
      ]),
      ts('Events not received since the first broker scrape', U.events, 'Events the broker attempted minus those it reported failed minus those received here, by hook, since the sidecar\'s first broker scrape. Sampled hooks (publish, deliver, delivery_complete) count sampled-out events too.', [
        { expr: `sum by (vernemq_hook) (vmq_sidecar_upstream_missing{${I}})`, legend: '{{vernemq_hook}}' },
      ]),
      ts('Broker send errors', U.eventsPerSecond, 'Events per second the broker failed to send to the sidecar (its sidecar_events_error counter), by hook: lost before reaching the sidecar.', [
        { expr: `sum by (vernemq_hook) (rate(vmq_sidecar_broker_sidecar_event_errors_total{${I}}[${RI}]))`, legend: '{{vernemq_hook}}' },
      ]),
      ts('Gauges missing their hooks', U.hooks, '1 while a gauge lacks a hook it is derived from (events arrive, that hook never did), 0 once seen.', [
        { expr: `max by (vmq_sidecar_gauge_name, vernemq_hook) (vmq_sidecar_hook_missing{${I}})`, legend: '{{vmq_sidecar_gauge_name}} needs {{vernemq_hook}}' },
      ]),
      ts('Session snapshot age', U.seconds, 'Seconds since the last --state-file snapshot was written, per sidecar, next to the configured --state-interval.', [
        { expr: `max by (instance) (vmq_sidecar_snapshot_age_seconds{${I}})`, legend: 'age {{instance}}' },
        { expr: `max by (instance) (vmq_sidecar_snapshot_interval_seconds{${I}})`, legend: 'interval {{instance}}' },
      ]),
      ts('Broker scrapes', U.scrapesPerSecond, 'Scrapes of --broker-metrics-url per second: success, or error.type.', [
        { expr: `label_replace(sum by (error_type) (rate(vmq_sidecar_broker_scrapes_total{${I}}[${RI}])), "error_type", "success", "error_type", "")`, legend: '{{error_type}}' },
      ]),
    ],
  },
];

/** Every PromQL query of a dashboard. */
export function promqlOf(d: DashboardDef): string[] {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

function datasource(p: PanelDef) {
  return p.type === 'logs' ? { type: 'loki', uid: '${loki}' } : { type: 'prometheus', uid: '${datasource}' };
}

export function renderDashboard(d: DashboardDef): string {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = d.panels.map((p, i) => {
    const w = p.type === 'row' ? 24 : (p.w ?? 12);
    const h = p.type === 'row' ? 1 : (p.h ?? 8);
    if (x + w > 24 || p.type === 'row') {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    if (p.type === 'row') {
      x = 24;
      return { id: i + 1, type: 'row', title: p.title, collapsed: false, gridPos, panels: [] };
    }
    const base: Record<string, unknown> = { id: i + 1, type: p.type, title: p.title, gridPos, datasource: datasource(p) };
    if (p.description) base.description = p.description;
    if (p.type === 'alertlist') return { ...base, datasource: undefined, options: { showOptions: 'current', maxItems: 20, sortOrder: 1, stateFilter: { firing: true, pending: true } } };
    if (p.type === 'logs') {
      return { ...base, targets: [{ refId: 'A', datasource: datasource(p), expr: p.logql }], options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true } };
    }
    const targets = (p.targets ?? []).map((t, k) => ({ refId: String.fromCharCode(65 + k), datasource: datasource(p), expr: t.expr, legendFormat: t.legend ?? '__auto', range: true }));
    if (p.type === 'stat') return { ...base, targets, fieldConfig: { defaults: { unit: p.unit }, overrides: [] }, options: { reduceOptions: { calcs: ['lastNotNull'] }, graphMode: 'area' } };
    return {
      ...base,
      targets,
      fieldConfig: { defaults: { unit: p.unit, custom: { fillOpacity: p.stacked ? 30 : 10, stacking: { mode: p.stacked ? 'normal' : 'none' } } }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    };
  });
  const json = {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['vernemq', 'mqtt', 'vmq-otel-sidecar'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        { name: 'loki', label: 'Loki', type: 'datasource', query: 'loki', current: {}, hide: 0 },
        {
          // service.name: Prometheus's `job` label via the Collector, Loki's `service_name`.
          name: 'service',
          label: 'Service',
          type: 'query',
          datasource: { type: 'prometheus', uid: '${datasource}' },
          query: { query: 'label_values(vmq_sidecar_connection_open, job)', refId: 'service' },
          definition: 'label_values(vmq_sidecar_connection_open, job)',
          refresh: 2,
          includeAll: false,
          multi: false,
          current: { text: 'vmq-otel-sidecar', value: 'vmq-otel-sidecar' },
          hide: 0,
        },
        {
          name: 'instance',
          label: 'Sidecar (broker node)',
          type: 'query',
          datasource: { type: 'prometheus', uid: '${datasource}' },
          query: { query: 'label_values(vmq_sidecar_connection_open{job=~"$service"}, instance)', refId: 'instance' },
          definition: 'label_values(vmq_sidecar_connection_open{job=~"$service"}, instance)',
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
  return JSON.stringify(json, null, 2) + '\n';
}
