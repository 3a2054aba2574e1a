/**
 * Virtual MQTT clients living VerneMQ session lifecycles, producing the hook events the broker
 * would fire for them. Deterministic for a given seed.
 *
 * Lifecycle per client:
 *   no session --register--> online (register + wakeup)    [or register_failed]
 *   online --publish/subscribe/unsubscribe--> online        (publishes fan out to subscribers:
 *                                                            deliver (+ delivery_complete at
 *                                                            QoS 1/2) when online, offline_message or
 *                                                            message_drop when offline)
 *   online --disconnect--> offline (persistent session) | no session (clean session: gone)
 *   offline --reconnect--> online | --expiry--> no session (session_expired)
 *
 * MQTT 5 clients (`mqtt5Share`) live the same lifecycle, but the plugin only implements the
 * MQTT 3.1/3.1.1 hooks, so they produce only session-layer events: wakeup, offline, gone,
 * expired, and offline_message / message_drop for messages queued for them; never register,
 * register_failed, subscribe, unsubscribe, publish, deliver or delivery_complete. As observed on
 * gojek/vernemq v5.1.0: session_id "" and username "", every disconnect reason unspecified.
 *
 * With `mqtt5Companion`, the companion plugin vmq_events_sidecar_m5 is installed too: MQTT 5
 * clients also produce register, subscribe, unsubscribe, publish and deliver events (marked
 * `mqtt5: true`, encoded as the companion's messages), with no ACL, no session_id, trace context
 * in the PUBLISH's user properties, and still no register_failed or delivery_complete.
 */
import { Prng } from './prng.js';
import type { HookName } from '../events/event-types.js';

/** An event as the encoder takes it: protobufjs field names plus the hook. */
export interface SimEvent {
  hook: HookName;
  [field: string]: unknown;
}

type ClientState = 'none' | 'online' | 'offline';

interface VirtualClient {
  id: string;
  /** Connects with MQTT 5: the plugin sees only its session-layer events. */
  mqtt5: boolean;
  username: string;
  mountpoint: string;
  persistent: boolean;
  state: ClientState;
  sessionId: string;
  sessionSeq: number;
  /** Topic families this client is subscribed to. */
  /** Topic family -> the subscription's QoS. */
  subscriptions: Map<number, number>;
  peerPort: number;
}

interface TopicFamily {
  acl: string;
  pattern: string;
  topic(clientIdx: number): string;
}

/** Topic families with the ACL entry (name + pattern) the broker would report as matched. */
const FAMILIES: readonly TopicFamily[] = [
  { acl: 'device-telemetry', pattern: 'devices/+/telemetry', topic: (i) => `devices/${i}/telemetry` },
  { acl: 'device-status', pattern: 'devices/+/status', topic: (i) => `devices/${i}/status` },
  { acl: 'fleet-commands', pattern: 'fleet/+/commands/#', topic: (i) => `fleet/${i % 17}/commands/reboot` },
  { acl: '', pattern: '', topic: (i) => `misc/${i % 5}/events` },
];

export const DISCONNECT_REASON_MIX: readonly (readonly [number, number])[] = [
  [2, 40], // normal_disconnect
  [17, 25], // tcp_closed
  [5, 15], // disconnect_keep_alive
  [9, 8], // mqtt_client_disconnect
  [3, 5], // session_taken_over
  [11, 3], // protocol_error
  [4, 2], // administrative_action
  [1, 2], // not_authorized
];

export const REGISTRATION_FAILURE_MIX: readonly (readonly [number, number])[] = [
  [2, 60], // invalid_credentials
  [3, 25], // not_authorized
  [1, 10], // no_matching_hook_found
  [4, 5], // stale_request
];

export const DROP_REASON_MIX: readonly (readonly [string, number])[] = [
  ['queue_full', 80],
  ['expired', 15],
  ['max_inflight_exceeded', 5],
];

const QOS_MIX: readonly (readonly [number, number])[] = [
  [0, 60],
  [1, 35],
  [2, 5],
];

export interface ClientModelOptions {
  clients: number;
  seed: number;
  /** Share of clients with persistent sessions (clean_session = false). */
  persistentShare?: number;
  /** Share of JSON payloads that carry a W3C traceparent. */
  tracedShare?: number;
  /** Share of clients connecting with MQTT 5. */
  mqtt5Share?: number;
  /** The MQTT 5 companion plugin reports their per-client hooks too. */
  mqtt5Companion?: boolean;
}

