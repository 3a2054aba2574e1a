/**
 * The one contract every part of the sidecar keeps, after the Collector's component.Component
 * and componentstatus: the assembly (sidecar.ts) lets each component register its metrics,
 * starts them in order, stops them in reverse order before a common deadline, and builds
 * /status by merging their own status reports. Every method is optional: a component that
 * holds no resources has no stop().
 */
import type { MetricStore } from '../metrics/metric-store.js';

/** A component's part of /status: top-level keys, merged one level deep with the others' parts. */
export type StatusReport = Record<string, unknown>;

export interface Component {
  /** Creates the component's metric families and collection hooks; called once, before start(). */
  registerMetrics?(store: MetricStore): void;
  /** Binds, loads, arms timers. The components before it in the list are running. */
  start?(): Promise<unknown> | void;
  /**
   * Releases everything the component holds, finishing its work by `deadline` (ms since the
   * epoch) where it can. Idempotent and safe without start(); the components after it in the
   * list are already stopped.
   */
  stop?(deadline: number): Promise<unknown> | void;
  /**
   * Called when stop() has not finished by its deadline: gives up on the work left (counted as
   * lost where it is counted at all) and releases what it holds at once.
   */
  abandon?(): Promise<unknown> | void;
  status?(): StatusReport;
}

/**
 * How long a receiver lets requests in flight finish when it stops: a quarter of the time left
 * before the deadline (the outputs and exporters need the rest), at most `maxMs`.
 */
export function drainTime(deadline: number, maxMs = 200): number {
  return Math.min(maxMs, Math.max(0, deadline - Date.now()) / 4);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Merges status reports: a key two reports share is merged one level deep when both values
 * are objects (the receiver's and the ingest counters' `connections`); null never replaces a
 * value another report gave.
 */
export function mergeStatus(reports: readonly StatusReport[]): StatusReport {
  const out: StatusReport = {};
  for (const report of reports) {
    for (const [key, value] of Object.entries(report)) {
      const prev = out[key];
      if (isRecord(prev) && isRecord(value)) out[key] = { ...prev, ...value };
      else if (value !== null || prev === undefined) out[key] = value;
    }
  }
  return out;
}

/** Components in start order, handled as one. */
export class ComponentSet {
  private started: Component[] = [];

  constructor(readonly components: readonly Component[]) {}

  registerMetrics(store: MetricStore): void {
    for (const c of this.components) c.registerMetrics?.(store);
  }

  /** Starts each in order; when one fails, stops those already started (by `failDeadline`) and throws. */
  async start(failDeadlineMs = 1000): Promise<void> {
    for (const c of this.components) {
      try {
        await c.start?.();
      } catch (err) {
        await this.stop(Date.now() + failDeadlineMs);
        throw err;
      }
      this.started.push(c);
    }
  }

  /** Stops the started components in reverse order. */
  async stop(deadline: number): Promise<void> {
    const started = this.started;
    this.started = [];
    for (let i = started.length - 1; i >= 0; i--) await started[i]!.stop?.(deadline);
  }

  /**
   * Stops as stop() does; when that has not finished by the deadline, calls `onLate`, abandons
   * the work of every started component (reverse order) and waits at most `abandonMs` for them.
   * True when late.
   */
  async stopBy(deadline: number, onLate: () => void = () => {}, abandonMs = 100): Promise<boolean> {
    const started = [...this.started];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((r) => (timer = setTimeout(() => r(true), Math.max(0, deadline - Date.now()))));
    const late = await Promise.race([this.stop(deadline).then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      onLate();
      const abandoned = started.reverse().map((c) => c.abandon?.());
      await Promise.race([Promise.allSettled(abandoned), new Promise((r) => setTimeout(r, abandonMs).unref())]);
    }
    return late;
  }

  status(): StatusReport {
    return mergeStatus(this.components.flatMap((c) => (c.status ? [c.status()] : [])));
  }

  /** The component of this class, for callers that use its public API (tests, tools). */
  find<T extends Component>(type: abstract new (...args: never[]) => T): T | undefined {
    return this.components.find((c): c is T => c instanceof type);
  }
}
