/**
 * The broker settings this project ships, as the fork will read them: DOCKER_VERNEMQ_* variables
 * turned into vernemq.conf lines exactly as the image's start script does, then the fork's rules
 * as the facts file's "Observed on a running broker, second run" records them (names the schemas
 * know, values their datatypes accept, Erlang lists, the Redis message store, authorization).
 * The schema's names and datatypes are test/fixtures/vernemq/schema-keys.json.
 */
import { readFileSync } from 'node:fs';
import { asList, parseErlangTerm, propValue, type ErlTerm } from './erlang-term.js';
import type { PluginVersion } from './plugin-versions.js';
import { refusedHooks } from './plugin-versions.js';

export interface SchemaKey {
  key: string;
  datatype: string;
  default?: string;
  source: string;
}

export const SCHEMA_KEYS: readonly SchemaKey[] = (
  JSON.parse(readFileSync(new URL('../../../test/fixtures/vernemq/schema-keys.json', import.meta.url), 'utf8')) as { keys: SchemaKey[] }
).keys;

/** A setting's schema entry: an exact name first, then a `$name` pattern (as cuttlefish prefers). */
export function schemaKey(key: string): SchemaKey | undefined {
  const exact = SCHEMA_KEYS.find((k) => k.key === key);
  if (exact) return exact;
  const parts = key.split('.');
  return SCHEMA_KEYS.find((k) => {
    const p = k.key.split('.');
    return p.length === parts.length && p.every((seg, i) => seg === parts[i] || (seg.startsWith('$') && /^[a-z0-9_-]+$/.test(parts[i]!)));
  });
}

/** The image's own DOCKER_VERNEMQ_* defaults (docker/Dockerfile ENV). */
export const IMAGE_ENV: Readonly<Record<string, string>> = { DOCKER_VERNEMQ_KUBERNETES_LABEL_SELECTOR: 'app=vernemq', DOCKER_VERNEMQ_LOG__CONSOLE: 'console' };

/**
 * What docker/bin/vernemq.sh appends to vernemq.conf for these variables:
 *   env | grep DOCKER_VERNEMQ | grep -v 'DISCOVERY_NODE\|KUBERNETES\|SWARM\|COMPOSE\|DOCKER_VERNEMQ_USER'
 *     | cut -c 16- | awk '{match($0,/^[A-Z0-9_-]*\/)}{print tolower(substr(...)) substr(...)}' | sed 's/__/./g'
 * i.e. per `NAME=value` line: dropped if any of those words occurs anywhere in it (the value
 * too); the first 15 characters cut; the leading [A-Z0-9_-]* run lower-cased; then every "__"
 * of the whole line, value included, turned into ".". Values pass through otherwise unchanged
 * (brackets, braces, quotes, spaces). Then the lines it adds when not set.
 */
export function dockerEnvToConf(env: Record<string, string>): string[] {
  const all = { ...IMAGE_ENV, ...env };
  const lines: string[] = [];
  for (const [name, value] of Object.entries(all)) {
    // `env` prints a value with a newline over several lines: the start script would read the
    // rest as lines of their own.
    for (const raw of `${name}=${value}`.split('\n')) {
      if (!raw.includes('DOCKER_VERNEMQ')) continue;
      if (/DISCOVERY_NODE|KUBERNETES|SWARM|COMPOSE|DOCKER_VERNEMQ_USER/.test(raw)) continue;
      const cut = raw.slice(15);
      const m = /^[A-Z0-9_-]*/.exec(cut)![0];
      lines.push((m.toLowerCase() + cut.slice(m.length)).replace(/__/g, '.'));
    }
  }
  const has = (n: string) => n in all;
  if (!has('DOCKER_VERNEMQ_ERLANG__DISTRIBUTION__PORT_RANGE__MINIMUM')) lines.push('erlang.distribution.port_range.minimum = 9100');
  if (!has('DOCKER_VERNEMQ_ERLANG__DISTRIBUTION__PORT_RANGE__MAXIMUM')) lines.push('erlang.distribution.port_range.maximum = 9109');
  if (!has('DOCKER_VERNEMQ_LISTENER__TCP__DEFAULT')) lines.push('listener.tcp.default = 10.0.0.2:1883');
  if (!has('DOCKER_VERNEMQ_LISTENER__WS__DEFAULT')) lines.push('listener.ws.default = 10.0.0.2:8080');
  if (!has('DOCKER_VERNEMQ_LISTENER__HTTP__METRICS')) lines.push('listener.http.metrics = 10.0.0.2:8888');
  return lines;
}

export interface ConfLine {
  key: string;
  value: string;
  line: string;
}

/** vernemq.conf lines (cuttlefish's format: `key = value`, # comments); a later line wins. */
export function parseConf(lines: readonly string[]): { entries: ConfLine[]; problems: string[] } {
  const entries: ConfLine[] = [];
  const problems: string[] = [];
  for (const line of lines) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) {
      problems.push(`not a setting: ${line}`);
      continue;
    }
    entries.push({ key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim(), line });
  }
  return { entries, problems };
}

