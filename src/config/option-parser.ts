/**
 * Table-driven settings: each option has a CLI flag, optionally an environment variable, a
 * default, and a parser that names the accepted values. node:util parseArgs splits the command
 * line; the table decides what each token means. Every problem is collected so that one run
 * reports all of them, each naming the setting.
 */
import { parseArgs } from 'node:util';
import type { OptionGroup } from './option-groups.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** How --help shows an option: what follows the flag, and what it is for in one line. */
export interface HelpEntry {
  /** What follows the flag, e.g. HOST:PORT; absent for a boolean flag. */
  value?: string;
  /** One line: what the option is for. */
  summary: string;
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
  /** Its line in --help (under its group, option-groups.ts): the value placeholder and a one-line summary. */
  help: HelpEntry;
  /** A boolean flag: --flag, --flag=VALUE or --flag VALUE with VALUE a boolean word. */
  boolean?: boolean;
  /** Returns the parsed value, or throws an Error whose message says what is wrong. */
  parse(raw: string): T;
}

export type OptionTable<S> = { [K in keyof S]: OptionSpec<S[K]> };

/** A component's rows before their settings type is known (checked with `satisfies`). */
export type OptionRows = Record<string, OptionSpec<unknown>>;

/** The settings a component's rows parse into: each row's value; possibly undefined ("not set") where a row has no default. */
export type SettingsOf<T> = {
  [K in keyof T]: T[K] extends { parse(raw: string): infer V } ? (T[K] extends { default: string } ? V : V | undefined) : never;
};

export type Env = Record<string, string | undefined>;

export interface ParsedOptions<S> {
  settings: S;
  positional: string[];
  /** -h or --help was given: print the help instead of running. */
  help: boolean;
  /** --version was given. */
  version: boolean;
}

const BOOLEAN_WORDS = ['true', 'false', 'yes', 'no', 'on', 'off', '1', '0'];

/** Edit distance, for "did you mean" hints on mistyped flags. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownOption(raw: string, known: readonly string[]): string {
  const name = raw.replace(/^-+/, '');
  const near = known
    .map((k) => ({ k, d: k.startsWith(name) || name.startsWith(k) ? 1 : distance(name, k) }))
    .filter((c) => c.d <= Math.max(1, Math.floor(name.length / 4)))
    .sort((x, y) => x.d - y.d)[0];
  return `unknown option ${raw}${near ? `; did you mean --${near.k}?` : ''} (--help lists the options)`;
}

/**
 * What Kubernetes injects for every Service of the namespace (a Service named vmq-sidecar gives
 * VMQ_SIDECAR_SERVICE_HOST, VMQ_SIDECAR_PORT_8890_TCP_ADDR, ...): not the operator's typos.
 */
const KUBERNETES_SERVICE_VARIABLE = /_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/;

/**
 * Variables with the table's prefix (VMQ_SIDECAR_) that no option reads: a misspelt name would
 * otherwise be ignored in silence. Each with the nearest known name when one is close.
 */
export function unknownVariables<T>(table: OptionTable<T>, env: Env, prefix: string): { name: string; near: string | undefined }[] {
  const known = Object.values(table as Record<string, OptionSpec<unknown>>).flatMap((s) => (s.env ? [s.env] : []));
  return Object.keys(env)
    .filter((n) => n.startsWith(prefix) && !known.includes(n) && !KUBERNETES_SERVICE_VARIABLE.test(n))
    .sort()
    .map((name) => {
      const near = known.map((k) => ({ k, d: distance(name, k) })).sort((x, y) => x.d - y.d)[0];
      return { name, near: near && near.d <= Math.max(1, Math.floor(name.length / 6)) ? near.k : undefined };
    });
}

/** Reads argv into flag values with node:util parseArgs (tokens), refusing what the table does not know. */
function readArgs(argv: readonly string[], specs: readonly OptionSpec<unknown>[]) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  };
  for (const s of specs) options[s.flag] = { type: s.boolean ? 'boolean' : 'string' };
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const known = specs.map((s) => s.flag);
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const flags = new Map<string, string>();
  const positional: string[] = [];
  const problems: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      positional.push(t.value);
      continue;
    }
    const next = tokens[i + 1];
    const nextValue = next?.kind === 'positional' ? next.value : undefined;
    if (t.name === 'help' || t.name === 'version') {
      if (t.name === 'help') help = true;
      else version = true;
      continue;
    }
    const spec = byFlag.get(t.name);
    if (!spec) {
      problems.push(unknownOption(t.rawName, known));
      // "--bogus 5": the 5 belongs to the unknown option, not to the command line.
      if (t.value === undefined && nextValue !== undefined) i++;
      continue;
    }
    if (spec.boolean) {
      if (t.value !== undefined) flags.set(t.name, t.value);
      else if (nextValue !== undefined && BOOLEAN_WORDS.includes(nextValue.trim().toLowerCase())) {
        flags.set(t.name, nextValue);
        i++;
      } else flags.set(t.name, 'true');
    } else if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
      problems.push(`--${t.name}: a value is required${t.value ? ` (found the option ${t.value} instead)` : ''}; accepted: ${spec.accepted}`);
    } else {
      flags.set(t.name, t.value);
    }
  }
  return { flags, positional, problems, help, version };
}

export function parseOptions<S>(table: OptionTable<S>, argv: readonly string[], env: Env): ParsedOptions<S> {
  const specs = Object.entries(table) as [keyof S & string, OptionSpec<unknown>][];
  const { flags, positional, problems, help, version } = readArgs(
    argv,
    specs.map(([, s]) => s),
  );
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
      const why = (err as Error).message;
      // Some parsers (--client-groups) already end their message with what is accepted.
      problems.push(`${source}: ${JSON.stringify(raw)} is invalid: ${why}${why.includes('accepted: ') ? '' : `; accepted: ${spec.accepted}`}`);
    }
  }
  if (problems.length > 0 && !help && !version) throw new ConfigError(problems);
  return { settings: settings as S, positional, help, version };
}

