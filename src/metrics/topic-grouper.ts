/**
 * mqtt.topic.group: a bounded name for a topic's family, never the raw topic.
 *   1. the name of the ACL entry the broker matched (Gojek's fork names them for this), else
 *   2. the name of the first operator-configured pattern (MQTT +/# syntax) that matches, else
 *   3. UNMATCHED_GROUP.
 */
import type { MatchedAcl } from '../events/event-types.js';
import type { BoundedValues, TopicGroup } from './bounded-values.js';

export const UNMATCHED_GROUP = 'unmatched' as TopicGroup;

export interface TopicGroupPattern {
  pattern: string;
  name: string;
}

/** Topic -> group results remembered for topics without an ACL name; cleared when full. */
const CACHE_SIZE = 50_000;

/** MQTT topic filter matching (MQTT 3.1.1 section 4.7), without splitting the topic. */
export function topicMatches(levels: readonly string[], topic: string): boolean {
  // Wildcards at the first level do not match topics starting with '$' (broker topics).
  if (topic.charCodeAt(0) === 0x24 && (levels[0] === '+' || levels[0] === '#')) return false;
  let pos = 0;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '#') return true;
    if (pos > topic.length) return false;
    let end = topic.indexOf('/', pos);
    if (end < 0) end = topic.length;
    if (level !== '+' && (end - pos !== level.length || !topic.startsWith(level, pos))) return false;
    pos = end + 1;
    // "a/#" also matches "a": the parent level.
    if (pos > topic.length && i + 1 < levels.length) return levels[i + 1] === '#' && i + 2 === levels.length;
  }
  return pos > topic.length;
}

export function parseTopicGroups(spec: string): TopicGroupPattern[] {
  const out: TopicGroupPattern[] = [];
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.lastIndexOf('=');
    const pattern = eq >= 0 ? item.slice(0, eq).trim() : item;
    const name = eq >= 0 ? item.slice(eq + 1).trim() : item;
    const levels = pattern.split('/');
    const hashAt = levels.indexOf('#');
    if (pattern === '' || name === '') throw new Error(`empty pattern or name in ${JSON.stringify(item)}`);
    if ((hashAt >= 0 && hashAt !== levels.length - 1) || levels.some((l) => l !== '+' && l !== '#' && /[+#]/.test(l))) {
      throw new Error(`${JSON.stringify(pattern)} is not an MQTT topic filter`);
    }
    out.push({ pattern, name });
  }
  return out;
}

export class TopicGrouper {
  private readonly compiled: { levels: string[]; name: string }[];
  private cache = new Map<string, TopicGroup>();

  constructor(
    patterns: readonly TopicGroupPattern[],
    private readonly names: BoundedValues<'mqtt.topic.group'>,
  ) {
    this.compiled = patterns.map((p) => ({ levels: p.pattern.split('/'), name: p.name }));
    // The operator's names are real values: they never wait for a second sighting.
    for (const p of patterns) names.trust(p.name);
  }

  group(acl: MatchedAcl | null, topic: string): TopicGroup {
    if (acl !== null && acl.name !== '') return this.names.fold(acl.name);
    if (this.compiled.length === 0) return UNMATCHED_GROUP;
    let g = this.cache.get(topic);
    if (g === undefined) {
      g = UNMATCHED_GROUP;
      for (const p of this.compiled) {
        if (topicMatches(p.levels, topic)) {
          g = this.names.fold(p.name);
          break;
        }
      }
      if (this.cache.size >= CACHE_SIZE) this.cache = new Map();
      this.cache.set(topic, g);
    }
    return g;
  }
}

/**
 * The first --topic-groups filter a topic matches: messaging.destination.template for log
 * records whose event carries no ACL pattern. Remembered per topic like the groups.
 */
export class TopicTemplates {
  private readonly compiled: { levels: string[]; pattern: string }[];
  private cache = new Map<string, string | null>();

  constructor(patterns: readonly TopicGroupPattern[]) {
    this.compiled = patterns.map((p) => ({ levels: p.pattern.split('/'), pattern: p.pattern }));
  }

  match(topic: string): string | null {
    let t = this.cache.get(topic);
    if (t === undefined) {
      t = null;
      for (const p of this.compiled) {
        if (topicMatches(p.levels, topic)) {
          t = p.pattern;
          break;
        }
      }
      if (this.cache.size >= CACHE_SIZE) this.cache = new Map();
      this.cache.set(topic, t);
    }
    return t;
  }
}
