/**
 * Events of traced messages -> spans of the broker's hop, in the publisher's trace:
 *
 * - on_publish: a receipt span (kind CONSUMER), child of the publisher's span (the
 *   traceparent's span id), an instant at the broker's receipt time;
 * - on_deliver: a delivery span (kind PRODUCER) per subscriber, child of the receipt span, from
 *   the receipt time to the delivery time: the broker hop for that subscriber;
 * - on_delivery_complete (QoS 1/2): an event on the delivery span.
 *
 * Only messages whose traceparent is sampled make spans; every message with trace context (sampled
 * or not) feeds mqtt.message.delivery.duration when its receipt time is known.
 *
 * Ids need no shared state (traces/span-ids.ts). Times are the broker's. What needs state is
 * kept in four maps, each in arrival order with one lifetime per map, so expiry walks from the
 * head and stops at the first entry still alive:
 *
 * - receipts: receipt time of a message, kept --trace-receipt-retention for its deliveries;
 * - waiting: deliveries that arrived before their publish (the plugin's pool reorders), held
 *   --trace-reorder-window; past it they are exported without a receipt time;
 * - held: QoS 1/2 delivery spans waiting for their completion, --trace-completion-wait; past
 *   it they are exported without one;
 * - completions: completions that arrived before their delivery, --trace-reorder-window.
 *
 * Together they are bounded in entries and in (estimated) bytes: past either bound the oldest
 * entry of any map goes first (a receipt or early completion is forgotten, a waiting or held
 * delivery is exported as it is), counted by kind.
 */
import type { EventSink } from './event-sink.js';
import type { Component } from '../lifecycle/component.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { DeliverEvent, DeliveryCompleteEvent, HookName, MatchedAcl, PublishEvent, SidecarEvent } from '../events/event-types.js';
import { PayloadTraceFinder, type TraceContext, type TracedMessage } from './trace-context.js';
import { Redactor, type RedactOptions } from './redaction.js';
import { TopicTemplates, type TopicGroupPattern } from '../metrics/topic-grouper.js';
import { BrokerSpan, FLAG_HAS_IS_REMOTE, FLAG_PARENT_REMOTE, millisBetween, SPAN_KIND_CONSUMER, SPAN_KIND_PRODUCER, type SpanAttributeValue } from '../traces/broker-span.js';
import { deliverySpanId, receiptSpanId } from '../traces/span-ids.js';

export const TRACE_STATE_KINDS = ['receipt', 'waiting_delivery', 'held_delivery', 'early_completion'] as const;
export type TraceStateKind = (typeof TRACE_STATE_KINDS)[number];

/** Where the delivery durations go: a histogram series per delivery (metrics-sink.ts). */
export interface DeliveryDurationSeries {
  record(seconds: number): void;
}

export interface SpanSinkOptions {
  traceContextField: string;
  /** Deliveries that arrive before their publish, and completions before their delivery, are held this long. */
  reorderWindowMs: number;
  /** QoS 1/2 delivery spans wait this long for their completion. */
  completionWaitMs: number;
  /** Receipt times are kept this long for deliveries still to come. */
  receiptRetentionMs: number;
  maxEntries: number;
  maxBytes: number;
  /** --redact: messaging.client.id hashed or left out, as on log records. */
  redact?: RedactOptions | null;
  /** The log sink's hasher, so that a client's hash is the same on its spans and its records. */
  redactor?: Redactor | null;
  /** --topic-groups: messaging.destination.template when the broker sends no ACL pattern. */
  topicGroups?: readonly TopicGroupPattern[];
  /** The histogram series of a delivery (topic group, subscription QoS); absent: no metric. */
  durationSeries?: ((acl: MatchedAcl | null, topic: string, subscriptionQos: number) => DeliveryDurationSeries) | null;
}

/** What a span sink hands its finished spans to (the span export queue). */
export type SpanOutput = (span: BrokerSpan) => void;

const RECEIPT_BYTES = 200;
const COMPLETION_BYTES = 200;
/** A delivery's fixed share (span object, attribute object, map entry); strings are added. */
const DELIVERY_BYTES = 600;

const COMPLETE_EVENT = 'vernemq.on_delivery_complete';

