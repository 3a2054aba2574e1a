/**
 * Turns the MetricStore into OpenTelemetry metric data when a reader collects: a MetricProducer
 * plugged into the SDK's readers (OTLP periodic export, Prometheus pull), so the export path is
 * the SDK's own while the hot path never calls it.
 *
 * One producer per reader, because delta temporality needs per-reader memory of what was
 * reported last. Temporality follows OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE:
 * cumulative (everything cumulative), delta (counters and histograms as deltas, up-down
 * counters cumulative) and lowmemory (the same here, as every counter is synchronous).
 *
 * `deltaShares`: up-down counters that are a replica's share of a sum over replicas
 * (mqtt.client.connected in --gauge-mode deltas). With delta (or lowmemory) temporality they
 * go out as deltas too, so that the gateway Collector's deltatocumulative processor adds a
 * restarted replica's movements to what its predecessor of the same service.instance.id had
 * accumulated, instead of the new process's total replacing it (docs/scaling.md).
 */
import { ValueType, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';
import type { Temporality } from './otel-config.js';
import { HistogramFamily, SumFamily, type HistogramSeries, type MetricStore, type NumberSeries } from '../metrics/metric-store.js';

export const SCOPE = { name: 'vmq-otel-sidecar' };

interface HistogramMemo {
  count: number;
  sum: number;
  counts: number[];
}

/**
 * On the scope of a delta collection: what its export, once it succeeds, commits as the new
 * baseline (export results come back through settleDeltas()).
 */
const PENDING_DELTAS = Symbol('pending deltas');

interface PendingDeltas {
  producer: StoreMetricProducer;
  seq: number;
  ms: number;
  numbers: Map<NumberSeries, number>;
  histograms: Map<HistogramSeries, HistogramMemo>;
}

/**
 * Tells the delta producers whose points `metrics` carries how their export ended. A delta is
 * measured from the last collection whose export succeeded: a failed export's points go out
 * again, added into the next delta, instead of being lost (a Collector outage would otherwise
 * take every delta of its duration out of the accumulated sums).
 */
export function settleDeltas(metrics: { scopeMetrics: readonly object[] }, ok: boolean): void {
  for (const scope of metrics.scopeMetrics) {
    const p = (scope as { [PENDING_DELTAS]?: PendingDeltas })[PENDING_DELTAS];
    if (p && ok) p.producer.commit(p);
  }
}

export class StoreMetricProducer implements MetricProducer {
  /** The values of the last collection whose export succeeded: deltas are measured from them. */
  private readonly lastNumbers = new WeakMap<NumberSeries, number>();
  private readonly lastHistograms = new WeakMap<HistogramSeries, HistogramMemo>();
  private lastCollectMs: number;
  private committedSeq = 0;
  private seq = 0;

  constructor(
    private readonly store: MetricStore,
    private readonly temporality: Temporality = 'cumulative',
    private readonly scopeVersion?: string,
    private readonly deltaShares: ReadonlySet<string> = new Set(),
  ) {
    this.lastCollectMs = Date.now();
  }

  async collect(): Promise<CollectionResult> {
    this.store.beforeCollect();
    const now = Date.now();
    const endTime = millisToHrTime(now);
    const deltaStart = millisToHrTime(this.lastCollectMs);
    const metrics: MetricData[] = [];
    const pending: PendingDeltas = { producer: this, seq: ++this.seq, ms: now, numbers: new Map(), histograms: new Map() };
    for (const f of this.store.families) {
      const cumulativeStart = millisToHrTime(f.startMs);
      const delta = this.temporality !== 'cumulative' && (f.def.kind === 'counter' || f.def.kind === 'histogram' || (f.def.kind === 'updown' && this.deltaShares.has(f.def.name)));
      const startTime: HrTime = delta ? deltaStart : cumulativeStart;
      const temporality = delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
      const descriptor = { name: f.def.name, description: f.def.description, unit: f.def.unit, valueType: f.def.valueType === 'double' ? ValueType.DOUBLE : ValueType.INT };
      if (f instanceof SumFamily && f.def.kind === 'gauge') {
        const dataPoints = f.all().map((s) => ({ attributes: s.attributes, startTime, endTime, value: s.value }));
        if (dataPoints.length === 0) continue;
        metrics.push({ descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.GAUGE, dataPoints });
      } else if (f instanceof SumFamily) {
        const dataPoints = [];
        for (const s of f.all()) {
          let value = s.value;
          if (delta) {
            value = s.value - (this.lastNumbers.get(s) ?? 0);
            pending.numbers.set(s, s.value);
          }
          dataPoints.push({ attributes: s.attributes, startTime, endTime, value });
        }
        if (dataPoints.length === 0) continue;
        metrics.push({
          descriptor,
          aggregationTemporality: temporality,
          dataPointType: DataPointType.SUM,
          isMonotonic: f.def.kind === 'counter',
          dataPoints,
        });
      } else if (f instanceof HistogramFamily) {
        const dataPoints = [];
        for (const s of f.all()) {
          if (delta) {
            const last = this.lastHistograms.get(s) ?? { count: 0, sum: 0, counts: s.counts.map(() => 0) };
            dataPoints.push({
              attributes: s.attributes,
              startTime,
              endTime,
              value: {
                buckets: { boundaries: f.boundaries.slice(), counts: s.counts.map((c, i) => c - last.counts[i]!) },
                count: s.count - last.count,
                sum: s.sum - last.sum,
              },
            });
            pending.histograms.set(s, { count: s.count, sum: s.sum, counts: s.counts.slice() });
          } else {
            dataPoints.push({
              attributes: s.attributes,
              startTime,
              endTime,
              value: {
                buckets: { boundaries: f.boundaries.slice(), counts: s.counts.slice() },
                count: s.count,
                sum: s.sum,
                ...(s.count > 0 ? { min: s.min, max: s.max } : {}),
              },
            });
          }
        }
        if (dataPoints.length === 0) continue;
        metrics.push({
          descriptor,
          aggregationTemporality: temporality,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints,
        });
      }
    }
    const scope = { scope: { ...SCOPE, version: this.scopeVersion }, metrics };
    // Deltas become the baseline once their export succeeded (settleDeltas); a reader without
    // an exporter that reports back (none here) would resend them, never lose them.
    if (pending.numbers.size > 0 || pending.histograms.size > 0) Object.defineProperty(scope, PENDING_DELTAS, { value: pending, enumerable: false });
    else this.lastCollectMs = now;
    return {
      // The reader replaces the resource with its MeterProvider's.
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [scope] },
      errors: [],
    };
  }

  /** A delta collection was exported: its values are the baseline of the next delta. */
  commit(p: PendingDeltas): void {
    // An older collection settling after a newer one committed changes nothing.
    if (p.seq <= this.committedSeq) return;
    this.committedSeq = p.seq;
    for (const [s, v] of p.numbers) this.lastNumbers.set(s, v);
    for (const [s, h] of p.histograms) this.lastHistograms.set(s, h);
    this.lastCollectMs = p.ms;
  }
}
