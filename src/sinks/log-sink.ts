/**
 * Events -> OpenTelemetry log records, one per event of the enabled hooks (with a sampling
 * ratio per hook), carrying the client's trace context when it sent one.
 *
 * Records are built directly in the shape the SDK's exporters take (ReadableLogRecord) and
 * handed to the export queue. Going through the SDK Logger would validate and copy every
 * attribute again (about a third of the cost of a record, measured); the values here are valid
 * attribute types by construction.
 */
import type { HrTime, SpanContext } from '@opentelemetry/api';
import { SeverityNumber, type LogAttributes } from '@opentelemetry/api-logs';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { EventSink } from './event-sink.js';
import { HOOKS, type HookName, type MatchedAcl, type SidecarEvent } from '../events/event-types.js';
import { NORMAL_DISCONNECT_REASONS } from '../events/reason-names.js';
import { PayloadTraceFinder, traceFromUserProperties, type TraceContext } from './trace-context.js';
import { Redactor, type RedactOptions } from './redaction.js';

/** Hooks logged unless configured otherwise: the lifecycle and failure events. */
export const DEFAULT_LOG_HOOKS: readonly HookName[] = [
  'on_register',
  'on_register_failed',
  'on_client_wakeup',
  'on_client_offline',
  'on_client_gone',
  'on_session_expired',
  'on_subscribe',
  'on_unsubscribe',
  'on_message_drop',
];

/** User properties copied to a record at most, and the longest key and value kept. */
export const MAX_USER_PROPERTIES = 16;
export const MAX_USER_PROPERTY_CHARS = 256;
/** Topic filters of one SUBSCRIBE/UNSUBSCRIBE copied to a record at most. */
export const MAX_TOPICS_PER_RECORD = 100;
/** CONNECT user properties copied into records by default: trace context, nothing client-chosen. */
export const DEFAULT_LOG_USER_PROPERTIES: readonly string[] = ['traceparent', 'tracestate'];

/** OTEL_LOGRECORD_ATTRIBUTE_* limits (otel-config.ts has the defaults). */
export interface LogRecordLimits {
  attributeCountLimit: number;
  attributeValueLengthLimit: number;
}

export interface LogSinkOptions {
  /** Sampling ratio per hook, 0 (off) to 1 (every event). */
  ratios: Partial<Record<HookName, number>>;
  /** Log message events that carry trace context even when their hook is off or sampled out. */
  tracedMessages: boolean;
  traceContextField: string;
  /** Copy payloads into records (UTF-8 when valid, else base64), up to this many bytes; 0 = never. */
  payloadMaxBytes: number;
  /** CONNECT user property keys copied into records; '*' for all. Default DEFAULT_LOG_USER_PROPERTIES. */
  userProperties?: readonly string[] | '*';
  /** --redact; absent or no fields: values as received. */
  redact?: RedactOptions | null;
  /** Default: 128 attributes, 8192 characters per value. */
  limits?: LogRecordLimits;
}

/** Where finished records go (the export queue). */
export type LogRecordOutput = (record: ReadableLogRecord) => void;

/** One log record; a class so that every record has the same object shape. */
class EventLogRecord implements ReadableLogRecord {
  constructor(
    readonly hrTime: HrTime,
    readonly hrTimeObserved: HrTime,
    readonly spanContext: SpanContext | undefined,
    readonly severityText: string,
    readonly severityNumber: SeverityNumber,
    readonly body: string,
    readonly eventName: string,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
    readonly attributes: LogAttributes,
    readonly droppedAttributesCount: number,
  ) {}
}

const INFO = SeverityNumber.INFO;
const WARN = SeverityNumber.WARN;

function isMessageHook(h: HookName): boolean {
  return h === 'on_publish' || h === 'on_deliver' || h === 'on_delivery_complete' || h === 'on_offline_message' || h === 'on_message_drop';
}

