/**
 * When the session state is read and written: loaded once before any event arrives, written
 * every --state-interval by a single writer (a write never overlaps the previous one) and a last
 * time on shutdown, after the final event. Reports its outcomes as metrics, log lines and the
 * `snapshot` part of /status; a failed write is logged (rate-limited), counted and retried at
 * the next interval.
 */
import type { Component, StatusReport } from '../lifecycle/component.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { SessionSnapshot, SnapshotWriteResult } from './session-snapshot.js';

export interface SnapshotSchedule {
  /** Milliseconds between writes. */
  intervalMs: number;
  /** A snapshot older than this is ignored at start. */
  maxAgeMs: number;
}

export class SnapshotLifecycle implements Component {
  private readonly startedAt = Date.now();
  private restored: Record<string, unknown> | null = null;
  private last: (SnapshotWriteResult & { at: number }) | null = null;
  private lastError: string | null = null;
  private readonly writes = { success: 0, error: 0 };
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly snapshot: SessionSnapshot,
    private readonly schedule: SnapshotSchedule,
    private readonly logger: SidecarLogger,
  ) {}

  registerMetrics(store: MetricStore): void {
    const writes = store.sum(SIDECAR_METRICS.snapshotWrites);
    const age = store.gauge(SIDECAR_METRICS.snapshotAge);
    store.gauge(SIDECAR_METRICS.snapshotInterval).get().value = this.schedule.intervalMs / 1000;
    store.onCollect(() => {
      writes.get('').value = this.writes.success;
      writes.get('error').value = this.writes.error;
      age.get().value = this.ageSeconds();
    });
  }

  /** Restores the state of the last run, then writes every interval. */
  async start(): Promise<void> {
    const path = this.snapshot.path;
    const stale = await this.snapshot.removeStaleTemporaries();
    if (stale.length > 0) this.logger.info('removed temporary snapshot files an earlier process left behind', { path, files: stale });
    const r = await this.snapshot.load(this.schedule.maxAgeMs);
    if (r.loaded) {
      const ageSeconds = Math.round(r.ageMs / 1000);
      this.restored = { clients: r.clients, ageSeconds, upstreamLossCount: r.section };
      this.logger.info('session state restored from snapshot', { path, clients: r.clients, ageSeconds, upstreamLossCount: r.section });
    } else {
      this.restored = { ignored: r.reason };
      const quiet = r.reason === 'no snapshot file yet';
      this.logger.log(quiet ? 'info' : 'warn', quiet ? 'no session snapshot to restore' : 'session snapshot ignored; gauges start from zero', { path, reason: r.reason });
    }
    this.timer = setInterval(() => void this.write(), this.schedule.intervalMs);
    this.timer.unref();
  }

  /** The final state, after the last event: the next start continues from here. */
  async stop(): Promise<void> {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.write();
  }

  /** Writes the snapshot unless a write is under way (then waits for that one). */
  write(): Promise<void> {
    this.writing ??= this.snapshot
      .write()
      .then((r) => {
        this.writes.success++;
        this.lastError = null;
        this.last = { ...r, at: Date.now() };
        this.logger.debug('session snapshot written', { ...r });
      })
      .catch((err: Error) => {
        this.writes.error++;
        this.lastError = err.message;
        this.logger.limited('warn', 'snapshot-write', 60_000, 'session snapshot could not be written', { path: this.snapshot.path, err });
      })
      .finally(() => {
        this.writing = null;
      });
    return this.writing;
  }

  status(): StatusReport {
    const last = this.last;
    return {
      snapshot: {
        path: this.snapshot.path,
        restored: this.restored,
        lastWrite: last ? { at: new Date(last.at).toISOString(), clients: last.clients, bytes: last.bytes, ms: Math.round(last.ms) } : null,
        ageSeconds: this.ageSeconds(),
        lastError: this.lastError,
      },
    };
  }

  private ageSeconds(): number {
    return Math.round((Date.now() - (this.last?.at ?? this.startedAt)) / 1000);
  }
}