export class ClientModel {
  private readonly rng: Prng;
  private readonly clients: VirtualClient[];
  /** Subscribers per topic family. */
  private readonly subscribers: Set<VirtualClient>[] = FAMILIES.map(() => new Set());
  private readonly tracedShare: number;
  private readonly companion: boolean;
  private clock: { sec: number; nanos: number };

  constructor(options: ClientModelOptions) {
    this.rng = new Prng(options.seed);
    this.tracedShare = options.tracedShare ?? 0.3;
    this.companion = options.mqtt5Companion ?? false;
    const persistentShare = options.persistentShare ?? 0.4;
    const mqtt5Share = options.mqtt5Share ?? 0;
    this.clients = [];
    for (let i = 0; i < options.clients; i++) {
      this.clients.push({
        id: `sim-client-${String(i).padStart(6, '0')}`,
        // Spread evenly by index (golden-ratio sequence), leaving the random sequence alone.
        mqtt5: (i * 0.6180339887498949) % 1 < mqtt5Share,
        username: i % 7 === 0 ? '' : `user-${i % 50}`,
        mountpoint: i % 10 === 9 ? 'tenant-b' : '',
        persistent: this.rng.chance(persistentShare),
        state: 'none',
        sessionId: '',
        sessionSeq: 0,
        subscriptions: new Map(),
        peerPort: 20000 + (i % 40000),
      });
    }
    const now = Date.now();
    this.clock = { sec: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 };
  }

  /** Connected clients and offline sessions per mountpoint, as the broker would count them. */
  gauges(): { connected: Record<string, number>; offline: Record<string, number> } {
    const connected: Record<string, number> = {};
    const offline: Record<string, number> = {};
    for (const c of this.clients) {
      if (c.state === 'online') connected[c.mountpoint] = (connected[c.mountpoint] ?? 0) + 1;
      else if (c.state === 'offline') offline[c.mountpoint] = (offline[c.mountpoint] ?? 0) + 1;
    }
    return { connected, offline };
  }

  /** Advances one random client by one step, emitting the events that step fires. */
  step(emit: (e: SimEvent) => void): void {
    const rng = this.rng;
    const c = this.clients[rng.int(this.clients.length)]!;
    switch (c.state) {
      case 'none':
        if (rng.chance(0.05)) {
          // A refused MQTT 5 login fires no hook the plugin implements.
          if (!c.mqtt5) this.registerFailed(c, emit);
        } else {
          this.connect(c, emit);
        }
        break;
      case 'offline':
        if (rng.chance(0.15)) {
          emit({ hook: 'on_session_expired', ...this.base(c) });
          this.dropSession(c);
        } else {
          this.connect(c, emit);
        }
        break;
      case 'online': {
        const r = rng.next();
        if (r < 0.05) this.disconnect(c, emit);
        else if (r < 0.09 && c.subscriptions.size < FAMILIES.length) this.subscribe(c, emit);
        else if (r < 0.1 && c.subscriptions.size > 0) this.unsubscribe(c, emit);
        else this.publish(c, emit);
        break;
      }
    }
  }

  private now(): { seconds: number; nanos: number } {
    // A strictly increasing broker clock that follows real time.
    const ms = Date.now();
    const sec = Math.floor(ms / 1000);
    const nanos = (ms % 1000) * 1e6;
    const clk = this.clock;
    if (sec > clk.sec || (sec === clk.sec && nanos > clk.nanos)) {
      clk.sec = sec;
      clk.nanos = nanos;
    } else if (++clk.nanos >= 1e9) {
      clk.sec++;
      clk.nanos = 0;
    }
    return { seconds: clk.sec, nanos: clk.nanos };
  }

  private base(c: VirtualClient): Record<string, unknown> {
    return { timestamp: this.now(), clientId: c.id, mountpoint: c.mountpoint, sessionId: c.sessionId };
  }

