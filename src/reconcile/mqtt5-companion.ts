/**
 * Whether the companion plugin vmq_events_sidecar_m5 (plugin/vmq_events_sidecar_m5/,
 * docs/mqtt5.md) reports to this sidecar: without it, MQTT 5 clients send only session events
 * (VerneMQ runs the _m5 hooks for them, which vmq_events_sidecar does not implement). Said once
 * at start (not seen yet), once when its first event arrives, and in /status.
 *
 * The companion sends nothing until an MQTT 5 client does something, so "not seen" also means
 * "no MQTT 5 client since the sidecar started"; the unregistered-wakeups count tells the two apart
 * (MQTT 5 wakeups without registers).
 */
import { HOOKS, MQTT5_HOOKS } from '../events/event-types.js';
import type { Component, StatusReport } from '../lifecycle/component.js';
import type { IngestStats } from '../receiver/ingest-stats.js';

export interface InfoLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
}

const MQTT5_HOOK_INDEXES = MQTT5_HOOKS.map((h) => [h, HOOKS.indexOf(h)] as const);

export class Mqtt5Companion implements Component {
  private timer: NodeJS.Timeout | undefined;
  private announced = false;

  constructor(
    private readonly stats: IngestStats,
    private readonly logger: InfoLogger,
    private readonly checkEveryMs = 1000,
  ) {}

  start(): void {
    this.logger.info('MQTT 5 companion plugin (vmq_events_sidecar_m5): not seen yet', {
      why: 'its events arrive once an MQTT 5 client connects; without it MQTT 5 clients send only session events (docs/mqtt5.md)',
    });
    this.timer = setInterval(() => this.check(), this.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Logs the first sighting once. */
  check(): void {
    if (this.announced || this.stats.mqtt5FirstSeenMs === 0) return;
    this.announced = true;
    clearInterval(this.timer);
    this.logger.info('MQTT 5 companion plugin (vmq_events_sidecar_m5) seen: MQTT 5 registrations, publishes, subscriptions and deliveries are counted, with network.protocol.version=5', {
      firstSeenAt: new Date(this.stats.mqtt5FirstSeenMs).toISOString(),
    });
  }

  status(): StatusReport {
    const s = this.stats;
    return {
      mqtt5Companion: {
        seen: s.mqtt5FirstSeenMs > 0,
        firstSeenAt: s.mqtt5FirstSeenMs > 0 ? new Date(s.mqtt5FirstSeenMs).toISOString() : null,
        lastSeenAt: s.mqtt5LastSeenMs > 0 ? new Date(s.mqtt5LastSeenMs).toISOString() : null,
        events: Object.fromEntries(MQTT5_HOOK_INDEXES.map(([h, i]) => [h, s.mqtt5EventsByHook[i]!])),
      },
    };
  }
}
