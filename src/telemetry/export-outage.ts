/**
 * Follows one export target through failures and recoveries, so that an outage reads as one
 * WARN line per interval (the error's first line, no stack) and one INFO line when exports
 * succeed again, saying how long it lasted and what it cost.
 */
import { ErrorTypeCounts } from './export-error-type.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';

export interface ExportOutageOptions {
  signal: 'metrics' | 'logs';
  endpoint: string;
  /** Whether this tracker writes the WARN line (the log export queue writes its own). */
  warn: boolean;
  /**
   * What was lost so far, a running total; the recovery line reports the difference from the
   * last successful export before the outage.
   */
  lost?: () => Record<string, number>;
  warnIntervalMs?: number;
}

export class ExportOutage {
  /** Failed exports since start. */
  failures = 0;
  /** The same failures by error.type. */
  readonly failuresByType = new ErrorTypeCounts();
  private since: number | null = null;
  private failuresAtStart = 0;
  /** Exports the reader stopped waiting for, in the current outage. */
  private timeoutsInOutage = 0;
  private lostAtStart: Record<string, number> = {};

  constructor(
    private readonly logger: SidecarLogger,
    private readonly options: ExportOutageOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get ongoing(): boolean {
    return this.since !== null;
  }

  failed(error: Error | undefined): void {
    this.begin();
    this.failures++;
    this.failuresByType.add(error);
    this.warn(firstLine(error));
  }

  /**
   * The reader stopped waiting for an export: the same WARN line as a failure, under the same
   * throttle, so an outage that shows both reads as one line per interval. Not counted as a
   * failed export: the export's own result, failed or late, still arrives through failed() or
   * succeeded().
   */
  timedOut(message: string): void {
    // It opens the outage too: the WARN line it writes is then always followed by a recovery line.
    this.begin();
    this.timeoutsInOutage++;
    this.warn(firstLine(new Error(message)));
  }

  private begin(): void {
    if (this.since !== null) return;
    this.since = this.now();
    this.failuresAtStart = this.failures;
    this.timeoutsInOutage = 0;
    // lostAtStart stays as of the last success: records dropped before the first failed export
    // (the exporter retries inside its timeout first, while the queue fills) belong to the outage.
  }

  private warn(error: string): void {
    if (!this.options.warn) return;
    const { signal, endpoint } = this.options;
    this.logger.limited('warn', `${signal}-export-failed`, this.options.warnIntervalMs ?? 30_000, `${signal} export failed; retrying`, {
      endpoint,
      error,
      failedExports: this.failures - this.failuresAtStart,
      ...(this.timeoutsInOutage > 0 ? { timedOutExports: this.timeoutsInOutage } : {}),
    });
  }

  succeeded(): void {
    if (this.since === null) {
      if (this.options.lost) this.lostAtStart = this.options.lost();
      return;
    }
    const { signal, endpoint } = this.options;
    const lost: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.options.lost?.() ?? {})) lost[k] = v - (this.lostAtStart[k] ?? 0);
    this.logger.info(`${signal} exports recovered`, {
      endpoint,
      outageSeconds: Math.round((this.now() - this.since) / 1000),
      failedExports: this.failures - this.failuresAtStart,
      ...(this.timeoutsInOutage > 0 ? { timedOutExports: this.timeoutsInOutage } : {}),
      ...lost,
    });
    this.since = null;
    this.lostAtStart = this.options.lost?.() ?? {};
  }
}

/** An exporter error's first line: SDK errors carry multi-line messages and stacks nobody on call needs. */
export function firstLine(error: Error | undefined): string {
  const text = error?.message ?? 'unknown error';
  // grpc-js ends UNAVAILABLE messages with an empty "Resolution note: ".
  return text.split('\n', 1)[0]!.replace(/\s*Resolution note:\s*$/, '').slice(0, 300);
}
