/**
 * The families of the sidecar's own counters, up-down counters and gauges, created by catalog
 * key in one call: for the components that keep their counts in plain fields (the hot path only
 * bumps a number) and copy them into the families at collection time (store.onCollect), as the
 * OpenTelemetry API's batch observable callbacks do. Each family is typed from its catalog entry,
 * so `families.eventsReceived.get(hook, transport)` is checked like a direct store.sum().
 */
import { SIDECAR_METRICS } from './metric-catalog.js';
import type { MetricStore, NumberFamilyOf, SumFamily } from './metric-store.js';

type SidecarMetrics = typeof SIDECAR_METRICS;

/** The keys of SIDECAR_METRICS whose entries are numbers (not histograms). */
export type SidecarNumberKey = { [K in keyof SidecarMetrics]: SidecarMetrics[K]['kind'] extends 'histogram' ? never : K }[keyof SidecarMetrics];

export type SidecarFamilies<K extends SidecarNumberKey> = { [P in K]: NumberFamilyOf<SidecarMetrics[P]> };

export function sidecarFamilies<K extends SidecarNumberKey>(store: MetricStore, keys: readonly K[]): SidecarFamilies<K> {
  const families: Partial<Record<SidecarNumberKey, SumFamily>> = {};
  for (const key of keys) {
    const def: SidecarMetrics[SidecarNumberKey] = SIDECAR_METRICS[key];
    families[key] = def.kind === 'gauge' ? store.gauge(def) : store.sum(def);
  }
  // Every key asked for was filled just above, each with the family of its own entry.
  return families as SidecarFamilies<K>;
}
