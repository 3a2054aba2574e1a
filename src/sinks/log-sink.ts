/**
 * Events -> OpenTelemetry log records, one per event of the enabled hooks (with a sampling
 * ratio per hook), carrying the client's trace context when it sent one.
 *
 * Records are written field by field into a builder (log-record-builder.ts): straight into OTLP
 * protobuf bytes for the http/protobuf exporter, or into the objects (ReadableLogRecord) the
 * other exporters take. Going through the SDK Logger would validate and copy every attribute
 * again (about a third of the cost of a record object, measured); the values here are valid
 * attribute types by construction, and the attribute limits are applied as they are written.
 */
import { SeverityNumber } from '@opentelemetry/api';
import { formatHostPort } from '../config/option-parser.js';
import type { EventSink } from './event-sink.js';
import { ObjectRecordBuilder, WireRecordBuilder, type LogAttributeValue, type LogRecordBuilder } from './log-record-builder.js';
import { LOG_RECORDS, type LogAttributeKey } from './log-catalog.js';
import {
  HOOKS,
  type ClientGoneEvent,
  type ClientOfflineEvent,
  type DeliverEvent,
  type DeliveryCompleteEvent,
  type HookName,
  type MatchedAcl,
  type PublishEvent,
  type RegisterEvent,
  type RegisterFailedEvent,
  type SidecarEvent,
  type SubscribeEvent,
  type UnsubscribeEvent,
} from '../events/event-types.js';
import { unhandledHook } from '../events/unhandled-hook.js';
import { DEFAULT_LOG_USER_PROPERTIES } from './log-sink-options.js';
import { isFailedDisconnect } from '../events/reason-names.js';
import { PayloadTraceFinder, traceFromUserProperties, type TraceContext, type TracedMessage } from './trace-context.js';
import { Redactor, type RedactOptions } from './redaction.js';
import { TopicTemplates, type TopicGroupPattern } from '../metrics/topic-grouper.js';
import type { ClientGrouper } from '../metrics/client-grouper.js';
import type { Host } from '../host.js';

/** Records that carry mqtt.client.group with --client-groups (as the metrics that have it): those the catalog says. */
const CLIENT_GROUP_HOOKS: ReadonlySet<HookName> = new Set(HOOKS.filter((h) => LOG_RECORDS[h].attributes.includes('mqtt.client.group')));

/** User properties copied to a record at most, and the longest key and value kept. */
export const MAX_USER_PROPERTIES = 16;
export const MAX_USER_PROPERTY_CHARS = 256;
/** Topic filters of one SUBSCRIBE/UNSUBSCRIBE copied to a record at most. */
export const MAX_TOPICS_PER_RECORD = 100;
/** Attribute key of an allowed CONNECT user property, before the property's key. */
const USER_PROPERTY_PREFIX = 'mqtt.user_property.';

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
  /** --topic-groups: the first matching filter is messaging.destination.template when the broker sends no ACL pattern. */
  topicGroups?: readonly TopicGroupPattern[];
}

const INFO = SeverityNumber.INFO;
const WARN = SeverityNumber.WARN;

function isMessageHook(h: HookName): boolean {
  return h === 'on_publish' || h === 'on_deliver' || h === 'on_delivery_complete' || h === 'on_offline_message' || h === 'on_message_drop';
}

export type { LogRecordOutput, WireLogOutput } from './log-record-builder.js';

export class LogSink implements EventSink {
  /** Records emitted, and events skipped by sampling. */
  emitted = 0;
  sampledOut = 0;
  private readonly ratios: number[];
  private readonly eventNames: string[] = HOOKS.map((h) => `vernemq.${h}`);
  private readonly finder: PayloadTraceFinder;
  private readonly checkPayloadTrace: boolean[];
  /** --redact's hasher, shared with the span sink: with no --redact-key its random key must be one per process. */
  readonly redactor: Redactor | null;
  private readonly allowedKeys: readonly string[] | null;
  private readonly countLimit: number;
  private readonly lengthLimit: number;
  private readonly b: LogRecordBuilder;
  /** Hooks logged at some ratio, or whose messages are logged when they carry a trace. */
  readonly hooks: readonly HookName[];
  private readonly templates: TopicTemplates | null;
  /** Attributes written to, and left out of, the record being built. */
  private attrCount = 0;
  private attrDropped = 0;
  /** The record being built: its severity, and allowed user properties left out past the cap. */
  private severity: SeverityNumber = INFO;
  private overCap = 0;

  /** The options, and --client-groups (the host's grouper, attribute-folding.ts): mqtt.client.group on the records CLIENT_GROUP_HOOKS lists. */
  private readonly options: LogSinkOptions & { readonly clientGrouper: ClientGrouper | null };

