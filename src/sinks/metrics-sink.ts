/**
 * Events -> MQTT counters and histograms (the gauges are the session tracker's). Every update
 * is a lookup by bounded attribute values (metric-store.ts) plus an addition.
 */
import type { EventSink } from './event-sink.js';
import { unhandledHook } from '../events/unhandled-hook.js';
import type { MatchedAcl, SidecarEvent } from '../events/event-types.js';
import { MQTT_METRICS, SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { HistogramSeries, MetricStore } from '../metrics/metric-store.js';
import { BoundedValues, INVALID_VALUE, type ClientGroup, type GrantedQos, type Qos } from '../metrics/bounded-values.js';
import type { ClientGrouper } from '../metrics/client-grouper.js';
import type { AttributeFolding } from '../metrics/attribute-folding.js';
import { TopicGrouper, type TopicGroupPattern } from '../metrics/topic-grouper.js';
import type { Host } from '../host.js';
import type { Component } from '../lifecycle/component.js';

/** The event delay histogram records at most this (a day), and counts what it clamped. */
export const MAX_RECORDED_DELAY_S = 86_400;

export interface MetricsSinkOptions {
  topicGroups: readonly TopicGroupPattern[];
  maxTopicGroups: number;
  maxDropReasons: number;
}

/** The MQTT metrics' families (one store call each, in catalog order) and the event delay's. */
function mqttFamilies(store: MetricStore) {
  const M = MQTT_METRICS;
  return {
    registrations: store.sum(M.registrations),
    registrationFailures: store.sum(M.registrationFailures),
    disconnects: store.sum(M.disconnects),
    expirations: store.sum(M.expirations),
    published: store.sum(M.published),
    payloadSize: store.histogram(M.payloadSize),
    delivered: store.sum(M.delivered),
    deliveryDuration: store.histogram(M.deliveryDuration),
    deliveryCompleted: store.sum(M.deliveryCompleted),
    queuedOffline: store.sum(M.queuedOffline),
    dropped: store.sum(M.dropped),
    subscriptions: store.sum(M.subscriptions),
    unsubscriptions: store.sum(M.unsubscriptions),
    eventDelay: store.histogram(SIDECAR_METRICS.eventDelay),
    eventDelayClamped: store.sum(SIDECAR_METRICS.eventDelayClamped),
  };
}

export class MetricsSink implements EventSink, Component {
  readonly dropReasons: BoundedValues<'error.type'>;
  readonly topicGroupNames: BoundedValues<'mqtt.topic.group'>;
  private readonly grouper: TopicGrouper;
  /** The host's mountpoints and client groups (one sighting per event, whichever outputs read them). */
  private readonly attributes: AttributeFolding;
  /** The host's --client-groups grouper; null without patterns (the attribute is then absent). */
  private readonly clientGrouper: ClientGrouper | null;
  /** Events whose QoS was outside the protocol's domain (recorded as "invalid"). */
  invalidQos = 0;
  /** Events whose delay was beyond MAX_RECORDED_DELAY_S either way (recorded clamped). */
  clampedDelays = 0;

  /** The families this sink records into, typed from the catalog (registerMetrics, before any event). */
  private m!: ReturnType<typeof mqttFamilies>;

  constructor(host: Pick<Host, 'attributes'>, options: MetricsSinkOptions) {
    this.attributes = host.attributes;
    this.clientGrouper = host.attributes.clientGrouper;
    this.dropReasons = new BoundedValues('error.type', options.maxDropReasons);
    this.topicGroupNames = new BoundedValues('mqtt.topic.group', options.maxTopicGroups);
    this.grouper = new TopicGrouper(options.topicGroups, this.topicGroupNames);
    // Folded and invalid values are reported by the host's service, beside the mountpoints.
    host.attributes.report(this.dropReasons);
    host.attributes.report(this.topicGroupNames);
    const sink = this;
    host.attributes.report({
      attribute: 'mqtt.qos',
      folded: 0,
      get invalid() {
        return sink.invalidQos;
      },
    });
  }

  registerMetrics(store: MetricStore): void {
    this.m = mqttFamilies(store);
    // The zero series from the start: a rate reads 0, not "no data", before the first clamp.
    this.m.eventDelayClamped.get();
  }

  /**
   * The mqtt.message.delivery.duration series of a delivery (the span sink records into it once
   * the broker receipt time is known): by topic group and subscription QoS, as mqtt.message.delivered.
   */
  deliveryDurationSeries(acl: MatchedAcl | null, topic: string, subscriptionQos: number): HistogramSeries {
    return this.m.deliveryDuration.get(this.grouper.group(acl, topic), this.qos(subscriptionQos));
  }

  /** A message's QoS as attribute value: 0, 1, 2, or "invalid" (counted). */
  private qos(q: number): Qos {
    if (q === 0 || q === 1 || q === 2) return q;
    this.invalidQos++;
    return INVALID_VALUE;
  }

  /** A subscription's QoS: as qos(), plus 128 (refused). */
  private grantedQos(q: number): GrantedQos {
    return q === 128 ? q : this.qos(q);
  }

  /**
   * mqtt.client.group, or "" (absent) without --client-groups. `username` undefined: the event
   * carries none (the grouper uses the one it saw last for the client id). The grouper hands out
   * only configured names and "ungrouped": bounded by construction.
   */
  private cg(clientId: string, username?: string): ClientGroup {
    const g = this.clientGrouper;
    return g === null ? '' : (g.group(clientId, username) as ClientGroup);
  }

  consume(e: SidecarEvent, arrivalMs: number): void {
    const m = this.m;
    if (!e.timeMissing) {
      const delay = (arrivalMs - e.timeSec * 1000) / 1000 - e.timeNanos / 1e9;
      // A small negative delay is clock skew (0); beyond a day either way the timestamp is not
      // the event's time (one ancient timestamp made the _sum 9.22e18 for the process's life).
      if (delay > 0 && delay <= MAX_RECORDED_DELAY_S) m.eventDelay.get().record(delay);
      else if (delay >= -MAX_RECORDED_DELAY_S && delay <= 0) m.eventDelay.get().record(0);
      else {
        this.clampedDelays++;
        m.eventDelayClamped.get().value++;
        m.eventDelay.get().record(delay > 0 ? MAX_RECORDED_DELAY_S : 0);
      }
    }
    const mp = this.attributes.mountpointOf(e);
    switch (e.hook) {
      case 'on_publish': {
        const group = this.grouper.group(e.matchedAcl, e.topic);
        const qos = this.qos(e.qos);
        m.published.get(mp, qos, e.retain, group, this.cg(e.clientId, e.username), e.protocolVersion ?? '').value++;
        m.payloadSize.get(qos, group).record(e.payload.length);
        break;
      }
      case 'on_deliver':
        m.delivered.get(mp, this.qos(e.qos), this.grouper.group(e.matchedAcl, e.topic), e.persisted, this.cg(e.clientId, e.username), e.protocolVersion ?? '').value++;
        break;
      case 'on_delivery_complete':
        m.deliveryCompleted.get(mp, this.qos(e.qos), this.grouper.group(e.matchedAcl, e.topic), this.cg(e.clientId, e.username)).value++;
        break;
      case 'on_offline_message':
        m.queuedOffline.get(mp, this.qos(e.qos), this.grouper.group(null, e.topic), this.cg(e.clientId)).value++;
        break;
      case 'on_message_drop':
        m.dropped.get(mp, this.qos(e.qos), this.dropReasons.fold(e.reason), this.grouper.group(e.matchedAcl, e.topic), this.cg(e.clientId)).value++;
        break;
      case 'on_register':
        m.registrations.get(mp, this.cg(e.clientId, e.username), e.protocolVersion ?? '').value++;
        break;
      case 'on_register_failed':
        m.registrationFailures.get(mp, e.reasonName, this.cg(e.clientId, e.username)).value++;
        break;
      case 'on_client_offline':
        m.disconnects.get(mp, e.reasonName, true, this.cg(e.clientId, e.username)).value++;
        break;
      case 'on_client_gone':
        m.disconnects.get(mp, e.reasonName, false, this.cg(e.clientId, e.username)).value++;
        break;
      case 'on_session_expired':
        m.expirations.get(mp).value++;
        break;
      case 'on_subscribe': {
        const version = e.protocolVersion ?? '';
        for (const t of e.topics) {
          m.subscriptions.get(mp, this.grantedQos(t.qos), t.qos === 128 ? 'refused' : '', this.grouper.group(t.matchedAcl, t.topic), version).value++;
        }
        break;
      }
      case 'on_unsubscribe':
        // Topics past the decoder's cap were not decoded but were unsubscribed all the same.
        m.unsubscriptions.get(mp, e.protocolVersion ?? '').value += e.topics.length + e.truncatedItems;
        break;
      case 'on_client_wakeup':
        break;
      default:
        // A hook without a case here does not compile (unhandledHook takes never).
        unhandledHook(e);
    }
  }
}