interface Receipt {
  at: number;
  sec: number;
  nanos: number;
  qos: number;
  /** The publish's destination template (its matched ACL's pattern, else --topic-groups). */
  template: string | null;
  /** Estimated bytes held for it (the template counts: an ACL pattern comes from the broker). */
  bytes: number;
}

/** A delivery whose publish has not been seen (yet). */
interface WaitingDelivery {
  at: number;
  /** null: unsampled, only the duration is wanted. */
  span: BrokerSpan | null;
  clientId: string;
  subscriptionQos: number;
  /** False for MQTT 5 sessions: no on_delivery_complete is ever sent for them (no _m5 hook). */
  completes: boolean;
  /** Broker time of the delivery. */
  sec: number;
  nanos: number;
  series: DeliveryDurationSeries | null;
  bytes: number;
}

interface HeldDelivery {
  at: number;
  span: BrokerSpan;
  bytes: number;
}

interface EarlyCompletion {
  at: number;
  sec: number;
  nanos: number;
  qos: number;
}

export class SpanSink implements EventSink, Component {
  readonly hooks: readonly HookName[] = ['on_publish', 'on_deliver', 'on_delivery_complete'];
  /** Spans handed to the output, and of those the delivery spans without a receipt time. */
  spans = 0;
  receiptUnknown = 0;
  readonly evicted: Record<TraceStateKind, number> = { receipt: 0, waiting_delivery: 0, held_delivery: 0, early_completion: 0 };

