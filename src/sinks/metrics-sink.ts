/**
 * Events -> MQTT counters and histograms (the gauges are the session tracker's). Every update
 * is a map lookup by a key built from bounded attribute values plus an addition.
 */
import type { EventSink } from './event-sink.js';
import type { SidecarEvent } from '../events/event-types.js';
import { MQTT_METRICS, SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import { KEY_SEP, type HistogramFamily, type MetricStore, type SumFamily } from '../metrics/metric-store.js';
import { BoundedValues } from '../metrics/bounded-values.js';
import { TopicGrouper, type TopicGroupPattern } from '../metrics/topic-grouper.js';

export interface MetricsSinkOptions {
  topicGroups: readonly TopicGroupPattern[];
  maxTopicGroups: number;
  maxDropReasons: number;
  maxMountpoints: number;
}

const S = KEY_SEP;
const QOS_KEYS = ['0', '1', '2'];

function qosKey(qos: number): string {
  return QOS_KEYS[qos] ?? String(qos);
}

export class MetricsSink implements EventSink {
  readonly mountpoints: BoundedValues;
  readonly dropReasons: BoundedValues;
  readonly topicGroupNames: BoundedValues;
  private readonly grouper: TopicGrouper;

  private readonly registrations: SumFamily;
  private readonly registrationFailures: SumFamily;
  private readonly disconnects: SumFamily;
  private readonly expirations: SumFamily;
  private readonly published: SumFamily;
  private readonly payloadSize: HistogramFamily;
  private readonly delivered: SumFamily;
  private readonly deliveryCompleted: SumFamily;
  private readonly queuedOffline: SumFamily;
  private readonly dropped: SumFamily;
  private readonly subscriptions: SumFamily;
  private readonly unsubscriptions: SumFamily;
  private readonly eventDelay: HistogramFamily;

  constructor(store: MetricStore, options: MetricsSinkOptions, mountpoints?: BoundedValues) {
    this.mountpoints = mountpoints ?? new BoundedValues('mqtt.mountpoint', options.maxMountpoints);
    this.dropReasons = new BoundedValues('mqtt.drop.reason', options.maxDropReasons);
    this.topicGroupNames = new BoundedValues('mqtt.topic.group', options.maxTopicGroups);
    this.grouper = new TopicGrouper(options.topicGroups, this.topicGroupNames);
    const M = MQTT_METRICS;
    this.registrations = store.sum(M.registrations);
    this.registrationFailures = store.sum(M.registrationFailures);
    this.disconnects = store.sum(M.disconnects);
    this.expirations = store.sum(M.expirations);
    this.published = store.sum(M.published);
    this.payloadSize = store.histogram(M.payloadSize);
    this.delivered = store.sum(M.delivered);
    this.deliveryCompleted = store.sum(M.deliveryCompleted);
    this.queuedOffline = store.sum(M.queuedOffline);
    this.dropped = store.sum(M.dropped);
    this.subscriptions = store.sum(M.subscriptions);
    this.unsubscriptions = store.sum(M.unsubscriptions);
    this.eventDelay = store.histogram(SIDECAR_METRICS.eventDelay);

    const folded = store.sum(SIDECAR_METRICS.attributeValuesFolded);
    store.onCollect(() => {
      for (const b of [this.mountpoints, this.dropReasons, this.topicGroupNames]) if (b.folded > 0) folded.set(b.attribute, b.folded);
    });
  }

  consume(e: SidecarEvent, arrivalMs: number): void {
    if (!e.timeMissing) {
      const delay = (arrivalMs - e.timeSec * 1000) / 1000 - e.timeNanos / 1e9;
      this.eventDelay.record('', delay > 0 ? delay : 0);
    }
    const mp = this.mountpoints.fold(e.mountpoint);
    switch (e.hook) {
      case 'on_publish': {
        const group = this.grouper.group(e.matchedAcl, e.topic);
        const q = qosKey(e.qos);
        this.published.add(mp + S + q + S + (e.retain ? 'true' : 'false') + S + group, 1);
        this.payloadSize.record(q + S + group, e.payload.length);
        break;
      }
      case 'on_deliver':
        this.delivered.add(mp + S + qosKey(e.qos) + S + this.grouper.group(e.matchedAcl, e.topic) + S + (e.persisted ? 'true' : 'false'), 1);
        break;
      case 'on_delivery_complete':
        this.deliveryCompleted.add(mp + S + qosKey(e.qos) + S + this.grouper.group(e.matchedAcl, e.topic), 1);
        break;
      case 'on_offline_message':
        this.queuedOffline.add(mp + S + qosKey(e.qos) + S + this.grouper.group(null, e.topic), 1);
        break;
      case 'on_message_drop':
        this.dropped.add(mp + S + qosKey(e.qos) + S + this.dropReasons.fold(e.reason) + S + this.grouper.group(e.matchedAcl, e.topic), 1);
        break;
      case 'on_register':
        this.registrations.add(mp, 1);
        break;
      case 'on_register_failed':
        this.registrationFailures.add(mp + S + e.reasonName, 1);
        break;
      case 'on_client_offline':
        this.disconnects.add(mp + S + e.reasonName + S + 'true', 1);
        break;
      case 'on_client_gone':
        this.disconnects.add(mp + S + e.reasonName + S + 'false', 1);
        break;
      case 'on_session_expired':
        this.expirations.add(mp, 1);
        break;
      case 'on_subscribe':
        for (const t of e.topics) {
          const refused = t.qos === 128;
          this.subscriptions.add(mp + S + qosKey(t.qos) + S + (refused ? 'refused' : 'granted') + S + this.grouper.group(t.matchedAcl, t.topic), 1);
        }
        break;
      case 'on_unsubscribe':
        this.unsubscriptions.add(mp, e.topics.length);
        break;
      case 'on_client_wakeup':
        break;
    }
  }
}
