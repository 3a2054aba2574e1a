/**
 * Which fields of each event the enabled outputs read, so that the decoder creates only those
 * strings and views. The metrics path (metrics sink, session tracker, unregistered-wakeup
 * matcher) reads a handful of fields; a log record or the printer reads every field, so a hook
 * that is logged (or every hook, with the printer or any other sink) is decoded in full.
 *
 * test/decoding/field-selection.test.ts feeds the same simulated and fuzzed events, decoded with this
 * selection and in full, through those sinks and compares every exported value: a sink that
 * starts reading another field fails it until the field is listed here.
 */
import { HOOKS, type HookName } from '../events/event-types.js';

/**
 * Protobuf field names (lowerCamelCase) read per hook, or 'all'. "matchedAcl.name" reads only
 * that field of the nested message (the topic grouper needs the ACL's name, not its pattern).
 */
export type FieldSelection = Readonly<Record<HookName, readonly string[] | 'all'>>;

/** Every hook decoded in full: the default, and what the printer and log records need. */
export const ALL_FIELDS: FieldSelection = Object.fromEntries(HOOKS.map((h) => [h, 'all'])) as unknown as FieldSelection;

/**
 * What metrics-sink.ts, session-tracker.ts and unregistered-wakeups.ts read. Every hook also
 * gets timestamp (event delay, session order) and mountpoint (every series).
 * `topic` on the message hooks only matters with --topic-groups patterns (metricsFields).
 * Lists and maps whose item count is read (topics) are decoded whole.
 */
const METRICS_READS: Record<HookName, readonly string[]> = {
  on_register: ['clientId', 'sessionId'],
  on_register_failed: ['reason'],
  on_client_wakeup: ['clientId', 'sessionId'],
  on_client_offline: ['clientId', 'reason'],
  on_client_gone: ['clientId', 'reason'],
  on_session_expired: ['clientId'],
  on_subscribe: ['topics'],
  on_unsubscribe: ['topics'],
  on_publish: ['qos', 'retain', 'matchedAcl.name', 'payload'],
  on_deliver: ['qos', 'matchedAcl.name', 'persisted'],
  on_delivery_complete: ['qos', 'matchedAcl.name'],
  on_offline_message: ['qos'],
  on_message_drop: ['qos', 'reason', 'matchedAcl.name'],
};

/** What --client-groups adds (metrics-sink.ts and session-tracker.ts group by client id and username). */
const CLIENT_GROUP_READS: Partial<Record<HookName, readonly string[]>> = {
  on_register: ['clientId', 'username'],
  on_register_failed: ['clientId', 'username'],
  on_client_wakeup: ['clientId'],
  on_client_offline: ['clientId', 'username'],
  on_client_gone: ['clientId', 'username'],
  on_publish: ['clientId', 'username'],
  on_deliver: ['clientId', 'username'],
  on_delivery_complete: ['clientId', 'username'],
  on_offline_message: ['clientId'],
  on_message_drop: ['clientId'],
};

const MESSAGE_HOOKS: readonly HookName[] = ['on_publish', 'on_deliver', 'on_delivery_complete', 'on_offline_message', 'on_message_drop'];

export interface OutputNeeds {
  /** --topic-groups patterns configured: message topics select a series. */
  topicGroups: boolean;
  /** --client-groups configured: client ids and usernames select a series. */
  clientGroups?: boolean;
  /** Hooks whose events may become log records (or all, with the printer or extra sinks). */
  fullHooks: readonly HookName[] | 'all';
}

/** The fields the enabled outputs read. */
export function selectFields(needs: OutputNeeds): FieldSelection {
  if (needs.fullHooks === 'all') return ALL_FIELDS;
  const out = {} as Record<HookName, readonly string[] | 'all'>;
  for (const h of HOOKS) {
    if (needs.fullHooks.includes(h)) {
      out[h] = 'all';
      continue;
    }
    const reads = ['timestamp', 'mountpoint', ...METRICS_READS[h]];
    if (needs.topicGroups && MESSAGE_HOOKS.includes(h)) reads.push('topic');
    if (needs.clientGroups && CLIENT_GROUP_READS[h]) for (const f of CLIENT_GROUP_READS[h]!) if (!reads.includes(f)) reads.push(f);
    out[h] = reads;
  }
  return out;
}

/** The sidecar's outputs, as configured: what fieldsForOutputs derives the selection from. */
export interface EnabledOutputs {
  topicGroups: boolean;
  clientGroups?: boolean;
  /** Log sampling ratio per hook (absent or 0: not logged); null when log records are off. */
  logRatios: Partial<Record<HookName, number>> | null;
  /** --log-traced-messages: any message event may become a record. */
  logTracedMessages: boolean;
  /** The printer or any other sink that may read every field. */
  readsEverything: boolean;
  /** Spans of traced messages (span-sink.ts): publish, deliver and delivery_complete read in full. */
  spans?: boolean;
}

/** The hooks the span sink reads (payload, topic, client and session ids, times, ACL, flags). */
const SPAN_HOOKS: readonly HookName[] = ['on_publish', 'on_deliver', 'on_delivery_complete'];

export function fieldsForOutputs(o: EnabledOutputs): FieldSelection {
  if (o.readsEverything) return ALL_FIELDS;
  const ratios = o.logRatios;
  const full = HOOKS.filter(
    (h) => (ratios !== null && ((ratios[h] ?? 0) > 0 || (o.logTracedMessages && MESSAGE_HOOKS.includes(h)))) || (o.spans === true && SPAN_HOOKS.includes(h)),
  );
  return selectFields({ topicGroups: o.topicGroups, clientGroups: o.clientGroups ?? false, fullHooks: full });
}
