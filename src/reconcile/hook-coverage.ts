/**
 * Which hooks arrive, and whether the gauges have the hooks they are derived from. The plugin
 * only sends the hooks listed in vmq_events_sidecar.hooks: a connected-clients gauge fed by
 * wakeups but never by offline/gone events only ever grows, and nothing else would say so.
 */
import { HOOKS, type HookName } from '../events/event-types.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { IngestStats } from '../receiver/ingest-stats.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { Component, StatusReport } from '../lifecycle/component.js';

/** How often missing hooks are checked (and logged) between collections. */
const CHECK_INTERVAL_MS = 30_000;

/** Per gauge: groups of hooks, each group needing at least one of its hooks. */
export const GAUGE_REQUIREMENTS: readonly { gauge: string; needs: readonly (readonly HookName[])[] }[] = [
  { gauge: 'mqtt.client.connected', needs: [['on_client_wakeup'], ['on_client_offline', 'on_client_gone']] },
  { gauge: 'mqtt.session.offline', needs: [['on_client_offline'], ['on_client_wakeup']] },
];

export interface HookCoverageOptions {
  /** Events seen before a missing hook is reported... */
  minEvents: number;
  /** ...or time since the first event. */
  graceMs: number;
}

export interface MissingHooks {
  gauge: string;
  hooks: HookName[];
}

export class HookCoverage implements Component {
  private firstEventAt = 0;
  private reported = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stats: IngestStats,
    private readonly logger: SidecarLogger,
    private readonly options: HookCoverageOptions = { minEvents: 1000, graceMs: 5 * 60_000 },
    private readonly now: () => number = Date.now,
  ) {}

  registerMetrics(store: MetricStore): void {
    const missingFamily = store.gauge(SIDECAR_METRICS.hooksMissing);
    store.onCollect(() => {
      const missing = this.check();
      for (const r of GAUGE_REQUIREMENTS) {
        for (const group of r.needs) {
          for (const h of group) {
            const isMissing = missing.some((m) => m.gauge === r.gauge && m.hooks.includes(h));
            // A series per gauge and needed hook, at 0 when fine: alerts can rely on it.
            missingFamily.get(r.gauge, h).value = isMissing ? 1 : 0;
          }
        }
      }
    });
  }

  start(): void {
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  status(): StatusReport {
    return { events: { byHook: this.seen() }, gaugesMissingHooks: this.check() };
  }

  /** The gauges whose needed hooks never arrived while other events did; logs changes. */
  check(): MissingHooks[] {
    const s = this.stats;
    if (s.eventsTotal > 0 && this.firstEventAt === 0) this.firstEventAt = this.now();
    const active = s.eventsTotal >= this.options.minEvents || (s.eventsTotal > 0 && this.now() - this.firstEventAt >= this.options.graceMs);
    const missing: MissingHooks[] = [];
    if (active) {
      for (const r of GAUGE_REQUIREMENTS) {
        const hooks = r.needs.filter((group) => group.every((h) => s.eventsOf(h) === 0)).flat();
        if (hooks.length > 0) missing.push({ gauge: r.gauge, hooks });
      }
    }
    const now = new Set(missing.map((m) => `${m.gauge}:${m.hooks.join(',')}`));
    for (const m of missing) {
      const key = `${m.gauge}:${m.hooks.join(',')}`;
      if (!this.reported.has(key)) {
        this.logger.warn('gauge without the hooks it is derived from: enable them in vmq_events_sidecar.hooks', {
          gauge: m.gauge,
          missingHooks: m.hooks,
          eventsSeen: s.eventsTotal,
        });
      }
    }
    for (const key of this.reported) {
      if (!now.has(key)) this.logger.info('gauge hooks now arriving', { gauge: key.split(':')[0] });
    }
    this.reported = now;
    return missing;
  }

  /** Per hook: events and when last seen, for /status. */
  seen(): Record<string, { count: number; lastSeen: string | null }> {
    return Object.fromEntries(
      HOOKS.map((h, i) => [h, { count: this.stats.eventsAt(i), lastSeen: this.stats.lastSeenByHook[i] ? new Date(this.stats.lastSeenByHook[i]!).toISOString() : null }]),
    );
  }
}
