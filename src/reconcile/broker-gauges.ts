/**
 * The broker node's own metrics, re-exported under `vernemq.*` from the page --broker-metrics-url
 * already scrapes, so that backends that only take OTLP see retained messages, subscriptions,
 * bytes in/out, netsplits and keep-alive expirations beside the metrics derived from events.
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
import type { Sample } from './prometheus-text.js';
import { INVALID_VALUE, isWellFormedValue } from '../metrics/bounded-values.js';

export type BrokerMetricKind = 'counter' | 'gauge';

export interface BrokerSource {
  /** The broker's metric name. */
  broker: string;
  /** Attributes this source's samples get (beside those mapped from labels). */
  attributes?: Readonly<Record<string, string>>;
}

export interface BrokerMetricDef {
  name: string;
  kind: BrokerMetricKind;
  unit: string;
  description: string;
  sources: readonly BrokerSource[];
  /** Broker labels kept, as attribute name and value mapping. */
  labels?: readonly LabelMapping[];
  /** Attribute names the points carry, for the catalog. */
  attributes: readonly string[];
  /** Which VerneMQ versions serve it. */
  versions: string;
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

const FORK = 'gojek/vernemq v5.1.0 and vernemq/vernemq 2.x';
const MQTT_VERSION: LabelMapping = { label: 'mqtt_version', attribute: 'network.protocol.version', values: { '4': '3.1.1', '5': '5' } };
const RECEIVE = { 'network.io.direction': 'receive' } as const;
const TRANSMIT = { 'network.io.direction': 'transmit' } as const;

export const BROKER_METRICS = {
  retainedMessages: {
    name: 'vernemq.retain.messages',
    kind: 'gauge',
    unit: '{message}',
    description: 'Retained messages the broker node stores now (retain_messages).',
    sources: [{ broker: 'retain_messages' }],
    attributes: [],
    versions: FORK,
  },
  retainedMemory: {
    name: 'vernemq.retain.memory',
    kind: 'gauge',
    unit: 'By',
    description: 'Memory used by the stored retained messages (retain_memory).',
    sources: [{ broker: 'retain_memory' }],
    attributes: [],
    versions: FORK,
  },
  subscriptions: {
    name: 'vernemq.router.subscriptions',
    kind: 'gauge',
    unit: '{subscription}',
    description: "Subscriptions in the broker's routing table now (router_subscriptions).",
    sources: [{ broker: 'router_subscriptions' }],
    attributes: [],
    versions: FORK,
  },
  routerMemory: {
    name: 'vernemq.router.memory',
    kind: 'gauge',
    unit: 'By',
    description: 'Memory used by the routing table (router_memory).',
    sources: [{ broker: 'router_memory' }],
    attributes: [],
    versions: FORK,
  },
  queueProcesses: {
    name: 'vernemq.queue.processes',
    kind: 'gauge',
    unit: '{queue}',
    description: 'Session queues on the node, online and offline (queue_processes).',
    sources: [{ broker: 'queue_processes' }],
    attributes: [],
    versions: FORK,
  },
  offlineMessages: {
    name: 'vernemq.queue.offline_messages',
    kind: 'gauge',
    unit: '{message}',
    description: "Messages stored for offline sessions (offline_messages; Gojek's fork only).",
    sources: [{ broker: 'offline_messages' }],
    attributes: [],
    versions: 'gojek/vernemq v5.1.0',
  },
  activeConnections: {
    name: 'vernemq.connection.active',
    kind: 'gauge',
    unit: '{connection}',
    description: 'MQTT connections open on the node now, by listener type (active_mqtt_connections: TCP and TLS listeners; active_mqttws_connections: WebSocket listeners).',
    sources: [
      { broker: 'active_mqtt_connections', attributes: { 'vernemq.listener.type': 'tcp' } },
      { broker: 'active_mqttws_connections', attributes: { 'vernemq.listener.type': 'websocket' } },
    ],
    attributes: ['vernemq.listener.type'],
    versions: FORK,
  },
  networkIo: {
    name: 'vernemq.network.io',
    kind: 'counter',
    unit: 'By',
    description: 'Bytes received from and sent to MQTT clients (bytes_received, bytes_sent).',
    sources: [
      { broker: 'bytes_received', attributes: RECEIVE },
      { broker: 'bytes_sent', attributes: TRANSMIT },
    ],
    attributes: ['network.io.direction'],
    versions: FORK,
  },
  clusterNetworkIo: {
    name: 'vernemq.cluster.network.io',
    kind: 'counter',
    unit: 'By',
    description: 'Bytes received from and sent to other cluster nodes (cluster_bytes_received, cluster_bytes_sent).',
    sources: [
      { broker: 'cluster_bytes_received', attributes: RECEIVE },
      { broker: 'cluster_bytes_sent', attributes: TRANSMIT },
    ],
    attributes: ['network.io.direction'],
    versions: FORK,
  },
  clusterDropped: {
    name: 'vernemq.cluster.network.dropped',
    kind: 'counter',
    unit: 'By',
    description: 'Bytes for other cluster nodes dropped because the connection to them was down or its buffer full (cluster_bytes_dropped).',
    sources: [{ broker: 'cluster_bytes_dropped' }],
    attributes: [],
    versions: FORK,
  },
  netsplitsDetected: {
    name: 'vernemq.netsplit.detected',
    kind: 'counter',
    unit: '{netsplit}',
    description: 'Netsplits this node detected (netsplit_detected).',
    sources: [{ broker: 'netsplit_detected' }],
    attributes: [],
    versions: 'vernemq/vernemq 2.x (not served by gojek/vernemq v5.1.0)',
  },
  netsplitsResolved: {
    name: 'vernemq.netsplit.resolved',
    kind: 'counter',
    unit: '{netsplit}',
    description: 'Netsplits this node saw resolved (netsplit_resolved).',
    sources: [{ broker: 'netsplit_resolved' }],
    attributes: [],
    versions: 'vernemq/vernemq 2.x (not served by gojek/vernemq v5.1.0)',
  },
  keepaliveExpired: {
    name: 'vernemq.client.keepalive.expired',
    kind: 'counter',
    unit: '{client}',
    description: 'Clients disconnected because they sent nothing within their keep-alive period (client_keepalive_expired), by MQTT version.',
    sources: [{ broker: 'client_keepalive_expired' }],
    labels: [MQTT_VERSION],
    attributes: ['network.protocol.version'],
    versions: FORK,
  },
  publishReceived: {
    name: 'vernemq.mqtt.publish.received',
    kind: 'counter',
    unit: '{packet}',
    description: 'PUBLISH packets received from clients (mqtt_publish_received), by MQTT version; not sampled, unlike on_publish.',
    sources: [{ broker: 'mqtt_publish_received' }],
    labels: [MQTT_VERSION],
    attributes: ['network.protocol.version'],
    versions: FORK,
  },
  publishSent: {
    name: 'vernemq.mqtt.publish.sent',
    kind: 'counter',
    unit: '{packet}',
    description: 'PUBLISH packets sent to clients (mqtt_publish_sent), by MQTT version; not sampled, unlike on_deliver.',
    sources: [{ broker: 'mqtt_publish_sent' }],
    labels: [MQTT_VERSION],
    attributes: ['network.protocol.version'],
    versions: FORK,
  },
  queueMessagesIn: {
    name: 'vernemq.queue.message.in',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages put into session queues (queue_message_in).',
    sources: [{ broker: 'queue_message_in' }],
    attributes: [],
    versions: FORK,
  },
  queueMessagesOut: {
    name: 'vernemq.queue.message.out',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages taken out of session queues to be sent (queue_message_out).',
    sources: [{ broker: 'queue_message_out' }],
    attributes: [],
    versions: FORK,
  },
  queueMessagesDropped: {
    name: 'vernemq.queue.message.dropped',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages dropped because a session queue was full (queue_message_drop).',
    sources: [{ broker: 'queue_message_drop' }],
    attributes: [],
    versions: FORK,
  },
  queueMessagesExpired: {
    name: 'vernemq.queue.message.expired',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages that expired in session queues (queue_message_expired).',
    sources: [{ broker: 'queue_message_expired' }],
    attributes: [],
    versions: FORK,
  },
} as const satisfies Record<string, BrokerMetricDef>;

export const ALL_BROKER_METRICS: readonly BrokerMetricDef[] = Object.values(BROKER_METRICS);

export interface BrokerPoint {
  attributes: Readonly<Record<string, string>>;
  value: number;
}

export interface BrokerReading {
  def: BrokerMetricDef;
  points: BrokerPoint[];
}

/** Broker metric name -> the definitions (and source entry) it feeds. */
const BY_BROKER_NAME = new Map<string, { def: BrokerMetricDef; source: BrokerSource }[]>();
for (const def of ALL_BROKER_METRICS) {
  for (const source of def.sources) {
    const list = BY_BROKER_NAME.get(source.broker) ?? [];
    list.push({ def, source });
    BY_BROKER_NAME.set(source.broker, list);
  }
}

function attributesOf(def: BrokerMetricDef, source: BrokerSource, labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...source.attributes };
  for (const m of def.labels ?? []) {
    const v = labels[m.label];
    if (v === undefined) continue;
    out[m.attribute] = m.values === undefined ? (isWellFormedValue(v) ? v : INVALID_VALUE) : Object.hasOwn(m.values, v) ? m.values[v]! : INVALID_VALUE;
  }
  return out;
}

