/**
 * The broker node's own metrics (the `vernemq.*` entries of the metric catalog, BROKER_METRICS)
 * read from a parsed --broker-metrics-url page: VerneMQ's names mapped to ours, its labels to
 * attributes (the `node` label dropped: one sidecar per node, the resource says which), other
 * labels summed away. A metric the broker does not serve is simply not reported (no zero is
 * invented).
 */
import type { Sample } from './prometheus-text.js';
import { INVALID_VALUE, isWellFormedValue } from '../metrics/bounded-values.js';
import { BROKER_METRIC_DEFS, type BrokerMetricDef, type BrokerSource } from '../metrics/metric-catalog.js';

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
for (const def of BROKER_METRIC_DEFS) {
  for (const source of def.broker.sources) {
    const list = BY_BROKER_NAME.get(source.broker) ?? [];
    list.push({ def, source });
    BY_BROKER_NAME.set(source.broker, list);
  }
}

function attributesOf(def: BrokerMetricDef, source: BrokerSource, labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...source.attributes };
  for (const m of def.broker.labels ?? []) {
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
  for (const def of BROKER_METRIC_DEFS) {
    const points = byDef.get(def);
    if (points !== undefined) out.push({ def, points: [...points.values()] });
  }
  return out;
}
