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

const I = 'instance=~"$instance"';
const RI = '$__rate_interval';

const row = (title: string): PanelDef => ({ title, type: 'row' });
const ts = (title: string, unit: string, targets: Target[], extra: Partial<PanelDef> = {}): PanelDef => ({ title, type: 'timeseries', unit, targets, ...extra });
const stat = (title: string, unit: string, expr: string, description?: string): PanelDef => ({ title, type: 'stat', unit, targets: [{ expr }], w: 6, h: 4, description });

export const DASHBOARDS: DashboardDef[] = [
  {
    uid: 'vmq-broker-health',
    title: 'VerneMQ broker health',
    description: 'Clients, sessions, disconnect reasons, message flow and broker events, from vmq-otel-sidecar.',
    panels: [
      row('Is the broker healthy?'),
      stat('Connected clients', 'short', `sum(mqtt_client_connected{${I}})`, 'Derived from events since each sidecar started; see "How far can I trust the gauges?" in the README.'),
      stat('Offline sessions', 'short', `sum(mqtt_session_offline{${I}})`),
      stat('Connects /s', 'reqps', `sum(rate(mqtt_client_registrations_total{${I}}[${RI}]))`),
      stat('Disconnects /s', 'reqps', `sum(rate(mqtt_client_disconnects_total{${I}}[${RI}]))`),
      ts('Connected clients per node', 'short', [{ expr: `sum by (instance) (mqtt_client_connected{${I}})`, legend: '{{instance}}' }]),
      ts('Offline sessions per node', 'short', [{ expr: `sum by (instance) (mqtt_session_offline{${I}})`, legend: '{{instance}}' }]),
      row('Why are clients disconnecting?'),
      ts('Disconnects by reason', 'reqps', [{ expr: `sum by (mqtt_disconnect_reason) (rate(mqtt_client_disconnects_total{${I}}[${RI}]))`, legend: '{{mqtt_disconnect_reason}}' }], { stacked: true }),
      ts('Refused connections by reason', 'reqps', [
        { expr: `sum by (mqtt_failure_reason) (rate(mqtt_client_registration_failures_total{${I}}[${RI}]))`, legend: '{{mqtt_failure_reason}}' },
      ], { stacked: true }),
      ts('Connects and disconnects', 'reqps', [
        { expr: `sum(rate(mqtt_client_registrations_total{${I}}[${RI}]))`, legend: 'connects' },
        { expr: `sum by (mqtt_session_persistent) (rate(mqtt_client_disconnects_total{${I}}[${RI}]))`, legend: 'disconnects (persistent={{mqtt_session_persistent}})' },
        { expr: `sum(rate(mqtt_session_expirations_total{${I}}[${RI}]))`, legend: 'sessions expired' },
      ]),
      ts('Session duration', 's', [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(mqtt_session_duration_seconds_bucket{${I}}[${RI}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.9, sum by (le) (rate(mqtt_session_duration_seconds_bucket{${I}}[${RI}])))`, legend: 'p90' },
      ]),
      row('Where do messages go?'),
      ts('Published by QoS', 'reqps', [{ expr: `sum by (mqtt_qos) (rate(mqtt_messages_published_total{${I}}[${RI}]))`, legend: 'qos {{mqtt_qos}}' }], {
        description: 'A sample when the plugin samples on_publish.',
      }),
      ts('Delivered by QoS', 'reqps', [
        { expr: `sum by (mqtt_qos) (rate(mqtt_messages_delivered_total{${I}}[${RI}]))`, legend: 'delivered qos {{mqtt_qos}}' },
        { expr: `sum(rate(mqtt_messages_delivery_completed_total{${I}}[${RI}]))`, legend: 'completed' },
      ]),
      ts('Dropped by reason', 'reqps', [{ expr: `sum by (mqtt_drop_reason) (rate(mqtt_messages_dropped_total{${I}}[${RI}]))`, legend: '{{mqtt_drop_reason}}' }], { stacked: true }),
      ts('Queued for offline sessions', 'reqps', [{ expr: `sum by (mqtt_topic_group) (rate(mqtt_messages_queued_offline_total{${I}}[${RI}]))`, legend: '{{mqtt_topic_group}}' }]),
      ts('Published by topic group', 'reqps', [{ expr: `sum by (mqtt_topic_group) (rate(mqtt_messages_published_total{${I}}[${RI}]))`, legend: '{{mqtt_topic_group}}' }]),
      ts('Payload size', 'bytes', [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(mqtt_publish_payload_size_bytes_bucket{${I}}[${RI}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(mqtt_publish_payload_size_bytes_bucket{${I}}[${RI}])))`, legend: 'p99' },
      ]),
      ts('Subscriptions', 'reqps', [
        { expr: `sum by (mqtt_subscription_outcome) (rate(mqtt_subscriptions_total{${I}}[${RI}]))`, legend: 'subscribe {{mqtt_subscription_outcome}}' },
        { expr: `sum(rate(mqtt_unsubscriptions_total{${I}}[${RI}]))`, legend: 'unsubscribe' },
      ]),
      row('What happened?'),
      { title: 'Alerts', type: 'alertlist', w: 24, h: 6 },
      {
        title: 'Broker events (warnings)',
        type: 'logs',
        w: 24,
        h: 10,
        logql: '{service_name="vmq-otel-sidecar"} | severity_text="WARN"',
        description: 'Log records of broker events; open a record\'s trace_id to jump to the application trace in Tempo.',
      },
    ],
  },
  {
    uid: 'vmq-sidecar-health',
    title: 'vmq-otel-sidecar health',
    description: 'Is the sidecar receiving, decoding and exporting everything?',
    panels: [
      row('Intake'),
      stat('Events /s', 'reqps', `sum(rate(vmq_sidecar_events_received_total{${I}}[${RI}]))`),
      stat('Plugin connections', 'short', `sum(vmq_sidecar_connections_open{${I}})`),
      stat('Rejected frames /s', 'reqps', `sum(rate(vmq_sidecar_frames_rejected_total{${I}}[${RI}]))`),
      stat('Log records dropped /s', 'reqps', `sum(rate(vmq_sidecar_log_records_dropped_total{${I}}[${RI}])) or on() vector(0)`),
      ts('Events by hook', 'reqps', [{ expr: `sum by (vernemq_hook) (rate(vmq_sidecar_events_received_total{${I}}[${RI}]))`, legend: '{{vernemq_hook}}' }], { stacked: true }),
      ts('Events by transport', 'reqps', [{ expr: `sum by (transport) (rate(vmq_sidecar_events_received_total{${I}}[${RI}]))`, legend: '{{transport}}' }], { stacked: true }),
      ts('Rejected frames by reason', 'reqps', [{ expr: `sum by (reason, transport) (rate(vmq_sidecar_frames_rejected_total{${I}}[${RI}]))`, legend: '{{reason}} ({{transport}})' }]),
      ts('Event delay (broker timestamp to arrival)', 's', [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(vmq_sidecar_event_delay_seconds_bucket{${I}}[${RI}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(vmq_sidecar_event_delay_seconds_bucket{${I}}[${RI}])))`, legend: 'p99' },
      ]),
      ts('Bytes received', 'Bps', [{ expr: `sum by (instance) (rate(vmq_sidecar_received_bytes_total{${I}}[${RI}]))`, legend: '{{instance}}' }]),
      ts('Plugin connections', 'short', [
        { expr: `sum by (instance) (vmq_sidecar_connections_open{${I}})`, legend: 'open {{instance}}' },
        { expr: `sum by (instance) (rate(vmq_sidecar_connections_refused_total{${I}}[${RI}]))`, legend: 'refused/s {{instance}}' },
      ]),
      row('Export'),
      ts('Log records', 'reqps', [
        { expr: `sum(rate(vmq_sidecar_log_records_exported_total{${I}}[${RI}]))`, legend: 'exported' },
        { expr: `sum by (reason) (rate(vmq_sidecar_log_records_dropped_total{${I}}[${RI}]))`, legend: 'dropped ({{reason}})' },
      ]),
      ts('Log export queue', 'short', [{ expr: `sum by (instance) (vmq_sidecar_log_records_queued{${I}})`, legend: '{{instance}}' }]),
      ts('Export failures', 'reqps', [{ expr: `sum by (signal) (rate(vmq_sidecar_export_failures_total{${I}}[${RI}]))`, legend: '{{signal}}' }]),
      row('Session state'),
      ts('Tracked clients', 'short', [{ expr: `sum by (instance) (vmq_sidecar_sessions_tracked{${I}})`, legend: '{{instance}}' }]),
      ts('Session events not applied', 'reqps', [
        { expr: `sum(rate(vmq_sidecar_sessions_stale_events_total{${I}}[${RI}]))`, legend: 'stale (arrived out of order)' },
        { expr: `sum(rate(vmq_sidecar_sessions_untracked_total{${I}}[${RI}])) or on() vector(0)`, legend: 'untracked (limit reached)' },
      ]),
      ts('Attribute values folded into "other"', 'reqps', [
        { expr: `sum by (attribute) (rate(vmq_sidecar_attribute_values_folded_total{${I}}[${RI}])) or on() vector(0)`, legend: '{{attribute}}' },
      ]),
      row('Can I trust the gauges?'),
      ts('Connected clients: derived vs the broker\'s count', 'short', [
        { expr: `sum by (instance) (mqtt_client_connected{${I}})`, legend: 'derived {{instance}}' },
        { expr: `sum by (instance) (vmq_sidecar_broker_connections{${I}})`, legend: 'broker {{instance}}' },
      ], { description: 'The broker\'s own count comes from --broker-metrics-url.' }),
      ts('Gauge drift (derived minus broker)', 'short', [{ expr: `sum by (instance) (vmq_sidecar_broker_connections_drift{${I}})`, legend: '{{instance}}' }]),
      ts('Events lost between broker and sidecar', 'short', [
        { expr: `sum by (vernemq_hook) (vmq_sidecar_upstream_missing{${I}})`, legend: 'not received: {{vernemq_hook}}' },
        { expr: `sum by (vernemq_hook) (increase(vmq_sidecar_broker_sidecar_event_errors_total{${I}}[${RI}]))`, legend: 'send errors: {{vernemq_hook}}' },
      ], { description: 'Since the first broker scrape. Sampled hooks (publish, deliver, delivery_complete) count sampled-out events too.' }),
      ts('Gauges missing their hooks', 'short', [{ expr: `max by (gauge, vernemq_hook) (vmq_sidecar_hooks_missing{${I}})`, legend: '{{gauge}} needs {{vernemq_hook}}' }]),
      ts('Session snapshot age', 's', [{ expr: `max by (instance) (vmq_sidecar_snapshot_age_seconds{${I}})`, legend: '{{instance}}' }]),
      ts('Broker scrapes', 'reqps', [{ expr: `sum by (outcome) (rate(vmq_sidecar_broker_scrapes_total{${I}}[${RI}]))`, legend: '{{outcome}}' }]),
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
          name: 'instance',
          label: 'Sidecar (broker node)',
          type: 'query',
          datasource: { type: 'prometheus', uid: '${datasource}' },
          query: { query: 'label_values(vmq_sidecar_connections_open, instance)', refId: 'instance' },
          definition: 'label_values(vmq_sidecar_connections_open, instance)',
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