  /** Writes to the host's log output (host.signals.logOutput, which must be on). */
  constructor(
    host: Pick<Host, 'signals' | 'attributes'>,
    options: LogSinkOptions,
    private readonly random: () => number = Math.random,
  ) {
    const { logOutput: output, resource, scope } = host.signals;
    if (output === null) throw new Error('LogSink: the host has no log output (OTEL_LOGS_EXPORTER=none)');
    this.options = { ...options, clientGrouper: host.attributes.clientGrouper };
    this.ratios = HOOKS.map((h) => options.ratios[h] ?? 0);
    this.finder = new PayloadTraceFinder(options.traceContextField);
    this.checkPayloadTrace = HOOKS.map((h, i) => isMessageHook(h) && (options.tracedMessages || this.ratios[i]! > 0));
    this.hooks = HOOKS.filter((_, i) => this.ratios[i]! > 0 || this.checkPayloadTrace[i]);
    this.redactor = options.redact && options.redact.fields.length > 0 ? new Redactor(options.redact) : null;
    const allowed = options.userProperties ?? DEFAULT_LOG_USER_PROPERTIES;
    this.allowedKeys = allowed === '*' ? null : [...new Set(allowed)];
    this.countLimit = options.limits?.attributeCountLimit ?? 128;
    this.lengthLimit = options.limits?.attributeValueLengthLimit ?? 8192;
    this.templates = options.topicGroups && options.topicGroups.length > 0 ? new TopicTemplates(options.topicGroups) : null;
    this.b = typeof output === 'function' ? new ObjectRecordBuilder(output, resource, scope) : new WireRecordBuilder(output);
  }

  /** Its part of /status. */
  status(): { logs: { emitted: number } } {
    return { logs: { emitted: this.emitted } };
  }