  private registerFailed(c: VirtualClient, emit: (e: SimEvent) => void): void {
    emit({
      hook: 'on_register_failed',
      timestamp: this.now(),
      mountpoint: c.mountpoint,
      clientId: c.id,
      peerAddr: '10.1.0.' + (c.peerPort % 250),
      peerPort: c.peerPort,
      username: c.username,
      cleanSession: !c.persistent,
      reason: this.rng.weighted(REGISTRATION_FAILURE_MIX),
    });
  }

  private connect(c: VirtualClient, emit: (e: SimEvent) => void): void {
    const rng = this.rng;
    // A new session_id on every connection, as the broker does; "" for MQTT 5 sessions.
    c.sessionId = c.mqtt5 ? '' : `${c.id}-s${++c.sessionSeq}`;
    c.state = 'online';
    if (c.mqtt5) {
      emit({ hook: 'on_client_wakeup', ...this.base(c) });
      // on_register_m5 through the companion: peer and username, no CONNECT user properties.
      if (this.companion) emit({ hook: 'on_register', mqtt5: true, ...this.base(c), peerAddr: '10.1.0.' + (c.peerPort % 250), peerPort: c.peerPort, username: c.username, userProperties: {} });
      return;
    }
    const userProperties: Record<string, string> = {};
    if (rng.chance(0.3)) {
      userProperties.traceparent = `00-${rng.hex(16)}-${rng.hex(8)}-01`;
      userProperties['device-model'] = `model-${c.peerPort % 4}`;
    }
    // The broker fires the wakeup first, then the register (same session_id).
    emit({ hook: 'on_client_wakeup', ...this.base(c) });
    emit({
      hook: 'on_register',
      ...this.base(c),
      // One in fifty peers has no printable address, as the plugin sometimes sends.
      peerAddr: c.peerPort % 50 === 0 ? '' : '10.1.0.' + (c.peerPort % 250),
      peerPort: c.peerPort,
      username: c.username,
      userProperties,
    });
  }

  private disconnect(c: VirtualClient, emit: (e: SimEvent) => void): void {
    const weighted = this.rng.weighted(DISCONNECT_REASON_MIX);
    const reason = c.mqtt5 ? 0 : weighted;
    const ev = { ...this.base(c), reason, username: c.mqtt5 ? '' : c.username };
    if (c.persistent) {
      emit({ hook: 'on_client_offline', ...ev });
      c.state = 'offline';
    } else {
      emit({ hook: 'on_client_gone', ...ev });
      this.dropSession(c);
    }
  }

  private dropSession(c: VirtualClient): void {
    c.state = 'none';
    for (const f of c.subscriptions.keys()) this.subscribers[f]!.delete(c);
    c.subscriptions.clear();
  }

  private subscribe(c: VirtualClient, emit: (e: SimEvent) => void): void {
    const rng = this.rng;
    const topics: Record<string, unknown>[] = [];
    const n = 1 + rng.int(2);
    for (let k = 0; k < n; k++) {
      const f = rng.int(FAMILIES.length);
      const fam = FAMILIES[f]!;
      const refused = rng.chance(0.05);
      const qos = refused ? 128 : rng.weighted(QOS_MIX);
      topics.push({
        topic: fam.pattern !== '' ? fam.pattern : 'misc/#',
        qos,
        matchedAcl: fam.acl !== '' ? { name: fam.acl, pattern: fam.pattern } : null,
      });
      if (!refused) {
        c.subscriptions.set(f, qos);
        this.subscribers[f]!.add(c);
      }
    }
    if (!c.mqtt5) emit({ hook: 'on_subscribe', ...this.base(c), username: c.username, topics });
    // The companion: no ACL, the SUBACK reason code (0x87 not authorized for a refused filter).
    else if (this.companion) emit({ hook: 'on_subscribe', mqtt5: true, ...this.base(c), username: c.username, topics: topics.map((t) => ({ topic: t.topic, qos: t.qos, matchedAcl: null, reasonCode: t.qos === 128 ? 0x87 : t.qos })) });
  }

  private unsubscribe(c: VirtualClient, emit: (e: SimEvent) => void): void {
    const f = [...c.subscriptions.keys()][0]!;
    c.subscriptions.delete(f);
    this.subscribers[f]!.delete(c);
    const fam = FAMILIES[f]!;
    if (!c.mqtt5 || this.companion) emit({ hook: 'on_unsubscribe', ...(c.mqtt5 ? { mqtt5: true } : {}), ...this.base(c), username: c.username, topics: [fam.pattern || 'misc/#'] });
  }