/** The effective value of each setting (the last line naming it). */
export function confMap(entries: readonly ConfLine[]): Map<string, string> {
  return new Map(entries.map((e) => [e.key, e.value]));
}

/** Problems of a value for a datatype, as the schema (or the code reading the string) would have them. */
function datatypeProblem(k: SchemaKey, value: string, build: PluginVersion): string | undefined {
  const dt = k.datatype;
  if (dt === 'flag') return /^(on|off)$/.test(value) ? undefined : `${k.key}: "${value}" is not on or off`;
  if (dt === 'integer') return /^-?\d+$/.test(value) ? undefined : `${k.key}: "${value}" is not an integer`;
  if (dt === 'atom') return /^[a-z][A-Za-z0-9_@]*$/.test(value) ? undefined : `${k.key}: "${value}" is not an atom`;
  if (dt === 'ip') return /^[^\s:]+:\d+$/.test(value) ? undefined : `${k.key}: "${value}" is not IP:PORT`;
  if (dt === 'file') return /^\S+$/.test(value) ? undefined : `${k.key}: "${value}" is not a path`;
  if (dt.startsWith('enum:')) return dt.slice(5).split(',').includes(value) ? undefined : `${k.key}: "${value}" is not one of ${dt.slice(5)}`;
  if (dt === 'protocol-versions') {
    const bad = value.split(',').filter((v) => !['3', '4', '5', '131', '132'].includes(v.trim()));
    return bad.length === 0 ? undefined : `${k.key}: unknown protocol versions ${bad.join(',')}`;
  }
  if (dt === 'erlang-list' || dt === 'hook-list') {
    let items: ErlTerm[];
    try {
      items = asList(parseErlangTerm(value));
    } catch (err) {
      return `${k.key}: ${(err as Error).message} (vmq_schema_util:parse_list crashes on it)`;
    }
    if (dt === 'hook-list') {
      const names: string[] = [];
      for (const t of items) {
        if (t.type !== 'atom') return `${k.key}: ${JSON.stringify(t)} is not a hook name (an atom)`;
        names.push(t.name);
      }
      const refused = refusedHooks(build, names);
      if (refused.length > 0) return `${k.key}: ${build.name} refuses ${refused.join(', ')}`;
    }
    return undefined;
  }
  return undefined;
}

/** Names the schemas know and values their datatypes accept, for any set of lines (a README snippet too). */
export function settingProblems(entries: readonly ConfLine[], build: PluginVersion): string[] {
  const problems: string[] = [];
  for (const e of entries) {
    const k = schemaKey(e.key);
    if (!k) {
      problems.push(`${e.key}: there is no setting with that name (config generation fails, the node does not start)`);
      continue;
    }
    const p = datatypeProblem(k, e.value, build);
    if (p) problems.push(p);
  }
  return problems;
}

const value = (conf: Map<string, string>, key: string) => conf.get(key) ?? schemaKey(key)?.default;

/** {Host, Port} endpoints of a term list, or a reason. */
function endpoints(t: ErlTerm | undefined): string | undefined {
  if (!t || t.type !== 'list' || t.items.length === 0) return 'no endpoints list';
  for (const ep of t.items) {
    if (ep.type !== 'tuple' || ep.items.length !== 2 || ep.items[0]!.type !== 'string' || ep.items[1]!.type !== 'integer') return `endpoint ${JSON.stringify(ep)} is not {"host", port}`;
  }
  return undefined;
}

/**
 * A whole node's configuration: what the fork needs to start and route besides valid names.
 * Each rule is one of the facts file's second-run findings.
 */
