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

export interface LogSinkOptions {
  /** Sampling ratio per hook, 0 (off) to 1 (every event). */
  ratios: Partial<Record<HookName, number>>;
  /** Log message events that carry trace context even when their hook is off or sampled out. */
  tracedMessages: boolean;
  traceContextField: string;
  /** Copy payloads into records (UTF-8 when valid, else base64), up to this many bytes; 0 = never. */
  payloadMaxBytes: number;
}

/** Where finished records go (the export queue). */
export type LogRecordOutput = (record: ReadableLogRecord) => void;

/** One log record; a class so that every record has the same object shape. */
class EventLogRecord implements ReadableLogRecord {
  readonly droppedAttributesCount = 0;
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
    const attrs: LogAttributes = { 'messaging.system': 'mqtt', 'messaging.client.id': e.clientId };
    // Absent for the default mountpoint, like user.name for a client without username.
    if (e.mountpoint !== '') attrs['mqtt.mountpoint'] = e.mountpoint;
    let severity = INFO;
    let body: string;
    switch (e.hook) {
      case 'on_register':
        body = `client ${e.clientId} connected from ${e.peerAddr || 'an unknown address'}:${e.peerPort}`;
        peer(attrs, e.peerAddr, e.peerPort);
        user(attrs, e.username);
        session(attrs, e.sessionId);
        this.userProperties(attrs, e.userProperties);
        break;
      case 'on_register_failed':
        severity = WARN;
        body = `client ${e.clientId} refused: ${e.reasonName}`;
        peer(attrs, e.peerAddr, e.peerPort);
        user(attrs, e.username);
        attrs['mqtt.failure.reason'] = e.reasonName;
        attrs['mqtt.clean_session'] = e.cleanSession;
        break;
      case 'on_client_wakeup':
        body = `client ${e.clientId} attached to its session`;
        session(attrs, e.sessionId);
        break;
      case 'on_client_offline':
      case 'on_client_gone': {
        const kept = e.hook === 'on_client_offline';
        if (!NORMAL_DISCONNECT_REASONS.has(e.reasonName)) severity = WARN;
        body = `client ${e.clientId} ${kept ? 'went offline' : 'disconnected'} (${e.reasonName}); session ${kept ? 'kept' : 'removed'}`;
        user(attrs, e.username);
        session(attrs, e.sessionId);
        attrs['mqtt.disconnect.reason'] = e.reasonName;
        attrs['mqtt.session.persistent'] = kept;
        break;
      }
      case 'on_session_expired':
        body = `session of client ${e.clientId} expired`;
        session(attrs, e.sessionId);
        break;
      case 'on_subscribe': {
        const refused = e.topics.filter((t) => t.qos === 128).length;
        body = `client ${e.clientId} subscribed to ${e.topics.length} topic filter(s)${refused > 0 ? `, ${refused} refused` : ''}`;
        if (refused > 0) severity = WARN;
        user(attrs, e.username);
        session(attrs, e.sessionId);
        attrs['mqtt.subscription.topics'] = e.topics.map((t) => t.topic);
        attrs['mqtt.subscription.qos'] = e.topics.map((t) => t.qos);
        break;
      }
      case 'on_unsubscribe':
        body = `client ${e.clientId} unsubscribed from ${e.topics.length} topic filter(s)`;
        user(attrs, e.username);
        session(attrs, e.sessionId);
        attrs['mqtt.subscription.topics'] = e.topics.slice();
        break;
      case 'on_publish':
        body = `client ${e.clientId} published to ${e.topic} (qos ${e.qos}, ${e.payload.length} bytes)`;
        user(attrs, e.username);
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, e.matchedAcl);
        attrs['mqtt.retain'] = e.retain;
        break;
      case 'on_deliver':
      case 'on_delivery_complete':
        body = e.hook === 'on_deliver' ? `message on ${e.topic} delivered to ${e.clientId}` : `delivery of message on ${e.topic} to ${e.clientId} complete`;
        user(attrs, e.username);
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, e.matchedAcl, e.hook === 'on_deliver' ? 'mqtt.subscription.qos' : 'mqtt.qos');
        attrs['mqtt.retain'] = e.isRetain;
        attrs['mqtt.persisted'] = e.persisted;
        break;
      case 'on_offline_message':
        body = `message on ${e.topic} queued for offline client ${e.clientId}`;
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, null);
        attrs['mqtt.retain'] = e.retain;
        break;
      case 'on_message_drop':
        severity = WARN;
        body = `message on ${e.topic} for ${e.clientId} dropped: ${e.reason}`;
        session(attrs, e.sessionId);
        this.message(attrs, e.topic, e.qos, e.payload, e.matchedAcl);
        attrs['mqtt.drop.reason'] = e.reason;
        break;
    }
    const spanContext: SpanContext | undefined =
      ctx === null ? undefined : { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: ctx.traceFlags, isRemote: true, traceState: undefined };
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
      ),
    );
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

  private userProperties(attrs: LogAttributes, props: Record<string, string>): void {
    let n = 0;
    for (const k in props) {
      if (n++ >= MAX_USER_PROPERTIES) {
        attrs['mqtt.user_properties.dropped'] = Object.keys(props).length - MAX_USER_PROPERTIES;
        break;
      }
      attrs[`mqtt.user_property.${k.slice(0, MAX_USER_PROPERTY_CHARS)}`] = props[k]!.slice(0, MAX_USER_PROPERTY_CHARS);
    }
  }
}

function peer(attrs: LogAttributes, addr: string, port: number): void {
  if (addr !== '') attrs['network.peer.address'] = addr;
  if (port !== 0) attrs['network.peer.port'] = port;
}

function user(attrs: LogAttributes, username: string): void {
  if (username !== '') attrs['user.name'] = username;
}

function session(attrs: LogAttributes, id: string): void {
  if (id !== '') attrs['mqtt.session.id'] = id;
}