/** A stable key for an attribute set (attribute order in a definition is fixed). */
function keyOf(attributes: Readonly<Record<string, string>>): string {
  return Object.keys(attributes)
    .sort()
    .map((k) => `${k}=${attributes[k]}`)
    .join('\u0000');
}

/**
 * The `vernemq.*` values in a parsed page: per metric the broker serves, one point per attribute
 * set, samples of other labels (node, ...) summed. Names with a `_total` suffix (a page that went
 * through a Prometheus-style relabelling) are taken too. Samples that are not finite
 * non-negative numbers are skipped: counts and sizes cannot be negative.
 */
export function brokerReadings(samples: readonly Sample[]): BrokerReading[] {
  const byDef = new Map<BrokerMetricDef, Map<string, BrokerPoint>>();
  for (const s of samples) {
    const feeds = BY_BROKER_NAME.get(s.name) ?? (s.name.endsWith('_total') ? BY_BROKER_NAME.get(s.name.slice(0, -6)) : undefined);
    if (feeds === undefined) continue;
    if (!Number.isFinite(s.value) || s.value < 0) continue;
    for (const { def, source } of feeds) {
      const attributes = attributesOf(def, source, s.labels);
      const key = keyOf(attributes);
      let points = byDef.get(def);
      if (points === undefined) byDef.set(def, (points = new Map()));
      const p = points.get(key);
      if (p === undefined) points.set(key, { attributes, value: s.value });
      else p.value += s.value;
    }
  }
  // Catalog order, so that output (and docs) are stable whatever the page's order.
  const out: BrokerReading[] = [];
  for (const def of ALL_BROKER_METRICS) {
    const points = byDef.get(def);
    if (points !== undefined) out.push({ def, points: [...points.values()] });
  }
  return out;
}
