/**
 * mqtt.client.group: a bounded name for a client's class (sensors, gateways, a tenant's fleet),
 * never the raw client id or username. The operator lists named patterns in --client-groups;
 * the first pattern that matches wins, and a client no pattern matches is UNGROUPED.
 *
 * Syntax (comma-separated items, each `KIND:GLOB=NAME`):
 *   client:sensor-*=sensors        client id glob
 *   user:fleet-?-*=fleet           username glob
 *   client:gw/*=gateways,user:*=users
 * In a glob `*` matches any run of characters (also none) and `?` exactly one; `\` escapes the
 * next character (`\*`, `\?`, `\,`, `\=`, `\\`). The name is what the attribute carries: it must
 * be a well-formed attribute value and cannot be one of the values the sidecar itself uses.
 *
 * The values are bounded by construction: only configured names (at most MAX_CLIENT_GROUP_PATTERNS
 * patterns, so at most that many names) and UNGROUPED ever come out, so the attribute adds at most
 * (distinct names + 1) series per combination of the other attributes.
 *
 * Hook events without a username (on_client_wakeup, on_session_expired, on_offline_message,
 * on_message_drop) are grouped with the username last seen for the same client id, remembered in
 * a bounded table; when it is not known, username patterns do not match and only client id
 * patterns are tried.
 */
import { INVALID_VALUE, OTHER_VALUE, isWellFormedValue } from './bounded-values.js';

export const CLIENT_GROUP_ATTRIBUTE = 'mqtt.client.group';
export const UNGROUPED = 'ungrouped';
/** Values the sidecar already gives other meanings to: a group may not be named like them. */
const RESERVED_NAMES: readonly string[] = [UNGROUPED, OTHER_VALUE, INVALID_VALUE, 'unmatched'];
export const MAX_CLIENT_GROUP_PATTERNS = 200;
/** Longest glob accepted (client ids are at most 65535 bytes, but patterns are short). */
export const MAX_GLOB_CHARS = 256;
/** Client id -> (username, group) results remembered; emptied when full, as the topic grouper's cache. */
export const DEFAULT_CACHE_SIZE = 50_000;

export type ClientGroupKind = 'client' | 'user';

export interface ClientGroupPattern {
  kind: ClientGroupKind;
  /** The glob as written (escapes kept; compiled when the grouper is built). */
  glob: string;
  name: string;
}

/** Thrown for an invalid --client-groups value; the message says which item and why. */
export class ClientGroupsError extends Error {}

const ACCEPTED = 'KIND:GLOB=NAME items separated by commas, KIND client or user, e.g. client:sensor-*=sensors,user:fleet-*=fleet';

/** Splits on an unescaped separator, keeping escapes in the parts (the glob compiler reads them). */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function lastUnescaped(s: string, ch: string): number {
  let at = -1;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ch) at = i;
  }
  return at;
}

export function parseClientGroups(spec: string): ClientGroupPattern[] {
  const out: ClientGroupPattern[] = [];
  const items = splitUnescaped(spec, ',');
  for (let n = 0; n < items.length; n++) {
    const item = items[n]!.trim();
    if (item === '') continue;
    const where = `--client-groups item ${n + 1} ${JSON.stringify(item)}`;
    const eq = lastUnescaped(item, '=');
    if (eq < 0) throw new ClientGroupsError(`${where} has no =NAME; accepted: ${ACCEPTED}`);
    const left = item.slice(0, eq).trim();
    const name = item.slice(eq + 1).trim().replace(/\\(.)/g, '$1');
    const colon = left.indexOf(':');
    const kind = colon >= 0 ? left.slice(0, colon).trim() : '';
    if (kind !== 'client' && kind !== 'user') throw new ClientGroupsError(`${where} does not start with client: or user:; accepted: ${ACCEPTED}`);
    const glob = left.slice(colon + 1);
    if (glob === '') throw new ClientGroupsError(`${where} has an empty pattern`);
    if (glob.length > MAX_GLOB_CHARS) throw new ClientGroupsError(`${where} has a pattern longer than ${MAX_GLOB_CHARS} characters`);
    if (lastUnescaped(glob + '\u0000', '\u0000') < 0) throw new ClientGroupsError(`${where} ends with a lone \\`);
    if (name === '') throw new ClientGroupsError(`${where} has an empty name`);
    if (!isWellFormedValue(name)) throw new ClientGroupsError(`${where}: the name must be at most 128 characters without control characters`);
    if (RESERVED_NAMES.includes(name)) throw new ClientGroupsError(`${where}: the name ${JSON.stringify(name)} is reserved (${RESERVED_NAMES.join(', ')})`);
    out.push({ kind, glob, name });
  }
  if (out.length > MAX_CLIENT_GROUP_PATTERNS) throw new ClientGroupsError(`--client-groups has ${out.length} patterns; at most ${MAX_CLIENT_GROUP_PATTERNS} are accepted`);
  return out;
}

/**
 * A glob compiled to what the hot path needs: an exact string, a prefix, or the general form
 * (literal characters and wildcards as char codes, -1 for `*`, -2 for `?`), matched in place.
 */
interface CompiledGlob {
  kind: ClientGroupKind;
  name: string;
  exact: string | null;
  prefix: string | null;
  codes: Int32Array | null;
}

const STAR = -1;
const ANY_ONE = -2;