  consume(e: SidecarEvent, arrivalMs: number): void {
    const ratio = this.ratios[e.hookIndex]!;
    let log = ratio >= 1 || (ratio > 0 && this.random() < ratio);
    let ctx: TraceContext | null = null;
    if (this.checkPayloadTrace[e.hookIndex]) {
      // Only message events (they all have a payload) get here.
      if (log || this.options.tracedMessages) ctx = this.finder.find(e as TracedMessage);
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
    this.begin(e, arrivalMs, clientId);
    let body = this.hookRecord(e, who, username);
    if (body.length > this.lengthLimit) body = body.slice(0, this.lengthLimit);
    this.emitted++;
    const severity = this.severity;
    // Allowed user properties past the cap are attributes left out too (OTLP dropped_attributes_count).
    this.b.end(severity, severity === WARN ? 'WARN' : 'INFO', body, this.attrDropped + this.overCap, ctx);
  }

  /** Starts a record with the attributes of every hook (`clientId` as --redact leaves it). */
  private begin(e: SidecarEvent, arrivalMs: number, clientId: string): void {
    this.b.begin(e.timeSec, e.timeNanos, arrivalMs, this.eventNames[e.hookIndex]!);
    this.attrCount = 0;
    this.attrDropped = 0;
    this.severity = INFO;
    this.overCap = 0;
    const red = this.redactor;
    this.attr('messaging.system', 'mqtt');
    if (clientId !== '' || red === null || !red.clientId) this.attr('messaging.client.id', clientId);
    // Absent for the default mountpoint, like user.name for a client without username.
    if (e.mountpoint !== '') this.attr('mqtt.mountpoint', e.mountpoint);
    // Absent on session-layer events, which do not say (event-types.ts, ProtocolVersion).
    if (e.protocolVersion) this.attr('network.protocol.version', e.protocolVersion);
    // The group of the raw client id (before --redact), as on the metrics.
    const cg = this.options.clientGrouper;
    if (cg && CLIENT_GROUP_HOOKS.has(e.hook)) this.attr('mqtt.client.group', cg.group(e.clientId, 'username' in e ? e.username : undefined));
  }

  /**
   * The hook's own attributes; returns the body. Sets `severity` (WARN for failures) and
   * `overCap` (allowed user properties left out). A hook added to HookName without a case here
   * does not compile (unhandledHook takes never).
   */
  private hookRecord(e: SidecarEvent, who: string, username: string): string {
    switch (e.hook) {
      case 'on_register':
        return this.register(e, who, username);
      case 'on_register_failed':
        return this.registerFailed(e, who, username);
      case 'on_client_wakeup':
        this.session(e.sessionId);
        return `client ${who} attached to its session`;
      case 'on_client_offline':
      case 'on_client_gone':
        return this.disconnect(e, who, username);
      case 'on_session_expired':
        this.session(e.sessionId);
        return `session of client ${who} expired`;
      case 'on_subscribe':
        return this.subscribe(e, who, username);
      case 'on_unsubscribe':
        return this.unsubscribe(e, who, username);
      case 'on_publish':
        return this.publish(e, who, username);
      case 'on_deliver':
      case 'on_delivery_complete':
        return this.delivery(e, who, username);
      case 'on_offline_message':
        this.session(e.sessionId);
        this.message(e.topic, e.qos, e.payload, null);
        this.attr('mqtt.retain', e.retain);
        return `message on ${e.topic} queued for offline client ${who}`;
      case 'on_message_drop':
        this.severity = WARN;
        this.session(e.sessionId);
        this.message(e.topic, e.qos, e.payload, e.matchedAcl);
        this.attr('error.type', e.reason);
        return `message on ${e.topic} for ${who} dropped: ${e.reason}`;
      default:
        return unhandledHook(e);
    }
  }

  private register(e: RegisterEvent, who: string, username: string): string {
    const body = `client ${who} connected from ${this.peerText(e.peerAddr, e.peerPort)}`;
    this.peer(e.peerAddr, e.peerPort);
    this.user(username);
    this.session(e.sessionId);
    this.overCap = this.userProperties(e.userProperties);
    return body;
  }

  private registerFailed(e: RegisterFailedEvent, who: string, username: string): string {
    this.severity = WARN;
    this.peer(e.peerAddr, e.peerPort);
    this.user(username);
    this.attr('error.type', e.reasonName);
    this.attr('mqtt.clean_session', e.cleanSession);
    return `client ${who} refused: ${e.reasonName}`;
  }

  private disconnect(e: ClientOfflineEvent | ClientGoneEvent, who: string, username: string): string {
    const kept = e.hook === 'on_client_offline';
    const failed = isFailedDisconnect(e.reasonName);
    if (failed) this.severity = WARN;
    this.user(username);
    this.session(e.sessionId);
    this.attr('mqtt.disconnect.reason', e.reasonName);
    // semconv error.type only on failures: the WARN disconnects.
    if (failed) this.attr('error.type', e.reasonName);
    this.attr('mqtt.session.persistent', kept);
    return `client ${who} ${kept ? 'went offline' : 'disconnected'} (${e.reasonName}); session ${kept ? 'kept' : 'removed'}`;
  }

  private subscribe(e: SubscribeEvent, who: string, username: string): string {
    let refused = 0;
    for (const t of e.topics) if (t.qos === 128) refused++;
    if (refused > 0) this.severity = WARN;
    this.user(username);
    this.session(e.sessionId);
    // A SUBSCRIBE may carry any number of filters: a record keeps the first ones.
    const kept = e.topics.length > MAX_TOPICS_PER_RECORD ? e.topics.slice(0, MAX_TOPICS_PER_RECORD) : e.topics;
    this.attr('mqtt.subscription.topics', kept.map((t) => t.topic));
    this.attr('mqtt.subscription.qos', kept.map((t) => t.qos));
    if (e.protocolVersion === '5') this.attr('mqtt.subscription.reason_codes', kept.map((t) => t.reasonCode ?? t.qos));
    if (kept !== e.topics) this.attr('mqtt.subscription.topics.dropped', e.topics.length - kept.length);
    return `client ${who} subscribed to ${e.topics.length} topic filter(s)${refused > 0 ? `, ${refused} refused` : ''}`;
  }

  private unsubscribe(e: UnsubscribeEvent, who: string, username: string): string {
    this.user(username);
    this.session(e.sessionId);
    this.attr('mqtt.subscription.topics', e.topics.slice(0, MAX_TOPICS_PER_RECORD));
    if (e.topics.length > MAX_TOPICS_PER_RECORD) this.attr('mqtt.subscription.topics.dropped', e.topics.length - MAX_TOPICS_PER_RECORD);
    return `client ${who} unsubscribed from ${e.topics.length} topic filter(s)`;
  }

  private publish(e: PublishEvent, who: string, username: string): string {
    this.user(username);
    this.session(e.sessionId);
    this.message(e.topic, e.qos, e.payload, e.matchedAcl);
    this.attr('mqtt.retain', e.retain);
    if (e.userProperties !== undefined) this.overCap = this.userProperties(e.userProperties);
    return `client ${who} published to ${e.topic} (qos ${e.qos}, ${e.payload.length} bytes)`;
  }

  private delivery(e: DeliverEvent | DeliveryCompleteEvent, who: string, username: string): string {
    const deliver = e.hook === 'on_deliver';
    this.user(username);
    this.session(e.sessionId);
    this.message(e.topic, e.qos, e.payload, e.matchedAcl, deliver ? 'mqtt.subscription.qos' : 'mqtt.qos');
    this.attr('mqtt.retain', e.isRetain);
    this.attr('mqtt.persisted', e.persisted);
    if (e.hook === 'on_deliver' && e.userProperties !== undefined) this.overCap = this.userProperties(e.userProperties);
    return deliver ? `message on ${e.topic} delivered to ${who}` : `delivery of message on ${e.topic} to ${who} complete`;
  }

  /**
   * OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT / _VALUE_LENGTH_LIMIT, applied as attributes are
   * written: past the count they are left out (counted in the record's dropped_attributes_count),
   * strings (and strings in arrays) are cut at the length. mqtt.payload has its own limit,
   * --log-payload-bytes.
   */
  private attr(key: LogAttributeKey, v: LogAttributeValue): void {
    this.put(key, v);
  }

  private put(key: string, v: LogAttributeValue): void {
    if (this.attrCount >= this.countLimit) {
      this.attrDropped++;
      return;
    }
    this.attrCount++;
    const max = this.lengthLimit;
    if (typeof v === 'string') {
      if (v.length > max && key !== 'mqtt.payload') v = v.slice(0, max);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === 'string' && x.length > max) (v as unknown[])[i] = x.slice(0, max);
      }
    }
    this.b.attribute(key, v);
  }

  private user(username: string): void {
    if (username !== '') this.attr('user.name', username);
  }

  private session(id: string): void {
    if (id !== '') this.attr('mqtt.session.id', id);
  }

  private peerText(addr: string, port: number): string {
    const red = this.redactor;
    if (red?.peer) {
      const a = red.apply(addr);
      return a === '' ? 'a redacted address' : a;
    }
    if (addr === '') return port > 0 ? `an unknown address (port ${port})` : 'an unknown address';
    return formatHostPort(addr, port);
  }

  /** client.address/port: with --redact peer, the hashed address (the port alone says nothing), or neither. */
  private peer(addr: string, port: number): void {
    const red = this.redactor;
    if (red?.peer) {
      const a = red.apply(addr);
      if (a !== '') this.attr('client.address', a);
      return;
    }
    if (addr !== '') this.attr('client.address', addr);
    if (port !== 0) this.attr('client.port', port);
  }

  /** `qosKey`: on_deliver reports the subscription's QoS, the other hooks the message's. */
  private message(topic: string, qos: number, payload: Uint8Array, acl: MatchedAcl | null, qosKey: LogAttributeKey = 'mqtt.qos'): void {
    this.attr('messaging.destination.name', topic);
    this.attr(qosKey, qos);
    this.attr('messaging.message.body.size', payload.length);
    if (acl !== null && acl.name !== '') this.attr('mqtt.acl.name', acl.name);
    const template = acl !== null && acl.pattern !== '' ? acl.pattern : this.templates?.match(topic);
    if (template) this.attr('messaging.destination.template', template);
    const max = this.options.payloadMaxBytes;
    if (max > 0 && payload.length > 0) {
      const part = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.length, max));
      const text = part.toString('utf8');
      // Valid UTF-8 round-trips; anything else (or a cut inside a character) goes as base64.
      const utf8 = Buffer.byteLength(text, 'utf8') === part.length && !text.includes('\ufffd');
      this.attr('mqtt.payload', utf8 ? text : part.toString('base64'));
      this.attr('mqtt.payload.encoding', utf8 ? 'utf8' : 'base64');
      if (payload.length > max) this.attr('mqtt.payload.truncated', true);
    }
  }

  /**
   * User properties (CONNECT, MQTT 5 PUBLISH) are chosen by the client (an auth_token, say): only allowlisted keys
   * (--log-user-properties) are copied, at most MAX_USER_PROPERTIES of them. Two keys that are
   * the same once cut at MAX_USER_PROPERTY_CHARS give one attribute, the first.
   */
  private userProperties(props: Record<string, string>): number {
    const allowed = this.allowedKeys;
    let n = 0;
    let over = 0;
    const seen = new Set<string>();
    // With an allowlist, its few keys are looked up: a CONNECT with a million properties costs
    // no more than one with two.
    const keys: Iterable<string> = allowed ?? Object.keys(props);
    for (const k of keys) {
      if (allowed !== null && !Object.prototype.hasOwnProperty.call(props, k)) continue;
      const key = k.length > MAX_USER_PROPERTY_CHARS ? k.slice(0, MAX_USER_PROPERTY_CHARS) : k;
      if (seen.has(key)) continue;
      seen.add(key);
      if (n >= MAX_USER_PROPERTIES) {
        over++;
        continue;
      }
      n++;
      this.put(`${USER_PROPERTY_PREFIX}${key}`, props[k]!.slice(0, MAX_USER_PROPERTY_CHARS));
    }
    if (over > 0) this.attr('mqtt.user_properties.dropped', over);
    return over;
  }
}
