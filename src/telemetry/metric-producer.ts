/**
 * Turns the MetricStore into OpenTelemetry metric data when a reader collects: a MetricProducer
 * plugged into the SDK's readers (OTLP periodic export, Prometheus pull), so the export path is
 * the SDK's own while the hot path never calls it.
 *
 * One producer per reader, because delta temporality needs per-reader memory of what was
 * reported last. Temporality follows OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE:
 * cumulative (everything cumulative), delta (counters and histograms as deltas, up-down
 * counters cumulative) and lowmemory (the same here, as every counter is synchronous).
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

export class StoreMetricProducer implements MetricProducer {
  private readonly lastNumbers = new WeakMap<NumberSeries, number>();
  private readonly lastHistograms = new WeakMap<HistogramSeries, HistogramMemo>();
  private lastCollectMs: number;

  constructor(
    private readonly store: MetricStore,
    private readonly temporality: Temporality = 'cumulative',
    private readonly scopeVersion?: string,
  ) {
    this.lastCollectMs = Date.now();
  }

  async collect(): Promise<CollectionResult> {
    this.store.beforeCollect();
    const now = Date.now();
    const endTime = millisToHrTime(now);
    const deltaStart = millisToHrTime(this.lastCollectMs);
    const metrics: MetricData[] = [];
    for (const f of this.store.families) {
      const cumulativeStart = millisToHrTime(f.startMs);
      const delta = this.temporality !== 'cumulative' && f.def.kind !== 'updown' && f.def.kind !== 'gauge';
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
            this.lastNumbers.set(s, s.value);
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
            this.lastHistograms.set(s, { count: s.count, sum: s.sum, counts: s.counts.slice() });
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
    this.lastCollectMs = now;
    return {
      // The reader replaces the resource with its MeterProvider's.
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { ...SCOPE, version: this.scopeVersion }, metrics }] },
      errors: [],
    };
  }
}
