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

/** What one collection's points share: its end, the start of its deltas, the deltas it measured. */
interface CollectWindow {
  endTime: HrTime;
  deltaStart: HrTime;
  pending: PendingDeltas;
}

/** A histogram's totals since the start, with min and max once it has a value. */
function histogramTotal(f: HistogramFamily, s: HistogramSeries) {
  return {
    buckets: { boundaries: f.boundaries.slice(), counts: s.counts.slice() },
    count: s.count,
    sum: s.sum,
    ...(s.count > 0 ? { min: s.min, max: s.max } : {}),
  };
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
    const pending: PendingDeltas = { producer: this, seq: ++this.seq, ms: now, numbers: new Map(), histograms: new Map() };
    const window: CollectWindow = { endTime: millisToHrTime(now), deltaStart: millisToHrTime(this.lastCollectMs), pending };
    const metrics: MetricData[] = [];
    for (const f of this.store.families) {
      const m = this.metric(f, window);
      if (m !== null) metrics.push(m);
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

  /** One family's metric data, or null when it has no series yet. */
  private metric(f: MetricStore['families'][number], window: CollectWindow): MetricData | null {
    const kind = f.def.kind;
    const delta = this.temporality !== 'cumulative' && (kind === 'counter' || kind === 'histogram' || (kind === 'updown' && this.deltaShares.has(f.def.name)));
    const times = { startTime: delta ? window.deltaStart : millisToHrTime(f.startMs), endTime: window.endTime };
    const aggregationTemporality = delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    const descriptor = { name: f.def.name, description: f.def.description, unit: f.def.unit, valueType: f.def.valueType === 'double' ? ValueType.DOUBLE : ValueType.INT };
    if (f instanceof SumFamily && kind === 'gauge') {
      const dataPoints = f.all().map((s) => ({ attributes: s.attributes, ...times, value: s.value }));
      return dataPoints.length === 0 ? null : { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints };
    }
    if (f instanceof SumFamily) {
      const dataPoints = this.sumPoints(f, delta, times, window.pending);
      return dataPoints.length === 0 ? null : { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: kind === 'counter', dataPoints };
    }
    if (f instanceof HistogramFamily) {
      const dataPoints = f.all().map((s) => ({ attributes: s.attributes, ...times, value: delta ? this.histogramDelta(f, s, window.pending) : histogramTotal(f, s) }));
      return dataPoints.length === 0 ? null : { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints };
    }
    return null;
  }

  /** A sum's points; as deltas, measured from the last exported values (remembered in `pending`). */
  private sumPoints(f: SumFamily, delta: boolean, times: { startTime: HrTime; endTime: HrTime }, pending: PendingDeltas) {
    const dataPoints = [];
    for (const s of f.all()) {
      let value = s.value;
      if (delta) {
        value = s.value - (this.lastNumbers.get(s) ?? 0);
        pending.numbers.set(s, s.value);
      }
      dataPoints.push({ attributes: s.attributes, ...times, value });
    }
    return dataPoints;
  }

  /** A histogram's movement since the last exported values (remembered in `pending`); no min or max. */
  private histogramDelta(f: HistogramFamily, s: HistogramSeries, pending: PendingDeltas) {
    const last = this.lastHistograms.get(s) ?? { count: 0, sum: 0, counts: s.counts.map(() => 0) };
    pending.histograms.set(s, { count: s.count, sum: s.sum, counts: s.counts.slice() });
    return {
      buckets: { boundaries: f.boundaries.slice(), counts: s.counts.map((c, i) => c - last.counts[i]!) },
      count: s.count - last.count,
      sum: s.sum - last.sum,
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
