/**
 * Wakeups without an on_register: in practice, MQTT 5 sessions. VerneMQ runs other hooks for
 * MQTT 5 sessions (on_register_m5, on_publish_m5, ...) and the plugin implements only the MQTT
 * 3.1/3.1.1 names, so an MQTT 5 client produces the session-layer events (wakeup, offline, gone,
 * expired, offline_message, message_drop) and never a register, publish, subscribe or deliver.
 * Nothing else would say how many clients the sidecar sees only half of.
 *
 * Pairing. A register belongs to a wakeup when both carry the same non-empty session_id (the
 * plugin sends one from gojek/vernemq v5.0.0 on; MQTT 5 wakeups carry ""), else when mountpoint
 * and client id are equal and their broker timestamps are at most `windowMs` apart (one connect
 * fires both within milliseconds). Either may arrive first: the plugin's pool sends each event
 * on a random connection, so the broker's order (wakeup, then register) is not the arrival order.
 *
 * Deciding, by broker time. A wakeup is decided once events stamped `windowMs` after it have
 * arrived (the watermark: the latest broker timestamp seen, over every hook) on every plugin
 * connection that is receiving (each is a queue, read in order: one read late holds the
 * decision back, TcpReceiver.lowWatermark(), looked at every sweep): its register, fired within
 * milliseconds of it, has then had the same time to arrive as those later events, whichever
 * connection it took. A saturated event loop delays every arrival alike and misclassifies
 * nothing. When no event at all arrives
 * for two sweeps (a poll of the sockets between them) and `windowMs` of the sidecar's clock, the
 * watermark moves on with that clock from the last event, so the last wakeups before a quiet
 * spell are decided too. A wakeup only counts while on_register events are flowing (one stamped
 * at most `registerFlowMs` before it, or any time after): with on_register left out of the
 * plugin's hooks every wakeup lacks one, and that says nothing about protocol versions.
 *
 * Holding off. A wakeup whose register the broker failed to send looks the same as an MQTT 5
 * one, so wakeups stamped while registers may have been lost are decided as "held off", counted
 * neither way:
 * - while the broker reports failed or unreceived on_register sends (holdOff(), from each broker
 *   scrape whose sidecar_events_error or upstream.missing for on_register rose: the whole scrape
 *   interval). With broker metrics, a wakeup waits for the scrape that covers it (knownUntil).
 * - while the plugin's pool is reconnecting: events cast on a connection that is down are lost.
 *   From a connection's loss to the latest reconnect, until the pool is back to its size; after
 *   a restart from a snapshot, from before this process until one window passes without a new
 *   connection. (A first start cannot tell a pool coming back from a pool being opened.)
 * Broker timestamps are compared with this process's clock there: the sidecar runs beside its
 * broker node, on the same clock.
 *
 * Memory is bounded: at most `maxPending` wakeups and registers are held (matched ones until
 * their window ends); beyond, new ones are not paired and are counted as overflow.
 */
import type { SidecarEvent } from '../events/event-types.js';
import type { EventSink } from '../sinks/event-sink.js';
import { HeadQueue } from '../sessions/head-queue.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { Component, StatusReport } from '../lifecycle/component.js';

export interface WakeupMatchOptions {
  /** How much broker time a wakeup waits for its register, and the broker-time distance of a pair (ms). */
  windowMs: number;
  /** on_register counts as flowing while one was stamped within this long before the wakeup (ms). */
  registerFlowMs: number;
  /** Wakeups and registers held at most. */
  maxPending: number;
}

export const DEFAULT_WAKEUP_MATCH: WakeupMatchOptions = { windowMs: 5000, registerFlowMs: 5 * 60_000, maxPending: 100_000 };

/** The sidecar's log, as far as this module uses it. */
export interface LimitedLogger {
  limited(level: 'warn', key: string, intervalMs: number, msg: string, fields?: Record<string, unknown>): void;
}