  private payload(): Buffer {
    const rng = this.rng;
    if (rng.chance(0.3)) {
      // Binary payloads, now and then a large one.
      const size = rng.chance(0.001) ? 4096 + rng.int(28672) : 16 + rng.int(240);
      const b = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i += 4) b.writeUInt32LE((rng.next() * 4294967296) >>> 0, Math.min(i, size - 4));
      return b;
    }
    const fields: Record<string, unknown> = { temp: Math.round(rng.next() * 400) / 10, seq: rng.int(1e6) };
    if (rng.chance(this.tracedShare)) fields.traceparent = `00-${rng.hex(16)}-${rng.hex(8)}-01`;
    return Buffer.from(JSON.stringify(fields));
  }

  private publish(c: VirtualClient, emit: (e: SimEvent) => void): void {
    const rng = this.rng;
    const f = rng.int(FAMILIES.length);
    const fam = FAMILIES[f]!;
    const topic = fam.topic(Number(c.id.slice(-6)));
    const qos = rng.weighted(QOS_MIX);
    const retain = rng.chance(0.02);
    const payload = this.payload();
    const matchedAcl = fam.acl !== '' ? { name: fam.acl, pattern: fam.pattern } : null;
    if (!c.mqtt5) emit({ hook: 'on_publish', ...this.base(c), username: c.username, qos, topic, payload, retain, matchedAcl });
    // An MQTT 5 publisher carries its trace context in user properties (the W3C MQTT carrier).
    const userProperties: Record<string, string> = {};
    if (c.mqtt5 && this.companion) {
      if (rng.chance(this.tracedShare)) userProperties.traceparent = `00-${rng.hex(16)}-${rng.hex(8)}-01`;
      emit({ hook: 'on_publish', mqtt5: true, ...this.base(c), username: c.username, qos, topic, payload, retain, matchedAcl: null, userProperties });
    }

    // Route to up to three subscribers of the family picked at random: online ones get the
    // message delivered, offline persistent sessions get it queued (or dropped when full).
    const subs = this.subscribers[f]!;
    if (subs.size === 0) return;
    const pool = [...subs];
    for (let k = 0; k < 3 && k < pool.length; k++) {
      const s = pool[rng.int(pool.length)]!;
      if (s.state === 'online') {
        if (s.mqtt5) {
          // on_deliver_m5 through the companion: the subscription's QoS, no completion event.
          if (this.companion) emit({ hook: 'on_deliver', mqtt5: true, ...this.base(s), username: s.username, topic, payload, matchedAcl: null, isRetain: retain, persisted: false, qos: s.subscriptions.get(f)!, userProperties });
          continue;
        }
        // As the broker reports it: on_deliver carries the subscription's QoS, delivery_complete
        // the QoS the message travelled with (the lower of the two), and QoS 0 completes nothing.
        const subQos = s.subscriptions.get(f)!;
        const d = { ...this.base(s), username: s.username, topic, payload, matchedAcl, isRetain: retain, persisted: false };
        emit({ hook: 'on_deliver', ...d, qos: subQos });
        const delivered = Math.min(qos, subQos);
        if (delivered > 0) emit({ hook: 'on_delivery_complete', ...d, qos: delivered });
      } else if (s.state === 'offline') {
        if (Math.min(qos, s.subscriptions.get(f)!) === 0) {
          // What VerneMQ reports for a QoS 0 message to an offline session: queued as qos 1,
          // then dropped because the session is offline.
          emit({ hook: 'on_offline_message', ...this.base(s), qos: 1, topic, payload, retain });
          emit({ hook: 'on_message_drop', ...this.base(s), qos, topic, payload, reason: 'user_offline', matchedAcl });
        } else if (rng.chance(0.2)) {
          emit({ hook: 'on_message_drop', ...this.base(s), qos, topic, payload, reason: rng.weighted(DROP_REASON_MIX), matchedAcl });
        } else {
          emit({ hook: 'on_offline_message', ...this.base(s), qos, topic, payload, retain });
        }
      }
    }
  }
}
