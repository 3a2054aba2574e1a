/**
 * The sidecar's own log: one JSON object per line on stderr.
 *
 * Per-item problems (a bad frame, a failed export) go through `limited()`, which writes at most
 * one line per key and interval and reports how many it held back, so a flood of bad input
 * cannot turn into a flood of log lines.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

interface Throttle {
  nextAt: number;
  suppressed: number;
  /** summarized(): the closing line of the interval, when one is due. */
  trailing?: NodeJS.Timeout;
}

export class SidecarLogger {
  private readonly minRank: number;
  private readonly throttles = new Map<string, Throttle>();

  constructor(
    level: LogLevel = 'info',
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    private readonly now: () => number = Date.now,
  ) {
    this.minRank = RANK[level];
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.minRank;
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  /**
   * Logs at most once per `intervalMs` for `key`; the next line that gets through carries
   * `suppressed`, the number of lines held back since the previous one.
   */
  limited(level: LogLevel, key: string, intervalMs: number, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const now = this.now();
    let t = this.throttles.get(key);
    if (t === undefined) {
      t = { nextAt: 0, suppressed: 0 };
      this.throttles.set(key, t);
    }
    if (now < t.nextAt) {
      t.suppressed++;
      return;
    }
    const suppressed = t.suppressed;
    t.suppressed = 0;
    t.nextAt = now + intervalMs;
    this.log(level, msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }

  /**
   * For summaries whose latest value matters (how many plugin connections are open): as
   * limited(), and when lines were held back, one more when the interval ends, with the fields
   * as they are then, so the last line written tells the state after a burst, not during it.
   */
  summarized(level: LogLevel, key: string, intervalMs: number, msg: string, fields: () => LogFields): void {
    if (!this.enabled(level)) return;
    const t = this.throttles.get(key);
    if (t !== undefined && this.now() < t.nextAt) {
      t.suppressed++;
      t.trailing ??= setTimeout(
        () => {
          t.trailing = undefined;
          if (t.suppressed === 0) return;
          this.log(level, msg, { ...fields(), suppressed: t.suppressed });
          t.suppressed = 0;
          t.nextAt = this.now() + intervalMs;
        },
        Math.max(0, t.nextAt - this.now()),
      ).unref();
      return;
    }
    // A line is written now: a closing line still pending would repeat it.
    if (t?.trailing !== undefined) {
      clearTimeout(t.trailing);
      t.trailing = undefined;
    }
    this.limited(level, key, intervalMs, msg, fields());
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.minRank) return;
    const record: LogFields = { time: new Date(this.now()).toISOString(), level, msg };
    if (fields) {
      for (const k in fields) {
        const v = fields[k];
        record[k] = v instanceof Error ? v.message : v;
      }
    }
    this.write(escapeJsonLine(JSON.stringify(record)) + '\n');
  }
}

/** Characters JSON.stringify leaves raw that terminals or JavaScript readers treat as controls. */
const RAW_CONTROLS = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * A field can hold peer-chosen text (a type_url, an error message): JSON.stringify escapes C0
 * controls and newlines but not DEL, the C1 controls (0x9b starts a terminal escape sequence) or
 * U+2028/2029 (line breaks to JavaScript); those are written as \uXXXX, still the same JSON.
 */
function escapeJsonLine(json: string): string {
  RAW_CONTROLS.lastIndex = 0;
  return RAW_CONTROLS.test(json) ? json.replace(RAW_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