  private readonly finder: PayloadTraceFinder;
  private readonly redactor: Redactor | null;
  private readonly templates: TopicTemplates | null;
  /** Keyed by trace id + receipt span id. */
  private readonly receipts = new Map<string, Receipt>();
  /** Keyed by trace id + receipt span id: the message's deliveries seen before it. */
  private readonly waiting = new Map<string, WaitingDelivery[]>();
  /** Keyed by trace id + receipt span id + client id. */
  private readonly held = new Map<string, HeldDelivery>();
  private readonly completions = new Map<string, EarlyCompletion>();
  private waitingCount = 0;
  private bytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly output: SpanOutput,
    private readonly options: SpanSinkOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.finder = new PayloadTraceFinder(options.traceContextField);
    const hashes = options.redact && options.redact.fields.includes('client_id');
    this.redactor = hashes ? (options.redactor ?? new Redactor(options.redact!)) : null;
    this.templates = options.topicGroups && options.topicGroups.length > 0 ? new TopicTemplates(options.topicGroups) : null;
    // Expiry is checked a few times per shortest lifetime: a held span leaves at most a quarter late.
    const tick = Math.max(20, Math.min(1000, Math.floor(Math.min(options.reorderWindowMs, options.completionWaitMs) / 4)));
    this.timer = setInterval(() => this.expire(), tick);
    this.timer.unref();
  }

  /** Entries held now, all maps together. */
  get entries(): number {
    return this.receipts.size + this.waitingCount + this.held.size + this.completions.size;
  }

  /** Estimated bytes held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Its part of /status. */
  /** The span state's own figures (docs/traces.md), set at each collection. */
  registerMetrics(store: MetricStore): void {
    const M = SIDECAR_METRICS;
    const entries = store.gauge(M.traceStateEntries);
    const evicted = store.sum(M.traceStateEvicted);
    const unknown = store.sum(M.deliveriesWithoutReceipt);
    store.onCollect(() => {
      entries.get().value = this.entries;
      for (const k of TRACE_STATE_KINDS) evicted.get(k).value = this.evicted[k];
      unknown.get().value = this.receiptUnknown;
    });
  }

  status(): { spans: { produced: number; stateEntries: number; stateBytes: number; receiptUnknown: number; evicted: Record<TraceStateKind, number> } } {
    return { spans: { produced: this.spans, stateEntries: this.entries, stateBytes: this.heldBytes, receiptUnknown: this.receiptUnknown, evicted: this.evicted } };
  }

  consume(e: SidecarEvent, _arrivalMs: number): void {
    if (e.hook !== 'on_publish' && e.hook !== 'on_deliver' && e.hook !== 'on_delivery_complete') return;
    // The one place trace context is read from a message event (the log sink reads it the same way).
    // MQTT 5 events of the companion carry it in user properties, MQTT 3.1.1 ones in the payload.
    const ctx = this.finder.find(e as TracedMessage);
    if (ctx === null) return;
    const receiptId = receiptSpanId(ctx.traceId, ctx.spanId, e.topic, e.payload);
    const key = ctx.traceId + receiptId;
    if (e.hook === 'on_publish') this.publish(e, ctx, receiptId, key);
    else if (e.hook === 'on_deliver') this.deliver(e, ctx, receiptId, key);
    else this.complete(e, key);
  }

  /** Exports what is held as it is (waiting deliveries without receipt time, held ones without completion). */
  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.expire(Infinity);
  }

  private sampled(ctx: TraceContext): boolean {
    return (ctx.traceFlags & 1) === 1;
  }

  private clientId(id: string): string | null {
    const red = this.redactor;
    if (red === null) return id;
    const v = red.apply(id);
    return v === '' ? null : v;
  }

  private baseAttributes(operationType: string, operationName: string, e: PublishEvent | DeliverEvent, template: string | null): Record<string, SpanAttributeValue> {
    const a: Record<string, SpanAttributeValue> = {
      'messaging.system': 'mqtt',
      'messaging.operation.type': operationType,
      'messaging.operation.name': operationName,
      'messaging.destination.name': e.topic,
    };
    if (template !== null) a['messaging.destination.template'] = template;
    const id = this.clientId(e.clientId);
    if (id !== null) a['messaging.client.id'] = id;
    a['messaging.message.body.size'] = e.payload.length;
    if (e.mountpoint !== '') a['mqtt.mountpoint'] = e.mountpoint;
    return a;
  }

  private template(acl: MatchedAcl | null, topic: string): string | null {
    if (acl !== null && acl.pattern !== '') return acl.pattern;
    return this.templates?.match(topic) ?? null;
  }

  private publish(e: PublishEvent, ctx: TraceContext, receiptId: string, key: string): void {
    const now = this.now();
    // A publish seen twice (a retry, or the same payload published again under one span) has one
    // receipt span: its id is the same, and the first receipt time counts.
    const seen = this.receipts.has(key);
    if (this.sampled(ctx) && !seen) {
      const template = this.template(e.matchedAcl, e.topic);
      const attrs = this.baseAttributes('receive', 'receive', e, template);
      attrs['mqtt.qos'] = e.qos;
      attrs['mqtt.retain'] = e.retain;
      const flags = (ctx.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | FLAG_PARENT_REMOTE;
      const name = template !== null ? `receive ${template}` : 'receive';
      this.emit(new BrokerSpan(ctx.traceId, receiptId, ctx.spanId, ctx.traceState ?? '', flags, name, SPAN_KIND_CONSUMER, e.timeSec, e.timeNanos, e.timeSec, e.timeNanos, attrs));
    }
    // Its deliveries that came first leave the waiting map before room is made for the receipt.
    const early = this.waiting.get(key);
    if (early !== undefined) {
      this.waiting.delete(key);
      this.waitingCount -= early.length;
      for (const w of early) this.bytes -= w.bytes;
    }
    let receipt = this.receipts.get(key);
    if (receipt === undefined) {
      const template = this.template(e.matchedAcl, e.topic);
      const bytes = RECEIPT_BYTES + 2 * (template?.length ?? 0);
      receipt = { at: now, sec: e.timeSec, nanos: e.timeNanos, qos: e.qos, template, bytes };
      this.makeRoom(bytes);
      this.receipts.set(key, receipt);
      this.bytes += bytes;
    }
    if (early !== undefined) for (const w of early) this.delivered(w.span, w.series, key, w.clientId, w.subscriptionQos, w.completes, w.sec, w.nanos, receipt, now);
  }

  private deliver(e: DeliverEvent, ctx: TraceContext, receiptId: string, key: string): void {
    const now = this.now();
    const series = this.options.durationSeries?.(e.matchedAcl, e.topic, e.qos) ?? null;
    let span: BrokerSpan | null = null;
    if (this.sampled(ctx)) {
      const template = this.template(e.matchedAcl, e.topic);
      const attrs = this.baseAttributes('send', 'deliver', e, template);
      attrs['mqtt.subscription.qos'] = e.qos;
      attrs['mqtt.retain'] = e.isRetain;
      attrs['mqtt.persisted'] = e.persisted;
      const id = deliverySpanId(receiptId, e.clientId);
      const flags = (ctx.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE;
      const name = template !== null ? `deliver ${template}` : 'deliver';
      // Start and end are the delivery time until the receipt time is known.
      span = new BrokerSpan(ctx.traceId, id, receiptId, ctx.traceState ?? '', flags, name, SPAN_KIND_PRODUCER, e.timeSec, e.timeNanos, e.timeSec, e.timeNanos, attrs);
    } else if (series === null) {
      return;
    }
    const receipt = this.receipts.get(key);
    if (receipt !== undefined) {
      this.delivered(span, series, key, e.clientId, e.qos, e.protocolVersion !== '5', e.timeSec, e.timeNanos, receipt, now);
      return;
    }
    // Not seen (yet): the publish may be behind it in the pool, or elsewhere. A delivery from the
    // offline store comes long after its publish: nothing to wait for.
    if (e.persisted) {
      if (span !== null) this.withoutReceipt(span, key, e.clientId);
      return;
    }
    const bytes = DELIVERY_BYTES + 2 * (e.clientId.length + e.topic.length);
    this.makeRoom(bytes);
    const w: WaitingDelivery = { at: now, span, clientId: e.clientId, subscriptionQos: e.qos, completes: e.protocolVersion !== '5', sec: e.timeSec, nanos: e.timeNanos, series, bytes };
    const list = this.waiting.get(key);
    if (list === undefined) this.waiting.set(key, [w]);
    else list.push(w);
    this.waitingCount++;
    this.bytes += bytes;
  }

  /** A delivery whose receipt time is known: its duration, then its span (held for a completion at QoS 1/2). */
  private delivered(
    span: BrokerSpan | null,
    series: DeliveryDurationSeries | null,
    key: string,
    clientId: string,
    subscriptionQos: number,
    completes: boolean,
    sec: number,
    nanos: number,
    receipt: Receipt,
    now: number,
  ): void {
    const ms = millisBetween(receipt.sec, receipt.nanos, sec, nanos);
    // Broker clocks only, but a cluster's nodes each have their own: never a negative duration.
    series?.record(ms > 0 ? ms / 1000 : 0);
    if (span === null) return;
    // A delivery "before" its receipt (another node's clock) starts at the delivery.
    if (ms >= 0) {
      span.startSec = receipt.sec;
      span.startNanos = receipt.nanos;
    }
    span.attributes['vmq_sidecar.receipt_time_known'] = true;
    // The broker names the ACL but not its pattern on deliveries (acl_pattern ""): the publish's
    // template, so that the delivery span is named like its receipt span.
    if (receipt.template !== null && span.attributes['messaging.destination.template'] === undefined) {
      span.attributes['messaging.destination.template'] = receipt.template;
      span.name = `deliver ${receipt.template}`;
    }
    // The QoS the message travels with to this subscriber: a completion comes only above 0.
    if (completes && Math.min(receipt.qos, subscriptionQos) > 0) this.awaitCompletion(span, key + clientId, now);
    else this.emit(span);
  }

  private awaitCompletion(span: BrokerSpan, key: string, now: number): void {
    const early = this.completions.get(key);
    if (early !== undefined) {
      this.completions.delete(key);
      this.bytes -= COMPLETION_BYTES;
      this.completed(span, early.sec, early.nanos, early.qos);
      return;
    }
    const previous = this.held.get(key);
    if (previous !== undefined) {
      // A second delivery of the message to the same client (overlapping subscriptions): the first goes as it is.
      this.held.delete(key);
      this.bytes -= previous.bytes;
      this.uncompleted(previous.span);
    }
    const bytes = DELIVERY_BYTES + 2 * (key.length + span.name.length);
    this.makeRoom(bytes);
    this.held.set(key, { at: now, span, bytes });
    this.bytes += bytes;
  }

  private complete(e: DeliveryCompleteEvent, key: string): void {
    const k = key + e.clientId;
    const h = this.held.get(k);
    if (h !== undefined) {
      this.held.delete(k);
      this.bytes -= h.bytes;
      this.completed(h.span, e.timeSec, e.timeNanos, e.qos);
      return;
    }
    // Before its delivery (pool reordering), or after the delivery span left: kept for the reorder window.
    if (this.completions.has(k)) return;
    const now = this.now();
    this.makeRoom(COMPLETION_BYTES);
    this.completions.set(k, { at: now, sec: e.timeSec, nanos: e.timeNanos, qos: e.qos });
    this.bytes += COMPLETION_BYTES;
  }

  private completed(span: BrokerSpan, sec: number, nanos: number, qos: number): void {
    span.events = [{ name: COMPLETE_EVENT, timeSec: sec, timeNanos: nanos, attributes: { 'mqtt.qos': qos } }];
    span.attributes['mqtt.delivery.completed'] = true;
    this.emit(span);
  }

  private uncompleted(span: BrokerSpan): void {
    span.attributes['mqtt.delivery.completed'] = false;
    this.emit(span);
  }

  /** A delivery exported without a receipt time: an instant at the delivery (docs/traces.md). */
  private withoutReceipt(span: BrokerSpan | null, key: string, clientId: string): void {
    if (span === null) return;
    this.receiptUnknown++;
    span.attributes['vmq_sidecar.receipt_time_known'] = false;
    const k = key + clientId;
    const early = this.completions.get(k);
    if (early !== undefined) {
      this.completions.delete(k);
      this.bytes -= COMPLETION_BYTES;
      this.completed(span, early.sec, early.nanos, early.qos);
    } else {
      this.emit(span);
    }
  }

  private emit(span: BrokerSpan): void {
    this.spans++;
    this.output(span);
  }

  /** Drops or exports what has outlived its map's lifetime (everything, with `at` Infinity). */
  expire(at = this.now()): void {
    const o = this.options;
    for (const [k, w] of this.waiting) {
      if (w[0]!.at + o.reorderWindowMs > at) break;
      this.waiting.delete(k);
      this.waitingCount -= w.length;
      for (const d of w) {
        this.bytes -= d.bytes;
        this.withoutReceipt(d.span, k, d.clientId);
      }
    }
    for (const [k, h] of this.held) {
      if (h.at + o.completionWaitMs > at) break;
      this.held.delete(k);
      this.bytes -= h.bytes;
      this.uncompleted(h.span);
    }
    for (const [k, c] of this.completions) {
      if (c.at + o.reorderWindowMs > at) break;
      this.completions.delete(k);
      this.bytes -= COMPLETION_BYTES;
    }
    for (const [k, r] of this.receipts) {
      if (r.at + o.receiptRetentionMs > at) break;
      this.receipts.delete(k);
      this.bytes -= r.bytes;
    }
  }

  /** Past a bound, the oldest entry of any map goes: forgotten, or exported as it is. */
  private makeRoom(bytes: number): void {
    const o = this.options;
    while (this.entries > 0 && (this.entries + 1 > o.maxEntries || this.bytes + bytes > o.maxBytes)) {
      const r = first(this.receipts);
      const w = first(this.waiting);
      const h = first(this.held);
      const c = first(this.completions);
      let oldest = Infinity;
      for (const x of [r, w, h, c]) if (x !== undefined && atOf(x[1]) < oldest) oldest = atOf(x[1]);
      if (r !== undefined && r[1].at === oldest) {
        this.receipts.delete(r[0]);
        this.bytes -= r[1].bytes;
        this.evicted.receipt++;
      } else if (w !== undefined && w[1][0]!.at === oldest) {
        this.waiting.delete(w[0]);
        this.waitingCount -= w[1].length;
        for (const d of w[1]) {
          this.bytes -= d.bytes;
          this.evicted.waiting_delivery++;
          this.withoutReceipt(d.span, w[0], d.clientId);
        }
      } else if (h !== undefined && h[1].at === oldest) {
        this.held.delete(h[0]);
        this.bytes -= h[1].bytes;
        this.evicted.held_delivery++;
        this.uncompleted(h[1].span);
      } else if (c !== undefined) {
        this.completions.delete(c[0]);
        this.bytes -= COMPLETION_BYTES;
        this.evicted.early_completion++;
      }
    }
  }
}

function first<V>(m: Map<string, V>): [string, V] | undefined {
  for (const e of m) return e;
  return undefined;
}

function atOf(v: { at: number } | WaitingDelivery[]): number {
  return Array.isArray(v) ? v[0]!.at : v.at;
}