export class LogSink implements EventSink {
  /** Records emitted, and events skipped by sampling. */
  emitted = 0;
  sampledOut = 0;
  private readonly ratios: number[];
  private readonly eventNames: string[] = HOOKS.map((h) => `vernemq.${h}`);
  private readonly finder: PayloadTraceFinder;
  private readonly checkPayloadTrace: boolean[];
  private readonly redactor: Redactor | null;
  private readonly allowedKeys: readonly string[] | null;
  private readonly countLimit: number;
  private readonly lengthLimit: number;

  constructor(
    private readonly output: LogRecordOutput,
    private readonly resource: Resource,
    private readonly scope: InstrumentationScope,
    private readonly options: LogSinkOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.ratios = HOOKS.map((h) => options.ratios[h] ?? 0);
    this.finder = new PayloadTraceFinder(options.traceContextField);
    this.checkPayloadTrace = HOOKS.map((h, i) => isMessageHook(h) && (options.tracedMessages || this.ratios[i]! > 0));
    this.redactor = options.redact && options.redact.fields.length > 0 ? new Redactor(options.redact) : null;
    const allowed = options.userProperties ?? DEFAULT_LOG_USER_PROPERTIES;
    this.allowedKeys = allowed === '*' ? null : [...new Set(allowed)];
    this.countLimit = options.limits?.attributeCountLimit ?? 128;
    this.lengthLimit = options.limits?.attributeValueLengthLimit ?? 8192;
  }

  consume(e: SidecarEvent, arrivalMs: number): void {
    const ratio = this.ratios[e.hookIndex]!;
    let log = ratio >= 1 || (ratio > 0 && this.random() < ratio);
    let ctx: TraceContext | null = null;
    if (this.checkPayloadTrace[e.hookIndex]) {
      // Only message events (they all have a payload) get here.
      if (log || this.options.tracedMessages) ctx = this.finder.find((e as { payload: Uint8Array }).payload);
      if (!log && ctx !== null) log = true;
    }
    if (!log) {
      if (ratio > 0) this.sampledOut++;
      return;
    }
    if (e.hook === 'on_register') ctx = traceFromUserProperties(e.userProperties);
    this.emit(e, arrivalMs, ctx);
  }