function compileGlob(p: ClientGroupPattern): CompiledGlob {
  const codes: number[] = [];
  for (let i = 0; i < p.glob.length; i++) {
    const c = p.glob.charCodeAt(i);
    if (c === 0x5c /* \ */ && i + 1 < p.glob.length) codes.push(p.glob.charCodeAt(++i));
    else if (c === 0x2a /* * */) {
      if (codes[codes.length - 1] !== STAR) codes.push(STAR);
    } else if (c === 0x3f /* ? */) codes.push(ANY_ONE);
    else codes.push(c);
  }
  const wildcards = codes.filter((c) => c < 0).length;
  const literal = (cs: number[]) => String.fromCharCode(...cs);
  if (wildcards === 0) return { kind: p.kind, name: p.name, exact: literal(codes), prefix: null, codes: null };
  if (wildcards === 1 && codes[codes.length - 1] === STAR) return { kind: p.kind, name: p.name, exact: null, prefix: literal(codes.slice(0, -1)), codes: null };
  return { kind: p.kind, name: p.name, exact: null, prefix: null, codes: Int32Array.from(codes) };
}

/** Glob match over UTF-16 code units, linear backtracking to the last `*` only: no allocation. */
export function globMatches(codes: Int32Array, s: string): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < codes.length) {
      const c = codes[pi]!;
      if (c === STAR) {
        starP = pi++;
        starS = si;
        continue;
      }
      if (c === ANY_ONE || c === s.charCodeAt(si)) {
        pi++;
        si++;
        continue;
      }
    }
    if (starP < 0) return false;
    pi = starP + 1;
    si = ++starS;
  }
  while (pi < codes.length && codes[pi] === STAR) pi++;
  return pi === codes.length;
}

function matches(g: CompiledGlob, s: string): boolean {
  if (g.exact !== null) return s === g.exact;
  if (g.prefix !== null) return s.startsWith(g.prefix);
  return globMatches(g.codes!, s);
}

interface CacheEntry {
  /** The username the group was computed with; undefined when it was not known. */
  username: string | undefined;
  group: string;
}

export class ClientGrouper {
  private readonly compiled: CompiledGlob[];
  private readonly hasUserPatterns: boolean;
  private cache = new Map<string, CacheEntry>();
  /** Times the remembered-username table was emptied because it was full. */
  cacheResets = 0;

  constructor(
    patterns: readonly ClientGroupPattern[],
    private readonly cacheSize = DEFAULT_CACHE_SIZE,
  ) {
    this.compiled = patterns.map(compileGlob);
    this.hasUserPatterns = patterns.some((p) => p.kind === 'user');
  }

  /** Whether some pattern matches usernames (user:...). */
  get usesUsernames(): boolean {
    return this.hasUserPatterns;
  }

  /**
   * The group from the client id patterns alone, whatever the username: the same answer for a
   * client on every replica and at every event, where the username may be known at one event
   * and not at another (deltas mode's +1 and -1 must land in the same series).
   */
  groupByClientId(clientId: string): string {
    return this.compiled.length === 0 ? UNGROUPED : this.match(clientId, undefined);
  }

  /** The names the attribute can take, for the catalog and for pre-creating series. */
  get values(): string[] {
    return [...new Set([...this.compiled.map((c) => c.name), UNGROUPED])];
  }

  /**
   * The client's group. `username` undefined: the event carries none, use the one remembered for
   * this client id. Allocates only when a client id is seen for the first time (a table entry).
   */
  group(clientId: string, username?: string): string {
    if (this.compiled.length === 0) return UNGROUPED;
    const hit = this.cache.get(clientId);
    if (hit !== undefined && (username === undefined || hit.username === username)) return hit.group;
    const user = username ?? hit?.username;
    const group = this.match(clientId, user);
    if (hit !== undefined) {
      // Same client id, new username (or first username for it): update in place.
      hit.username = user;
      hit.group = group;
    } else {
      if (this.cache.size >= this.cacheSize) {
        this.cache = new Map();
        this.cacheResets++;
      }
      this.cache.set(clientId, { username: user, group });
    }
    return group;
  }

  private match(clientId: string, username: string | undefined): string {
    const userKnown = this.hasUserPatterns && username !== undefined && username !== '';
    for (const g of this.compiled) {
      if (g.kind === 'client' ? matches(g, clientId) : userKnown && matches(g, username!)) return g.name;
    }
    return UNGROUPED;
  }
}

/** The option's row (the attribute-folding service's table, attribute-folding-options.ts). */
export const CLIENT_GROUPS_OPTION = {
  flag: 'client-groups',
  help: { value: 'KIND:GLOB=NAME,...', summary: 'client id or username classes for mqtt.client.group' },
  env: 'VMQ_SIDECAR_CLIENT_GROUPS',
  default: '',
  accepted: ACCEPTED,
  description:
    'Client classes for the mqtt.client.group attribute: client id or username globs (* any run, ? one character, \\ escapes), each named; the first matching pattern wins, unmatched clients are "ungrouped". A connected client joins its username\'s group when its on_register arrives (the broker sends it after the wakeup); MQTT 5 clients send no username unless the companion plugin vmq_events_sidecar_m5 is installed (docs/mqtt5.md), and in --gauge-mode deltas mqtt.client.connected follows the client patterns only.',
  parse: parseClientGroups,
} as const;

/** The attribute as it goes into ATTR of src/metrics/metric-catalog.ts (phase 2 wiring). */
export const CLIENT_GROUP_ATTRIBUTE_DEF = {
  name: CLIENT_GROUP_ATTRIBUTE,
  type: 'string',
  values: `the name of the first --client-groups pattern matching the client id or username, else "${UNGROUPED}"; at most ${MAX_CLIENT_GROUP_PATTERNS} patterns, so at most that many names plus "${UNGROUPED}"`,
} as const;
