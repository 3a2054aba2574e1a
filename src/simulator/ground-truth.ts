/**
 * What the simulator sent, tallied the way the sidecar's metrics count it: the figures tests
 * and benchmarks compare the sidecar's output against.
 */
import type { SimEvent } from './client-model.js';
import type { HookName } from '../events/event-types.js';
import { disconnectReasonName, registrationFailureReasonName } from '../events/reason-names.js';

function bump(map: Record<string, number>, key: string | number, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

export class GroundTruth {
  total = 0;
  /** Wakeups of MQTT 5 clients (session_id ""): no on_register follows them (without the companion). */
  mqtt5Wakeups = 0;
  /** MQTT 5 events of the companion (marked mqtt5), by hook. */
  private readonly mqtt5Sent: Partial<Record<HookName, number>> = {};

  /** `mqtt5Companion`: MQTT 5 wakeups get a register from the companion, so none stays unregistered. */
  constructor(private readonly mqtt5Companion = false) {}
  private readonly sent: Partial<Record<HookName, number>> = {};
  private readonly publishedByQos: Record<string, number> = {};
  private readonly disconnects: { offline: Record<string, number>; gone: Record<string, number> } = { offline: {}, gone: {} };
  private readonly dropsByReason: Record<string, number> = {};
  private readonly registrationFailuresByReason: Record<string, number> = {};
  private readonly subscriptions: Record<string, number> = { granted: 0, refused: 0 };

  record(e: SimEvent): void {
    this.total++;
    this.sent[e.hook] = (this.sent[e.hook] ?? 0) + 1;
    if (e.mqtt5 === true) this.mqtt5Sent[e.hook] = (this.mqtt5Sent[e.hook] ?? 0) + 1;
    switch (e.hook) {
      case 'on_client_wakeup':
        // Only MQTT 5 wakeups have no session_id: the simulator gives 3.1.1 sessions one.
        if (e.sessionId === '' && !this.mqtt5Companion) this.mqtt5Wakeups++;
        break;
      case 'on_publish':
        bump(this.publishedByQos, e.qos as number);
        break;
      case 'on_client_offline':
        bump(this.disconnects.offline, disconnectReasonName(e.reason as number));
        break;
      case 'on_client_gone':
        bump(this.disconnects.gone, disconnectReasonName(e.reason as number));
        break;
      case 'on_message_drop':
        bump(this.dropsByReason, e.reason as string);
        break;
      case 'on_register_failed':
        bump(this.registrationFailuresByReason, registrationFailureReasonName(e.reason as number));
        break;
      case 'on_subscribe':
        for (const t of e.topics as { qos: number }[]) bump(this.subscriptions, t.qos === 128 ? 'refused' : 'granted');
        break;
      default:
        break;
    }
  }

  toJSON(gauges: { connected: Record<string, number>; offline: Record<string, number> }) {
    return {
      sent: this.sent,
      publishedByQos: this.publishedByQos,
      disconnects: this.disconnects,
      dropsByReason: this.dropsByReason,
      registrationFailuresByReason: this.registrationFailuresByReason,
      subscriptions: this.subscriptions,
      /** Wakeups with no on_register: what vmq_sidecar.session.unregistered_wakeups should count. */
      mqtt5Wakeups: this.mqtt5Wakeups,
      /** Of `sent`, the events of the MQTT 5 companion (network.protocol.version 5), by hook. */
      mqtt5Sent: this.mqtt5Sent,
      /** Per mountpoint ("" is the default mountpoint), valid when no event was dropped. */
      connectedClients: gauges.connected,
      offlineSessions: gauges.offline,
    };
  }
}