/**
 * Plain-text help: the options by group (option-groups.ts), one line each with its default; an
 * option no group lists still shows, under "Other". Environment variables named by the rule
 * (envPrefix + the flag in capitals, - as _) are said once at the end; others by the option.
 */
export function formatHelp<S>(usage: string, table: OptionTable<S>, groups: readonly OptionGroup[], envPrefix: string, footer: readonly string[]): string {
  const specs = Object.values(table) as OptionSpec<unknown>[];
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const listed = new Set(groups.flatMap((g) => g.flags));
  const other = specs.filter((s) => !listed.has(s.flag));
  const all: OptionGroup[] = [...groups];
  if (other.length > 0) all.push({ name: 'Other', summary: 'options without a group yet', flags: other.map((s) => s.flag) });
  const ruleEnv = (s: OptionSpec<unknown>) => s.env === envPrefix + s.flag.toUpperCase().replace(/-/g, '_');
  const left = (s: OptionSpec<unknown>) => `  --${s.flag}${s.help.value ? ` ${s.help.value}` : ''}`;
  const shown = (g: OptionGroup) => g.flags.flatMap((f) => byFlag.get(f) ?? []);
  const width = Math.min(38, Math.max(...all.flatMap((g) => shown(g).map((s) => left(s).length))) + 2);
  const lines = [usage];
  for (const g of all) {
    lines.push('', `${g.name}: ${g.summary}`);
    if (g.see) lines.push(`  ${g.see}`);
    for (const spec of shown(g)) {
      const l = left(spec);
      const def = spec.default !== undefined && spec.default !== '' && !(spec.boolean && spec.default === 'false') ? ` [${spec.default}]` : '';
      const env = spec.env && !ruleEnv(spec) ? ` (env ${spec.env})` : '';
      lines.push(`${l.length < width ? l.padEnd(width) : `${l}  `}${spec.help.summary}${def}${env}`);
    }
  }
  lines.push('', `${'  -h, --help'.padEnd(width)}print this help and exit`, `${'  --version'.padEnd(width)}print the version and exit`);
  if (specs.some(ruleEnv)) {
    const example = specs.find(ruleEnv)!;
    lines.push('', `Each option can also be set by its environment variable, ${envPrefix} and its name in capitals`, `(--${example.flag}: ${example.env}); the flag wins.`);
  }
  lines.push(...footer);
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
    if (n < min) throw new Error(`below the minimum ${min}`);
    if (n > max) throw new Error(`above the maximum ${max}`);
    return n;
  };
}

/** Text of `min` to `max` characters, spaces around it trimmed. */
export function textOfLength(min: number, max: number): (raw: string) => string {
  return (raw) => {
    const v = raw.trim();
    if (v.length < min || v.length > max) throw new Error('wrong length');
    return v;
  };
}

export function numberInRange(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = raw.trim();
    const n = Number(v);
    if (v === '' || !Number.isFinite(n)) throw new Error('not a number');
    if (n < min) throw new Error(`below the minimum ${min}`);
    if (n > max) throw new Error(`above the maximum ${max}`);
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
    if (!m || unit === undefined) throw new Error('not a size (a number of bytes, or with a unit: KiB, MiB, GiB, kB, MB, GB)');
    const n = Number(m[1]) * unit;
    if (n < min) throw new Error(`below the minimum ${min} bytes`);
    if (n > max) throw new Error(`above the maximum ${max} bytes`);
    return n;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function formatDuration(ms: number): string {
  for (const [unit, f] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % f === 0) return `${ms / f}${unit}`;
  return `${ms}ms`;
}

/**
 * Durations with a unit: 500ms, 10s, 5m, 1h. A bare number is refused: "10" meant as seconds
 * would otherwise silently be 10 ms.
 */
export function durationInRange(minMs: number, maxMs: number): (raw: string) => number {
  return (raw) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
    if (!m) throw new Error('not a duration');
    if (m[2] === undefined) throw new Error(`a unit is needed, e.g. "${m[1]}s" (units: ms, s, m, h)`);
    const n = Number(m[1]) * DURATION_UNITS[m[2]]!;
    if (n < minMs) throw new Error(`below the minimum ${formatDuration(minMs)}`);
    if (n > maxMs) throw new Error(`above the maximum ${formatDuration(maxMs)}`);
    return n;
  };
}

export interface HostPort {
  host: string;
  port: number;
}

/** HOST:PORT as the flags take it: an IPv6 address in brackets ([::1]:8890). */
export function formatHostPort(host: string | undefined, port: number | undefined): string {
  return `${host?.includes(':') ? `[${host}]` : host}:${port}`;
}

/** HOST:PORT, or null for "off" (a listener turned off). */
export function parseHostPortOrOff(raw: string): HostPort | null {
  return raw.trim().toLowerCase() === 'off' ? null : parseHostPort(raw);
}

/** HOST:PORT, with [v6]:PORT for IPv6; port 0 asks the OS for a free one. */
export function parseHostPort(raw: string): HostPort {
  const m = /^\s*(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})\s*$/.exec(raw);
  if (!m) throw new Error('not HOST:PORT');
  const port = Number(m[3]);
  if (port > 65535) throw new Error('the port is above 65535');
  const host = m[1] ?? m[2]!;
  return { host: host === '' ? '0.0.0.0' : host, port };
}