  private emit(e: SidecarEvent, arrivalMs: number, ctx: TraceContext | null): void {
    // With --redact, the values records may show (a hash, or '' when dropped); the event's own
    // fields otherwise, without a copy or a hash computed.
    const red = this.redactor;
    const clientId = red?.clientId ? red.apply(e.clientId) : e.clientId;
    const who = clientId === '' && red?.clientId ? '(redacted)' : clientId;
    const username = red?.username && 'username' in e ? red.apply(e.username) : 'username' in e ? e.username : '';
    const attrs: LogAttributes = { 'messaging.system': 'mqtt' };
    if (clientId !== '' || red === null || !red.clientId) attrs['messaging.client.id'] = clientId;
    // Absent for the default mountpoint, like user.name for a client without username.
    if (e.mountpoint !== '') attrs['mqtt.mountpoint'] = e.mountpoint;
    let severity = INFO;
    let body: string;
    let overCap = 0;
    switch (e.hook) {
      case 'on_register':
        body = `client ${who} connected from ${this.peerText(e.peerAddr, e.peerPort)}`;
        this.peer(attrs, e.peerAddr, e.peerPort);
        user(attrs, username);
        session(attrs, e.sessionId);
        overCap = this.userProperties(attrs, e.userProperties);
        break;
      case 'on_register_failed':
        severity = WARN;
        body = `client ${who} refused: ${e.reasonName}`;
        this.peer(attrs, e.peerAddr, e.peerPort);
        user(attrs, username);
        attrs['mqtt.failure.reason'] = e.reasonName;
        attrs['mqtt.clean_session'] = e.cleanSession;
        break;
      case 'on_client_wakeup':
        body = `client ${who} attached to its session`;
        session(attrs, e.sessionId);
        break;
      case 'on_client_offline':
      case 'on_client_gone': {
        const kept = e.hook === 'on_client_offline';
        if (!NORMAL_DISCONNECT_REASONS.has(e.reasonName)) severity = WARN;
        body = `client ${who} ${kept ? 'went offline' : 'disconnected'} (${e.reasonName}); session ${kept ? 'kept' : 'removed'}`;
        user(attrs, username);
        session(attrs, e.sessionId);
        attrs['mqtt.disconnect.reason'] = e.reasonName;
        attrs['mqtt.session.persistent'] = kept;
        break;
      }
      case 'on_session_expired':
        body = `session of client ${who} expired`;
        session(attrs, e.sessionId);
        break;
      case 'on_subscribe': {
        let refused = 0;
        for (const t of e.topics) if (t.qos === 128) refused++;
        body = `client ${who} subscribed to ${e.topics.length} topic filter(s)${refused > 0 ? `, ${refused} refused` : ''}`;
        if (refused > 0) severity = WARN;
        user(attrs, username);
        session(attrs, e.sessionId);
        // A SUBSCRIBE may carry any number of filters: a record keeps the first ones.
        const kept = e.topics.length > MAX_TOPICS_PER_RECORD ? e.topics.slice(0, MAX_TOPICS_PER_RECORD) : e.topics;
        attrs['mqtt.subscription.topics'] = kept.map((t) => t.topic);
        attrs['mqtt.subscription.qos'] = kept.map((t) => t.qos);
        if (kept !== e.topics) attrs['mqtt.subscription.topics.dropped'] = e.topics.length - kept.length;
        break;
      }
      case 'on_unsubscribe':
        body = `client ${who} unsubscribed from ${e.topics.length} topic filter(s)`;
        user(attrs, username);
        session(attrs, e.sessionId);
        attrs['mqtt.subscription.topics'] = e.topics.slice(0, MAX_TOPICS_PER_RECORD);
        if (e.topics.length > MAX_TOPICS_PER_RECORD) attrs['mqtt.subscription.topics.dropped'] = e.topics.length - MAX_TOPICS_PER_RECORD;
        break;
      case 'on_publish':
        body = `client ${who} published to ${e.topic} (qos ${e.qos}, ${e.payload.length} bytes)`;
        user(attrs, username);
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, e.matchedAcl);
        attrs['mqtt.retain'] = e.retain;
        break;
      case 'on_deliver':
      case 'on_delivery_complete':
        body = e.hook === 'on_deliver' ? `message on ${e.topic} delivered to ${who}` : `delivery of message on ${e.topic} to ${who} complete`;
        user(attrs, username);
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, e.matchedAcl, e.hook === 'on_deliver' ? 'mqtt.subscription.qos' : 'mqtt.qos');
        attrs['mqtt.retain'] = e.isRetain;
        attrs['mqtt.persisted'] = e.persisted;
        break;
      case 'on_offline_message':
        body = `message on ${e.topic} queued for offline client ${who}`;
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, null);
        attrs['mqtt.retain'] = e.retain;
        break;
      case 'on_message_drop':
        severity = WARN;
        body = `message on ${e.topic} for ${who} dropped: ${e.reason}`;
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, e.matchedAcl);
        attrs['mqtt.drop.reason'] = e.reason;
        break;
    }
    const spanContext: SpanContext | undefined =
      ctx === null ? undefined : { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: ctx.traceFlags, isRemote: true, traceState: undefined };
    // Allowed user properties past the cap are attributes left out too (OTLP dropped_attributes_count).
    const dropped = this.limit(attrs) + overCap;
    if (body.length > this.lengthLimit) body = body.slice(0, this.lengthLimit);
    this.emitted++;
    this.output(
      new EventLogRecord(
        [e.timeSec, e.timeNanos],
        [Math.floor(arrivalMs / 1000), (arrivalMs % 1000) * 1e6],
        spanContext,
        severity === WARN ? 'WARN' : 'INFO',
        severity,
        body,
        this.eventNames[e.hookIndex]!,
        this.resource,
        this.scope,
        attrs,
        dropped,
      ),
    );
  }

  /**
   * OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT / _VALUE_LENGTH_LIMIT: attributes past the count are
   * left out (counted in the record's dropped_attributes_count), strings (and strings in arrays)
   * cut at the length. mqtt.payload has its own limit, --log-payload-bytes.
   */
  private limit(attrs: LogAttributes): number {
    const max = this.lengthLimit;
    let n = 0;
    let dropped = 0;
    for (const k in attrs) {
      if (n >= this.countLimit) {
        delete attrs[k];
        dropped++;
        continue;
      }
      n++;
      const v = attrs[k];
      if (typeof v === 'string') {
        if (v.length > max && k !== 'mqtt.payload') attrs[k] = v.slice(0, max);
      } else if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          if (typeof x === 'string' && x.length > max) (v as unknown[])[i] = x.slice(0, max);
        }
      }
    }
    return dropped;
  }

  private peerText(addr: string, port: number): string {
    const red = this.redactor;
    if (red?.peer) {
      const a = red.apply(addr);
      return a === '' ? 'a redacted address' : a;
    }
    return `${addr || 'an unknown address'}:${port}`;
  }

  /** network.peer.*: with --redact peer, the hashed address (the port alone says nothing), or neither. */
  private peer(attrs: LogAttributes, addr: string, port: number): void {
    const red = this.redactor;
    if (red?.peer) {
      const a = red.apply(addr);
      if (a !== '') attrs['network.peer.address'] = a;
      return;
    }
    if (addr !== '') attrs['network.peer.address'] = addr;
    if (port !== 0) attrs['network.peer.port'] = port;
  }

  /** `qosKey`: on_deliver reports the subscription's QoS, the other hooks the message's. */
  private message(attrs: LogAttributes, topic: string, qos: number, payload: Uint8Array, acl: MatchedAcl | null, qosKey = 'mqtt.qos'): void {
    attrs['messaging.destination.name'] = topic;
    attrs[qosKey] = qos;
    attrs['messaging.message.body.size'] = payload.length;
    if (acl !== null && acl.name !== '') attrs['mqtt.acl.name'] = acl.name;
    if (acl !== null && acl.pattern !== '') attrs['mqtt.acl.pattern'] = acl.pattern;
    const max = this.options.payloadMaxBytes;
    if (max > 0 && payload.length > 0) {
      const part = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.length, max));
      const text = part.toString('utf8');
      // Valid UTF-8 round-trips; anything else (or a cut inside a character) goes as base64.
      const utf8 = Buffer.byteLength(text, 'utf8') === part.length && !text.includes('\ufffd');
      attrs['mqtt.payload'] = utf8 ? text : part.toString('base64');
      attrs['mqtt.payload.encoding'] = utf8 ? 'utf8' : 'base64';
      if (payload.length > max) attrs['mqtt.payload.truncated'] = true;
    }
  }

  /**
   * CONNECT user properties are chosen by the client (an auth_token, say): only allowlisted keys
   * (--log-user-properties) are copied, at most MAX_USER_PROPERTIES of them.
   */
  private userProperties(attrs: LogAttributes, props: Record<string, string>): number {
    const allowed = this.allowedKeys;
    let n = 0;
    let over = 0;
    // With an allowlist, its few keys are looked up: a CONNECT with a million properties costs
    // no more than one with two.
    const keys: Iterable<string> = allowed ?? Object.keys(props);
    for (const k of keys) {
      if (allowed !== null && !Object.prototype.hasOwnProperty.call(props, k)) continue;
      if (n >= MAX_USER_PROPERTIES) {
        over++;
        continue;
      }
      n++;
      attrs[`mqtt.user_property.${k.slice(0, MAX_USER_PROPERTY_CHARS)}`] = props[k]!.slice(0, MAX_USER_PROPERTY_CHARS);
    }
    if (over > 0) attrs['mqtt.user_properties.dropped'] = over;
    return over;
  }
}

function user(attrs: LogAttributes, username: string): void {
  if (username !== '') attrs['user.name'] = username;
}

function session(attrs: LogAttributes, id: string): void {
  if (id !== '') attrs['mqtt.session.id'] = id;
}
