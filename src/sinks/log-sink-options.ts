/**
 * The log sink's rows of the option table: which hooks become records and at what ratio, what
 * the records carry (trace context, payloads, user properties), and what --redact leaves out.
 */
import { oneOf, parseBoolean, sizeInRange, textOfLength, type OptionRows } from '../config/option-parser.js';
import { HOOKS, type HookName } from '../events/event-types.js';
import { REDACT_FIELDS, type RedactField } from './redaction.js';

/** The per-message hooks: one event per message, so not logged unless asked for. */
const PER_MESSAGE_HOOKS: readonly HookName[] = ['on_publish', 'on_deliver', 'on_delivery_complete', 'on_offline_message'];

/** Hooks logged unless configured otherwise: the lifecycle and failure events (message drops among them). */
export const DEFAULT_LOG_HOOKS: readonly HookName[] = HOOKS.filter((h) => !PER_MESSAGE_HOOKS.includes(h));

/** CONNECT user properties copied into records by default: trace context, nothing client-chosen. */
export const DEFAULT_LOG_USER_PROPERTIES: readonly string[] = ['traceparent', 'tracestate'];

/** "*" (every key), or a comma-separated list of keys added to traceparent and tracestate. */
export function parseLogUserProperties(raw: string): readonly string[] | '*' {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.includes('*')) {
    if (items.length > 1) throw new Error('"*" cannot be combined with keys');
    return '*';
  }
  for (const k of items) if (k.length > 256) throw new Error(`key ${JSON.stringify(k.slice(0, 20))}... is longer than 256 characters`);
  return [...new Set([...DEFAULT_LOG_USER_PROPERTIES, ...items])];
}

/** none, or a comma-separated list of client_id, username, peer. */
export function parseRedact(raw: string): readonly RedactField[] {
  const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (items.length === 1 && items[0] === 'none') return [];
  for (const i of items) if (!(REDACT_FIELDS as readonly string[]).includes(i)) throw new Error(`unknown field ${JSON.stringify(i)}`);
  return [...new Set(items)] as RedactField[];
}

/**
 * "lifecycle", "all", "none" and hook[:ratio] items, comma-separated; a hook item after
 * lifecycle or all sets that hook's ratio. Nothing at all, none with anything else, or a hook
 * named twice is refused.
 */
export function parseLogHooks(raw: string): Partial<Record<HookName, number>> {
  const ratios: Partial<Record<HookName, number>> = {};
  const items = raw.split(',').map((p) => p.trim().toLowerCase()).filter((i) => i !== '');
  // Contradictions are refused rather than resolved by a silent rule.
  if (items.length === 0) throw new Error('no item; give none to log no events');
  if (items.includes('none') && items.length > 1) throw new Error('none cannot be combined with other items');
  const named = new Set<HookName>();
  for (const item of items) {
    if (item === 'none') continue;
    if (item === 'lifecycle') {
      for (const h of DEFAULT_LOG_HOOKS) ratios[h] = 1;
      continue;
    }
    if (item === 'all') {
      for (const h of HOOKS) ratios[h] = 1;
      continue;
    }
    const [name, ratioText] = item.split(':', 2) as [string, string | undefined];
    const hook = (name.startsWith('on_') ? name : `on_${name}`) as HookName;
    if (!HOOKS.includes(hook)) throw new Error(`unknown hook ${JSON.stringify(name)}`);
    if (named.has(hook)) throw new Error(`${hook} is given twice`);
    named.add(hook);
    const ratio = ratioText === undefined ? 1 : Number(ratioText);
    if (ratioText !== undefined && (ratioText.trim() === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1)) {
      throw new Error(`sampling ratio ${JSON.stringify(ratioText)} of ${hook} is not a number from 0 to 1`);
    }
    ratios[hook] = ratio;
  }
  return ratios;
}

