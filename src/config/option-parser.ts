/**
 * Table-driven settings: each option has a CLI flag, optionally an environment variable, a
 * default, and a parser that names the accepted values. Every problem is collected so that one
 * run reports all of them, each naming the setting.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export interface OptionSpec<T> {
  /** Flag without dashes, e.g. "listen" for --listen. */
  flag: string;
  /** Environment variable consulted when the flag is absent. */
  env?: string;
  /** Raw default, run through parse like any user value; undefined means "not set". */
  default?: string;
  /** Human description of what is accepted, used in error messages and the reference. */
  accepted: string;
  description: string;
  /** A boolean flag takes no value on the command line (--flag, or --flag=false). */
  boolean?: boolean;
  /** Returns the parsed value, or throws an Error whose message says what is wrong. */
  parse(raw: string): T;
}

export type OptionTable<S> = { [K in keyof S]: OptionSpec<S[K]> };

export type Env = Record<string, string | undefined>;

/** Splits argv into --flag values; positional arguments are returned separately. */
function splitArgs(argv: readonly string[], booleans: ReadonlySet<string>): { flags: Map<string, string>; positional: string[]; problems: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else if (booleans.has(name)) flags.set(name, 'true');
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(name, argv[++i]!);
    else problems.push(`--${name}: a value is required`);
  }
  return { flags, positional, problems };
}

export function parseOptions<S>(table: OptionTable<S>, argv: readonly string[], env: Env): { settings: S; positional: string[] } {
  const specs = Object.entries(table) as [keyof S & string, OptionSpec<unknown>][];
  const booleans = new Set(specs.filter(([, s]) => s.boolean).map(([, s]) => s.flag));
  const { flags, positional, problems } = splitArgs(argv, booleans);
  const known = new Set(specs.map(([, s]) => s.flag));
  for (const name of flags.keys()) {
    if (name === 'help') continue;
    if (!known.has(name)) problems.push(`--${name}: unknown option (see --help)`);
  }
  const settings = {} as Record<string, unknown>;
  for (const [key, spec] of specs) {
    let raw: string | undefined;
    let source: string;
    if (flags.has(spec.flag)) {
      raw = flags.get(spec.flag);
      source = `--${spec.flag}`;
    } else if (spec.env !== undefined && env[spec.env] !== undefined && env[spec.env] !== '') {
      raw = env[spec.env];
      source = spec.env;
    } else {
      raw = spec.default;
      source = `--${spec.flag}`;
    }
    if (raw === undefined) {
      settings[key] = undefined;
      continue;
    }
    try {
      settings[key] = spec.parse(raw);
    } catch (err) {
      problems.push(`${source}: ${JSON.stringify(raw)} is invalid: ${(err as Error).message}; accepted: ${spec.accepted}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { settings: settings as S, positional };
}

/** Plain-text help listing every option of a table. */
export function formatHelp<S>(usage: string, table: OptionTable<S>): string {
  const lines = [usage, '', 'Options:'];
  for (const spec of Object.values(table) as OptionSpec<unknown>[]) {
    const env = spec.env ? ` (env ${spec.env})` : '';
    const def = spec.default !== undefined ? ` [default: ${spec.default}]` : '';
    lines.push(`  --${spec.flag}${env}${def}`, `      ${spec.description} Accepted: ${spec.accepted}.`);
  }
  return lines.join('\n') + '\n';
}

// ---- parsers shared by option tables ----

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false;
  throw new Error('not a boolean');
}

export function intInRange(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = raw.trim();
    if (!/^-?\d+$/.test(v)) throw new Error('not a whole number');
    const n = Number(v);
    if (n < min || n > max) throw new Error(`out of range`);
    return n;
  };
}

export function numberInRange(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = raw.trim();
    const n = Number(v);
    if (v === '' || !Number.isFinite(n)) throw new Error('not a number');
    if (n < min || n > max) throw new Error('out of range');
    return n;
  };
}

export function oneOf<T extends string>(values: readonly T[]): (raw: string) => T {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(v)) throw new Error('not one of the accepted values');
    return v as T;
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, kb: 1000, mib: 1024 ** 2, mb: 1e6, gib: 1024 ** 3, gb: 1e9 };

/** Byte sizes such as 16777216, 16MiB, 512KiB. */
export function sizeInRange(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(raw);
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new Error('not a size');
    const n = Number(m[1]) * unit;
    if (n < min || n > max) throw new Error('out of range');
    return n;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Durations in milliseconds: 500ms, 10s, 5m, 1h; a bare number is milliseconds. */
export function durationInRange(minMs: number, maxMs: number): (raw: string) => number {
  return (raw) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
    if (!m) throw new Error('not a duration');
    const n = Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!;
    if (n < minMs || n > maxMs) throw new Error('out of range');
    return n;
  };
}

export interface HostPort {
  host: string;
  port: number;
}

/** HOST:PORT, with [v6]:PORT for IPv6; port 0 asks the OS for a free one. */
export function parseHostPort(raw: string): HostPort {
  const m = /^\s*(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})\s*$/.exec(raw);
  if (!m) throw new Error('not HOST:PORT');
  const port = Number(m[3]);
  if (port > 65535) throw new Error('port out of range');
  const host = m[1] ?? m[2]!;
  return { host: host === '' ? '0.0.0.0' : host, port };
}
