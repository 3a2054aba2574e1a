/**
 * The sidecar's own process, under the semantic conventions' process.* and nodejs.eventloop.*
 * names: CPU time, resident memory, and its one event loop, where every event is decoded and
 * aggregated (docs/architecture.md, "One event loop"). The loop's utilization says how much
 * headroom is left before the plugin's sends start to wait in the kernel, earlier than the event
 * delay shows it; what the Collector and Prometheus exporters report about themselves.
 *
 * Counters are read at collection time (cumulative, so every reader sees the same). The delay
 * percentiles need a window: a timer closes one every `windowMs` and the gauges show the last
 * complete one, whichever reader collects and however often.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { sidecarFamilies } from '../metrics/sidecar-families.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { Component, StatusReport } from '../lifecycle/component.js';

export const DELAY_WINDOW_MS = 10_000;
/**
 * The delay monitor's timer period (ms). What it records is the time between two firings, the
 * period included (an idle loop reads 10 ms): the period is taken off, so an idle loop reads ~0.
 */
const RESOLUTION_MS = 10;

export class RuntimeMetrics implements Component {
  private histogram: IntervalHistogram | null = null;
  private timer: NodeJS.Timeout | undefined;
  private windowStart: EventLoopUtilization = performance.eventLoopUtilization();
  /** The last complete window's figures (seconds; utilization 0 - 1); null before the first. */
  private last: { p99: number; max: number; utilization: number } | null = null;

  constructor(private readonly windowMs = DELAY_WINDOW_MS) {}

  registerMetrics(store: MetricStore): void {
    const f = sidecarFamilies(store, ['processCpuTime', 'processMemoryUsage', 'eventLoopTime', 'eventLoopDelayP99', 'eventLoopDelayMax']);
    store.onCollect(() => {
      const usage = process.cpuUsage();
      f.processCpuTime.get('user').value = usage.user / 1e6;
      f.processCpuTime.get('system').value = usage.system / 1e6;
      f.processMemoryUsage.get().value = process.memoryUsage.rss();
      const elu = performance.eventLoopUtilization();
      f.eventLoopTime.get('active').value = elu.active / 1000;
      f.eventLoopTime.get('idle').value = elu.idle / 1000;
      f.eventLoopDelayP99.get().value = this.last?.p99 ?? 0;
      f.eventLoopDelayMax.get().value = this.last?.max ?? 0;
    });
  }

  start(): void {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.windowStart = performance.eventLoopUtilization();
    this.timer = setInterval(() => this.closeWindow(), this.windowMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram?.disable();
  }

  status(): StatusReport {
    const w = this.last;
    return {
      runtime: {
        windowSeconds: this.windowMs / 1000,
        eventLoopUtilization: w === null ? null : Math.round(w.utilization * 1000) / 1000,
        eventLoopDelayP99Ms: w === null ? null : Math.round(w.p99 * 1e4) / 10,
        eventLoopDelayMaxMs: w === null ? null : Math.round(w.max * 1e4) / 10,
      },
    };
  }

  private closeWindow(): void {
    const h = this.histogram!;
    const late = (ns: number) => Math.max(0, ns / 1e9 - RESOLUTION_MS / 1000);
    const p99 = h.count > 0 ? late(h.percentile(99)) : 0;
    const max = h.count > 0 ? late(h.max) : 0;
    const utilization = performance.eventLoopUtilization(this.windowStart).utilization;
    this.last = { p99, max, utilization };
    this.windowStart = performance.eventLoopUtilization();
    h.reset();
  }
}