export const LOG_SINK_OPTIONS = {
  logHooks: {
    flag: 'log-hooks',
    help: { value: 'HOOK[:RATIO],...', summary: 'hooks logged, each sampled, e.g. lifecycle,on_publish:0.01' },
    env: 'VMQ_SIDECAR_LOG_HOOKS',
    default: 'lifecycle',
    accepted:
      'none, or a comma-separated list of lifecycle (register, register_failed, client_wakeup, client_offline, client_gone, session_expired, subscribe, unsubscribe, message_drop), all, and HOOK or HOOK:RATIO (RATIO from 0 to 1; each hook once), e.g. lifecycle,on_publish:0.01',
    description: 'Which events become log records, and what share of them (a sampling ratio per hook).',
    parse: parseLogHooks,
  },
  logTracedMessages: {
    flag: 'log-traced-messages',
    help: { summary: 'also log message events whose payload carries trace context' },
    env: 'VMQ_SIDECAR_LOG_TRACED_MESSAGES',
    default: 'false',
    boolean: true,
    accepted: 'true or false',
    description: 'Also log message events (publish, deliver, ...) whose payload carries trace context, even when their hook is off or sampled out.',
    parse: parseBoolean,
  },
  traceContextField: {
    flag: 'trace-context-field',
    help: { value: 'NAME', summary: 'the JSON payload field holding a W3C traceparent' },
    env: 'VMQ_SIDECAR_TRACE_CONTEXT_FIELD',
    default: 'traceparent',
    accepted: 'a JSON field name of 1 to 64 characters',
    description: 'Field of a JSON payload that holds a W3C traceparent.',
    parse: textOfLength(1, 64),
  },
  logPayloadBytes: {
    flag: 'log-payload-bytes',
    help: { value: 'BYTES', summary: 'copy payloads into log records, cut at this size; 0 never' },
    env: 'VMQ_SIDECAR_LOG_PAYLOAD_BYTES',
    default: '0',
    accepted: 'a byte size from 0 (never) to 1MiB',
    description: 'Copy message payloads into log records (mqtt.payload, UTF-8 when valid, else base64), cut at this many bytes; 0 never logs payloads.',
    parse: sizeInRange(0, 1024 * 1024),
  },
  logUserProperties: {
    flag: 'log-user-properties',
    help: { value: 'KEY,...|*', summary: 'CONNECT user properties copied into on_register records' },
    env: 'VMQ_SIDECAR_LOG_USER_PROPERTIES',
    default: '',
    accepted: 'a comma-separated list of user property keys (added to traceparent and tracestate), or * for all',
    description:
      'User properties copied into log records (mqtt.user_property.<key>): of the CONNECT on on_register records, of an MQTT 5 PUBLISH on on_publish and on_deliver records (the companion plugin vmq_events_sidecar_m5 forwards only its own allowlist). Only traceparent and tracestate by default: ' +
      'the other keys are chosen by clients and may carry secrets (an auth token) or personal data.',
    parse: parseLogUserProperties,
  },
  redact: {
    flag: 'redact',
    help: { value: 'none|FIELD,...', summary: 'hash or leave out client_id, username, peer in log records' },
    env: 'VMQ_SIDECAR_REDACT',
    default: 'none',
    accepted: 'none, or a comma-separated list of client_id, username, peer',
    description:
      'Leave these out of log records (attributes and the message text), or hash them (--redact-mode). ' +
      'peer covers client.address and client.port. Metrics never carry them; --print-events still shows them.',
    parse: parseRedact,
  },
  redactMode: {
    flag: 'redact-mode',
    help: { value: 'hash|drop', summary: 'keyed hash (joinable) or left out' },
    env: 'VMQ_SIDECAR_REDACT_MODE',
    default: 'hash',
    accepted: 'hash or drop',
    description:
      'hash: a keyed hash (HMAC-SHA-256, "h:" + 22 characters) replaces the value, so records of one client stay joinable but cannot be reversed with a dictionary of likely ids without the key; drop: the attribute is left out.',
    parse: oneOf(['hash', 'drop'] as const),
  },
  redactKey: {
    flag: 'redact-key',
    help: { value: 'KEY', summary: 'the hash key; the same on every replica keeps hashes stable' },
    env: 'VMQ_SIDECAR_REDACT_KEY',
    accepted: 'any text, at least 16 characters (prefer the environment variable: command lines are visible to other users)',
    description:
      'Key of the --redact-mode hash. Set it (the same on every replica) for hashes that stay the same across restarts; when not set, a random key is drawn at start and hashes only match within one run.',
    parse: parseRedactKey,
  },
} satisfies OptionRows;

/** A hash key: at least 16 characters, kept as given (spaces too). */
function parseRedactKey(raw: string): string {
  if (raw.length < 16) throw new Error('shorter than 16 characters');
  return raw;
}
