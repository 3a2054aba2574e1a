/**
 * Exporters that pass exports through and tell an outage tracker (export-outage.ts) how each
 * ended, so that an outage reads as one WARN line per interval and one recovery line.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type InstrumentType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ExportOutage } from './export-outage.js';
import type { ExportItem, ItemExporter } from './export-helper/export-item.js';
import { settleDeltas } from './metric-producer.js';

/** Reports failed metric exports and their recovery (ExportOutage); otherwise passes through. */
export class CountingMetricExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    readonly outage: ExportOutage,
  ) {}

  get failures(): number {
    return this.outage.failures;
  }

  export(metrics: ResourceMetrics, done: (r: ExportResult) => void): void {
    this.inner.export(metrics, (r) => {
      // With cumulative temporality the next export carries the totals; with delta, a failed
      // export's deltas are added into the next one (settleDeltas).
      const ok = r.code === ExportResultCode.SUCCESS;
      settleDeltas(metrics, ok);
      if (ok) this.outage.succeeded();
      else this.outage.failed(r.error);
      done(r);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(t: InstrumentType): AggregationTemporality {
    return this.inner.selectAggregationTemporality?.(t) ?? AggregationTemporality.CUMULATIVE;
  }
}

/**
 * Passes exports (log records or spans) through to the exporter, telling the outage tracker how
 * each ended.
 */
export class ObservedExporter implements ItemExporter {
  constructor(
    private readonly inner: ItemExporter,
    private readonly outage: ExportOutage,
  ) {}

  export(items: ExportItem[], done: (r: ExportResult) => void): void {
    this.inner.export(items, (r) => {
      if (r.code === ExportResultCode.SUCCESS) this.outage.succeeded();
      else this.outage.failed(r.error);
      done(r);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