/** The plugin's TCP connections as the receiver counts them (IngestStats, TcpReceiver). */
export interface PluginPool {
  readonly connectionsAccepted: number;
  readonly connectionsOpen: number;
  readonly lastAcceptedAt: number;
  readonly lastClosedAt: number;
  /**
   * The least, over the connections that received events since the last call, of the latest
   * broker time read from each (TcpReceiver.lowWatermark()); undefined when none did.
   */
  lowWatermark?(): number | undefined;
}

/** What the broker has said about failed sends (the broker reconciler). */
export interface BrokerSendReports {
  /**
   * The time up to which the broker's failed sends are known (its last scrape); undefined when
   * there is nothing to wait for (no broker metrics, or its scrapes are failing).
   */
  knownUntil(): number | undefined;
}

/** Where losses of registers show, besides the events. */
export interface RegisterLossSources {
  /** The plugin's TCP pool. */
  pool?: PluginPool;
  /** The broker's reports; with them, a wakeup waits for the scrape that covers it. */
  broker?: BrokerSendReports;
  /**
   * True when this process took over from a previous one (its state restored from a snapshot):
   * the plugin's pool was there before and is reconnecting, so the first gap is a real one. A
   * first start cannot tell a pool coming back from a pool opened, and holds nothing.
   */
  restarted?: () => boolean;
}

const WAKEUP = 0;
const REGISTER = 1;
/** Hold-off intervals kept at most (merged when more). */
const MAX_HOLDS = 64;
/** A plugin connection's return holds off wakeups stamped this much before it, and earlier. */
const ACCEPT_MARGIN_MS = 50;

class Pending {
  done = false;
  constructor(
    readonly kind: typeof WAKEUP | typeof REGISTER,
    /** Its key in wakeups or registers: the session_id, or else the client id. */
    readonly key: string,
    /** True when key is a session_id (pairs without looking at broker time). */
    readonly bySession: boolean,
    /** Pairs by client id only within its mountpoint. */
    readonly mountpoint: string,
    readonly brokerMs: number,
  ) {}

  /** True when `other`'s event (of the other kind) is this one's pair. */
  pairs(bySession: boolean, mountpoint: string, brokerMs: number, windowMs: number): boolean {
    if (bySession !== this.bySession) return false;
    return bySession || (mountpoint === this.mountpoint && Math.abs(this.brokerMs - brokerMs) <= windowMs);
  }
}

export interface UnregisteredWakeupsStatus {
  /** Wakeups decided: paired with a register, or not. */
  decided: number;
  registered: number;
  unregistered: number;
  /** unregistered / decided, 0 when nothing was decided. */
  share: number;
  /** Decided while no on_register was flowing: not counted either way. */
  withoutRegisterHook: number;
  /** Decided unpaired while registers may have been lost (failed sends, pool reconnecting): not counted either way. */
  heldOff: number;
  /**
   * Entries held until their window ends, paired already or not: a register can still arrive for
   * an unpaired one, and a paired one keeps its place in the arrival-ordered queue.
   */
  pending: number;
  overflow: number;
  registersFlowing: boolean;
}