export function brokerConfProblems(entries: readonly ConfLine[], build: PluginVersion): string[] {
  const problems = settingProblems(entries, build);
  const conf = confMap(entries);
  if (value(conf, 'plugins.vmq_events_sidecar') !== 'on') problems.push('plugins.vmq_events_sidecar is not on');
  if (!conf.has('vmq_events_sidecar.hooks')) problems.push('vmq_events_sidecar.hooks is not set: the plugin sends nothing');
  // The message store: without connect options vmq_server crashes at start ({badmatch,{error,no_connection}}).
  const store = conf.get('message_store.redis.connect_options');
  if (store === undefined) problems.push('message_store.redis.connect_options is not set: vmq_server crashes at start');
  else {
    try {
      const opts = asList(parseErlangTerm(store));
      const sentinel = propValue(opts, 'sentinel');
      if (!sentinel || sentinel.type !== 'list') problems.push('message_store.redis.connect_options: no {sentinel, [...]}');
      else {
        const ep = endpoints(propValue(sentinel.items, 'endpoints'));
        if (ep) problems.push(`message_store.redis.connect_options: ${ep}`);
        const group = propValue(sentinel.items, 'master_group');
        if (!group || group.type !== 'atom') problems.push('message_store.redis.connect_options: no {master_group, Name}');
        else if (conf.has('redis_sentinel_master') && group.name !== conf.get('redis_sentinel_master')) problems.push(`message_store.redis.connect_options: master_group ${group.name} is not redis_sentinel_master ${conf.get('redis_sentinel_master')}`);
      }
    } catch {
      // Reported by settingProblems.
    }
  }
  // Subscriptions: Redis behind a Sentinel, routed through the Redis trie.
  if (!conf.has('redis_sentinel_endpoints')) problems.push('redis_sentinel_endpoints is not set (the default is a Sentinel on 127.0.0.1:26379)');
  else {
    try {
      const ep = endpoints(parseErlangTerm(conf.get('redis_sentinel_endpoints')!));
      if (ep) problems.push(`redis_sentinel_endpoints: ${ep}`);
    } catch {
      // Reported by settingProblems.
    }
  }
  if (!conf.has('redis_sentinel_master')) problems.push('redis_sentinel_master is not set');
  if (value(conf, 'default_reg_view') !== 'vmq_reg_redis_trie') problems.push('default_reg_view is not vmq_reg_redis_trie: publishes are dropped as no_matching_subscribers');
  if (!conf.has('vmq_trie.acl_file')) problems.push('vmq_trie.acl_file is not set: wildcard subscriptions match only the filters in the default trie file');
  // Authorization: allow_anonymous only skips auth_on_register.
  if (authorization(conf) === null) problems.push('nothing authorizes PUBLISH and SUBSCRIBE (vmq_acl off, no vmq_enhanced_auth ACL hooks): the broker starts and routes nothing');
  if (!String(value(conf, 'listener.tcp.allowed_protocol_versions')).split(',').includes('5')) problems.push('listener.tcp.allowed_protocol_versions does not allow MQTT 5 (5)');
  problems.push(...listenerCollisions(conf));
  return problems;
}

/**
 * HTTP listeners that cannot all bind: the release's vernemq.conf already has
 * listener.http.default = 127.0.0.1:8888, so listener.http.metrics = 0.0.0.0:8888 fails with
 * eaddrinuse and a CRASH REPORT at every start (seen on a real broker; /metrics is still served).
 */
export function listenerCollisions(conf: Map<string, string>): string[] {
  const http = new Map<string, string>([['listener.http.default', '127.0.0.1:8888'], ...[...conf].filter(([k]) => k.startsWith('listener.http.') && k.split('.').length === 3)]);
  const problems: string[] = [];
  const seen: [string, string, string][] = [];
  for (const [key, addr] of http) {
    const at = addr.lastIndexOf(':');
    const host = addr.slice(0, at);
    const port = addr.slice(at + 1);
    for (const [k2, h2, p2] of seen) {
      if (p2 === port && (host === h2 || host === '0.0.0.0' || h2 === '0.0.0.0')) problems.push(`${key} = ${addr} and ${k2} = ${h2}:${p2} share a port: eaddrinuse at start`);
    }
    seen.push([key, host, port]);
  }
  return problems;
}

/**
 * Which plugin authorizes publish and subscribe, and the MQTT 5 operation it crashes: vmq_acl's
 * auth_on_subscribe_m5 returns a list (badmap in vmq_mqtt5_fsm:auth_on_subscribe); with
 * vmq_enhanced_auth's ACL hooks an MQTT 5 PUBLISH ends in a case clause in
 * vmq_mqtt5_fsm:auth_on_publish/4 and an MQTT 5 SUBSCRIBE in {badmap,[]} in auth_on_subscribe/5.
 * Both can be on: both crashes then apply.
 */
export function authorization(conf: Map<string, string>): { plugins: string[]; mqtt5Crashes: ('publish' | 'subscribe')[] } | null {
  const plugins: string[] = [];
  const mqtt5Crashes: ('publish' | 'subscribe')[] = [];
  if (value(conf, 'plugins.vmq_enhanced_auth') === 'on' && value(conf, 'vmq_enhanced_auth.enable_acl_hooks') === 'true') {
    plugins.push('vmq_enhanced_auth');
    // Both seen on a real broker: PUBLISH (case clause) and SUBSCRIBE ({badmap,[]} in auth_on_subscribe/5).
    mqtt5Crashes.push('publish', 'subscribe');
  }
  if (value(conf, 'plugins.vmq_acl') === 'on') {
    plugins.push('vmq_acl');
    mqtt5Crashes.push('subscribe');
  }
  return plugins.length === 0 ? null : { plugins, mqtt5Crashes: [...new Set(mqtt5Crashes)] };
}

/** `key = value` lines of the fenced code blocks of a Markdown text that hold vernemq.conf settings. */
export function confBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  for (const m of markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const lines = m[1]!.split('\n').filter((l) => l.trim() !== '');
    // A vernemq.conf block: every line a setting or a comment, and one naming a VerneMQ setting.
    if (lines.length === 0 || !lines.every((l) => /^\s*(#|[a-z][a-z0-9_.$-]*\s*=)/.test(l))) continue;
    if (!lines.some((l) => /^\s*(plugins\.|vmq_|listener\.|allow_anonymous|redis_|message_store|default_reg_view)/.test(l))) continue;
    blocks.push(lines);
  }
  return blocks;
}
