/**
 * Which hooks arrive, and whether the gauges have the hooks they are derived from. The plugin
 * only sends the hooks listed in vmq_events_sidecar.hooks: a connected-clients gauge fed by
 * wakeups but never by offline/gone events only ever grows, and nothing else would say so.
 *
 * A hook that has sent nothing is not necessarily missing: it may be enabled with nothing to
 * report (no clean session ever goes offline, so a clean-session-only workload never sends
 * on_client_offline). The broker cannot tell: it serves sidecar_events{hook} for all thirteen
 * hooks, enabled or not, at 0 until one fires. So a needed hook group counts as missing only
 * when none of its hooks has arrived here, the broker has attempted none of them (a count above
 * 0 proves a hook enabled), and events arrived that imply one of them should have fired:
 * - a wakeup: any register, offline or gone (every connection starts with a wakeup);
 * - an offline or gone: a connection whose end never came (its client woke up again while still
 *   connected, SessionTracker.endsUnseen), or an expiry or offline message (of a session that
 *   went offline);
 * - an offline: an expiry or an offline message.
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

/** What else says a hook is enabled or needed, besides the events that arrived. */
export interface HookEvidence {
  /** Connections whose offline/gone never arrived (SessionTracker.endsUnseen); 0 without per-client state. */
  endsUnseen(): number;
  /** The broker's sidecar_events per hook at its last scrape; undefined without --broker-metrics-url or before a scrape. */
  brokerAttempts(): ReadonlyMap<string, number> | undefined;
}

const NO_EVIDENCE: HookEvidence = { endsUnseen: () => 0, brokerAttempts: () => undefined };

export class HookCoverage implements Component {
  private firstEventAt = 0;
  private reported = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stats: IngestStats,
    private readonly logger: SidecarLogger,
    private readonly options: HookCoverageOptions = { minEvents: 1000, graceMs: 5 * 60_000 },
    private readonly now: () => number = Date.now,
    private readonly evidence: HookEvidence = NO_EVIDENCE,
  ) {}

  /** Arrived here, or attempted by the broker (which counts only hooks it runs). */
  private enabled(h: HookName): boolean {
    return this.stats.eventsOf(h) > 0 || (this.evidence.brokerAttempts()?.get(h) ?? 0) > 0;
  }

  /** Events arrived that imply `h` should have fired. */
  private needed(h: HookName): boolean {
    const s = this.stats;
    const offlineSessions = s.eventsOf('on_session_expired') + s.eventsOf('on_offline_message') > 0;
    switch (h) {
      case 'on_client_wakeup':
        return s.eventsOf('on_register') + s.eventsOf('on_client_offline') + s.eventsOf('on_client_gone') > 0;
      case 'on_client_offline':
        return offlineSessions || this.evidence.endsUnseen() > 0;
      case 'on_client_gone':
        return this.evidence.endsUnseen() > 0;
      default:
        return true;
    }
  }

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

  /** The gauges whose needed hooks are not enabled while events show they should have fired; logs changes. */
  check(): MissingHooks[] {
    const s = this.stats;
    if (s.eventsTotal > 0 && this.firstEventAt === 0) this.firstEventAt = this.now();
    const active = s.eventsTotal >= this.options.minEvents || (s.eventsTotal > 0 && this.now() - this.firstEventAt >= this.options.graceMs);
    const missing: MissingHooks[] = [];
    if (active) {
      for (const r of GAUGE_REQUIREMENTS) {
        const hooks = r.needs.filter((group) => group.every((h) => !this.enabled(h)) && group.some((h) => this.needed(h))).flat();
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