export class UnregisteredWakeups implements EventSink, Component {
  private timer: NodeJS.Timeout | undefined;
  registered = 0;
  unregistered = 0;
  withoutRegisterHook = 0;
  heldOff = 0;
  overflow = 0;
  /**
   * Unpaired wakeups and registers by session_id or client id, as they are (no key built per
   * event: a concatenated key was flattened and hashed on every lookup, the matcher's largest
   * cost on the metrics path); the mountpoint and which of the two a key is are checked on the
   * few entries a key finds.
   */
  private readonly wakeups = new Map<string, Pending[]>();
  private readonly registers = new Map<string, Pending[]>();
  /** Everything held, in arrival order: decided from the head as the watermark passes. */
  private readonly queue = new HeadQueue<Pending>();
  /** The latest broker time seen (ms), and where the quiet-spell clock takes it. */
  private watermark = -Infinity;
  /**
   * How far every active plugin connection has been read (broker time), as of the last sweep:
   * one connection read late (its queue behind the others') holds decisions back, so that a
   * register on it is not missed. Infinity without a pool that says.
   */
  private lowWatermark: number;
  private lastRegisterBrokerMs = -Infinity;
  /** Arrival (sidecar clock) of the last event, and the events counted at the last sweep tick. */
  private lastArrival = 0;
  private arrivedSinceTick = 0;
  private quietTicks = 0;
  /** Broker-time intervals [from, until] in which registers may have been lost. */
  private holds: [number, number][] = [];
  /** When the quiet-spell clock last moved the watermark (sidecar clock). */
  private lastQuietMove = 0;
  /** The pool as last seen, and where its current gap began (-Infinity: before this process). */
  private seenAccepted = 0;
  private seenOpen = 0;
  private poolSize = 0;
  /** Undefined: no gap; -Infinity: the gap of a restart, begun before this process. Null until first looked at. */
  private gapFrom: number | undefined | null = null;
  /**
   * An MQTT 5 register arrived (the companion plugin vmq_events_sidecar_m5): MQTT 5 wakeups pair
   * with its registers, so the ones left unpaired are not MQTT 5 sessions but lost registers.
   */
  private companionRegisters = false;

  constructor(
    private readonly logger: LimitedLogger | null,
    private readonly options: WakeupMatchOptions = DEFAULT_WAKEUP_MATCH,
    private readonly sources: RegisterLossSources = {},
  ) {
    // Until the first sweep has looked at the connections, nothing is decided.
    this.lowWatermark = sources.pool?.lowWatermark ? -Infinity : Infinity;
  }

  /** Every event moves the watermark; wakeups and registers are paired. */
  consume(e: SidecarEvent, arrivalMs: number): void {
    // An event without a timestamp is taken as of the latest broker time seen.
    const brokerMs = e.timeMissing ? Math.max(this.watermark, 0) : e.timeSec * 1000 + e.timeNanos / 1e6;
    this.lastArrival = arrivalMs;
    this.arrivedSinceTick++;
    const hook = e.hook;
    if (hook !== 'on_client_wakeup' && hook !== 'on_register') {
      if (brokerMs > this.watermark) this.advance(brokerMs);
      return;
    }
    const isRegister = hook === 'on_register';
    if (isRegister && brokerMs > this.lastRegisterBrokerMs) this.lastRegisterBrokerMs = brokerMs;
    if (isRegister && e.protocolVersion === '5') this.companionRegisters = true;
    const bySession = e.sessionId !== '';
    const key = bySession ? e.sessionId : e.clientId;
    const other = isRegister ? this.wakeups : this.registers;
    const candidates = other.get(key);
    if (candidates !== undefined) {
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i]!;
        if (c.pairs(bySession, e.mountpoint, brokerMs, this.options.windowMs)) {
          c.done = true;
          if (candidates.length === 1) other.delete(key);
          else candidates.splice(i, 1);
          this.registered++;
          if (brokerMs > this.watermark) this.advance(brokerMs);
          return;
        }
      }
    }
    if (this.queue.size >= this.options.maxPending) {
      this.decide();
      if (this.queue.size >= this.options.maxPending) {
        this.overflow++;
        return;
      }
    }
    const p = new Pending(isRegister ? REGISTER : WAKEUP, key, bySession, e.mountpoint, brokerMs);
    const own = isRegister ? this.registers : this.wakeups;
    const list = own.get(key);
    if (list === undefined) own.set(key, [p]);
    else list.push(p);
    this.queue.push(p);
    if (brokerMs > this.watermark) this.advance(brokerMs);
  }

  private advance(brokerMs: number): void {
    this.watermark = brokerMs;
    const next = this.queue.first();
    if (next !== undefined && next.brokerMs + this.options.windowMs <= Math.min(brokerMs, this.lowWatermark)) this.decide();
  }

  /**
   * Registers may have been lost for wakeups stamped from `fromMs` to `untilMs` (broker time): they
   * are held off, not counted as MQTT 5 sessions.
   */
  holdOff(fromMs: number, untilMs: number): void {
    if (!(fromMs < untilMs)) return;
    const h = this.holds;
    const last = h[h.length - 1];
    if (last !== undefined && fromMs <= last[1] && untilMs >= last[0]) {
      last[0] = Math.min(last[0], fromMs);
      last[1] = Math.max(last[1], untilMs);
    } else h.push([fromMs, untilMs]);
    if (h.length > MAX_HOLDS) {
      const [a, b] = h.splice(0, 2) as [[number, number], [number, number]];
      h.unshift([Math.min(a[0], b[0]), Math.max(a[1], b[1])]);
    }
  }

  private heldOffAt(brokerMs: number): boolean {
    for (const [from, until] of this.holds) if (brokerMs >= from && brokerMs < until) return true;
    return false;
  }

  /**
   * Turns the pool's connections and losses since the last look into hold-offs: a register cast
   * on a connection that was down is lost, so wakeups stamped between the gap's start (a lost
   * connection, or before this process after a restart) and a connection's return are held off,
   * up to ACCEPT_MARGIN_MS before the return. The return is when this process accepted it: a
   * busy process accepts late, which holds off more, never less.
   */
  private watchPool(): void {
    const p = this.sources.pool;
    if (p === undefined) return;
    if (this.gapFrom === null) this.gapFrom = this.sources.restarted?.() ? -Infinity : undefined;
    const accepted = p.connectionsAccepted - this.seenAccepted;
    const closed = accepted - (p.connectionsOpen - this.seenOpen);
    this.seenAccepted = p.connectionsAccepted;
    this.seenOpen = p.connectionsOpen;
    if (closed > 0 && this.gapFrom === undefined) this.gapFrom = p.lastClosedAt;
    if (accepted > 0 && this.gapFrom !== undefined) this.holdOff(this.gapFrom, p.lastAcceptedAt - ACCEPT_MARGIN_MS);
    // The gap is over when the pool is back to the size it had; a restarted process never saw
    // it whole: a window of broker time without a new connection ends its first gap.
    const over =
      this.gapFrom === undefined ||
      (this.gapFrom === -Infinity ? p.lastAcceptedAt > 0 && this.watermark > p.lastAcceptedAt + this.options.windowMs : p.connectionsOpen >= this.poolSize);
    if (over) {
      this.gapFrom = undefined;
      this.poolSize = Math.max(this.poolSize, p.connectionsOpen);
    }
  }

  /** Decides every wakeup whose window the watermark (and the broker's reports) have passed. */
  private decide(): void {
    this.watchPool();
    const known = this.sources.broker?.knownUntil();
    const end = Math.min(this.watermark, this.lowWatermark, known ?? Infinity) - this.options.windowMs;
    const q = this.queue.items;
    let i = this.queue.head;
    let newlyUnregistered = 0;
    while (i < q.length && q[i]!.brokerMs <= end) {
      const p = q[i++]!;
      if (p.done) continue;
      const own = p.kind === WAKEUP ? this.wakeups : this.registers;
      const list = own.get(p.key);
      if (list !== undefined) {
        const at = list.indexOf(p);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0) own.delete(p.key);
      }
      if (p.kind === REGISTER) continue;
      if (this.lastRegisterBrokerMs < p.brokerMs - this.options.registerFlowMs) this.withoutRegisterHook++;
      else if (this.heldOffAt(p.brokerMs)) this.heldOff++;
      else {
        this.unregistered++;
        newlyUnregistered++;
      }
    }
    this.queue.takenTo(i);
    // Hold-offs before anything still pending are spent.
    const oldest = this.queue.first()?.brokerMs ?? end;
    while (this.holds.length > 0 && this.holds[0]![1] < oldest) this.holds.shift();
    if (newlyUnregistered > 0 && this.logger !== null && this.companionRegisters) {
      this.logger.limited(
        'warn',
        'unregistered-wakeups',
        10 * 60_000,
        'clients wake up without on_register although the MQTT 5 companion (vmq_events_sidecar_m5) reports registers: these registers were lost on the way, not MQTT 5 blind spots',
        { unregisteredWakeups: this.unregistered, hint: 'see vmq_sidecar.upstream.missing and vmq_sidecar.frame.rejected; docs/mqtt5.md' },
      );
    } else if (newlyUnregistered > 0 && this.logger !== null) {
      const s = this.summary();
      this.logger.limited(
        'warn',
        'unregistered-wakeups',
        10 * 60_000,
        'clients wake up without on_register: MQTT 5 sessions, for which the plugin sends only session events (VerneMQ runs the *_m5 hooks for them, which vmq_events_sidecar does not implement); their registrations, registration failures, publishes, subscriptions, deliveries and CONNECT trace context are missing',
        {
          unregisteredWakeups: s.unregistered,
          share: Number(s.share.toFixed(4)),
          heldOff: s.heldOff,
          // No example client id: the sidecar's own log carries no client data (README,
          // "Personal data"); the log records (on_client_wakeup without on_register) show them.
          hint: 'the companion plugin vmq_events_sidecar_m5 reports MQTT 5 sessions (docs/mqtt5.md). Wakeups stamped while the broker reported failed on_register sends, or while the plugin\'s connections were coming back, are held off (heldOff), not counted; a register lost otherwise (vmq_sidecar.frame.rejected, connections closed by the sidecar) still counts as one of these',
        },
      );
    }
  }

  /**
   * The sweep tick (every second): after two ticks without any event (the sockets polled in
   * between) and `windowMs` of quiet on the sidecar's clock, broker time is taken to have moved
   * on as this clock did since the last event.
   */
  sweep(now: number): void {
    const pool = this.sources.pool;
    if (pool?.lowWatermark) this.lowWatermark = pool.lowWatermark() ?? Infinity;
    if (this.arrivedSinceTick > 0) {
      this.arrivedSinceTick = 0;
      this.quietTicks = 0;
    } else if (++this.quietTicks >= 2 && this.watermark > -Infinity && now - this.lastArrival >= this.options.windowMs) {
      const moved = this.watermark + (now - Math.max(this.lastArrival, this.lastQuietMove));
      this.lastQuietMove = now;
      this.watermark = moved;
    }
    this.decide();
  }

  private registersFlowing(): boolean {
    return this.watermark - this.lastRegisterBrokerMs <= this.options.registerFlowMs;
  }

  registerMetrics(store: MetricStore): void {
    const unregistered = store.sum(SIDECAR_METRICS.sessionsUnregisteredWakeups);
    const overflow = store.sum(SIDECAR_METRICS.sessionsWakeupMatchOverflow);
    store.onCollect(() => {
      unregistered.get().value = this.unregistered;
      overflow.get().value = this.overflow;
    });
  }

  /** Sweeps every second: quiet spells, pool changes and broker reports. */
  start(): void {
    this.timer = setInterval(() => this.sweep(Date.now()), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Wakeups without on_register: MQTT 5 sessions, whose per-client events never arrive. */
  status(): StatusReport {
    return { sessions: { unregisteredWakeups: this.summary() } };
  }

  summary(): UnregisteredWakeupsStatus {
    const decided = this.registered + this.unregistered;
    return {
      decided,
      registered: this.registered,
      unregistered: this.unregistered,
      share: decided === 0 ? 0 : this.unregistered / decided,
      withoutRegisterHook: this.withoutRegisterHook,
      heldOff: this.heldOff,
      pending: this.queue.size,
      overflow: this.overflow,
      registersFlowing: this.registersFlowing(),
    };
  }
}
