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
 * Deciding. A wakeup waits `windowMs` of the sidecar's clock from its arrival for its register;
 * then it is matched or counted as unregistered. Arrival time, not broker time, because the
 * reordering is a delay in arrival (events queued behind others on one pool connection), and
 * because the sidecar's clock keeps moving when the broker goes quiet, so the last wakeups are
 * decided too. A wakeup only counts while on_register events are flowing (one arrived at most
 * `registerFlowMs` before it, or any time after): with on_register left out of the plugin's
 * hooks every wakeup lacks one, and that says nothing about protocol versions.
 *
 * Memory is bounded: at most `maxPending` wakeups and registers are held (matched ones until
 * their window ends); beyond, new ones are not paired and are counted as overflow.
 */
import type { HookName, SidecarEvent } from '../events/event-types.js';
import type { EventSink } from '../sinks/event-sink.js';
import { clientKey } from '../sessions/session-tracker.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { Component, StatusReport } from '../lifecycle/component.js';

export interface WakeupMatchOptions {
  /** How long a wakeup waits for its register, and the broker-time distance of a pair (ms). */
  windowMs: number;
  /** on_register counts as flowing while one arrived within this long (ms). */
  registerFlowMs: number;
  /** Wakeups and registers held at most. */
  maxPending: number;
}

export const DEFAULT_WAKEUP_MATCH: WakeupMatchOptions = { windowMs: 5000, registerFlowMs: 5 * 60_000, maxPending: 100_000 };

/** The sidecar's log, as far as this module uses it. */
export interface LimitedLogger {
  limited(level: 'warn', key: string, intervalMs: number, msg: string, fields?: Record<string, unknown>): void;
}

const WAKEUP = 0;
const REGISTER = 1;

class Pending {
  done = false;
  constructor(
    readonly kind: typeof WAKEUP | typeof REGISTER,
    readonly key: string,
    /** True when key is a session_id (pairs without looking at broker time). */
    readonly bySession: boolean,
    readonly brokerMs: number,
    readonly arrivalMs: number,
  ) {}
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
  /**
   * Entries held until their 5 s window ends, paired already or not: a register can still
   * arrive for an unpaired one, and a paired one keeps its place in the arrival-ordered queue.
   */
  pending: number;
  overflow: number;
  registersFlowing: boolean;
}

export class UnregisteredWakeups implements EventSink, Component {
  readonly hooks: readonly HookName[] = ['on_client_wakeup', 'on_register'];
  private timer: NodeJS.Timeout | undefined;
  registered = 0;
  unregistered = 0;
  withoutRegisterHook = 0;
  overflow = 0;
  private readonly wakeups = new Map<string, Pending[]>();
  private readonly registers = new Map<string, Pending[]>();
  /** Everything held, in arrival order: decided from the head as windows end. */
  private queue: Pending[] = [];
  private head = 0;
  private lastRegisterArrival = -Infinity;
  private lastNow = 0;
  /**
   * An MQTT 5 register arrived (the companion plugin vmq_events_sidecar_m5): MQTT 5 wakeups pair
   * with its registers, so the ones left unpaired are not MQTT 5 sessions but lost registers.
   */
  private companionRegisters = false;

  constructor(
    private readonly logger: LimitedLogger | null,
    private readonly options: WakeupMatchOptions = DEFAULT_WAKEUP_MATCH,
  ) {}

  consume(e: SidecarEvent, arrivalMs: number): void {
    if (e.hook !== 'on_client_wakeup' && e.hook !== 'on_register') return;
    const isRegister = e.hook === 'on_register';
    if (isRegister) {
      this.lastRegisterArrival = arrivalMs;
      if (e.protocolVersion === '5') this.companionRegisters = true;
    }
    const bySession = e.sessionId !== '';
    const key = bySession ? 's' + e.sessionId : 'c' + clientKey(e.mountpoint, e.clientId);
    const brokerMs = e.timeSec * 1000 + e.timeNanos / 1e6;
    const other = isRegister ? this.wakeups : this.registers;
    const candidates = other.get(key);
    if (candidates !== undefined) {
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i]!;
        if (bySession || Math.abs(c.brokerMs - brokerMs) <= this.options.windowMs) {
          c.done = true;
          if (candidates.length === 1) other.delete(key);
          else candidates.splice(i, 1);
          this.registered++;
          this.sweep(arrivalMs);
          return;
        }
      }
    }
    if (this.queue.length - this.head >= this.options.maxPending) {
      this.sweep(arrivalMs);
      if (this.queue.length - this.head >= this.options.maxPending) {
        this.overflow++;
        return;
      }
    }
    const p = new Pending(isRegister ? REGISTER : WAKEUP, key, bySession, brokerMs, arrivalMs);
    const own = isRegister ? this.registers : this.wakeups;
    const list = own.get(key);
    if (list === undefined) own.set(key, [p]);
    else list.push(p);
    this.queue.push(p);
    this.sweep(arrivalMs);
  }

  /** Decides every wakeup whose window ended by `now` (the sidecar's clock, ms). */
  sweep(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    const end = this.lastNow - this.options.windowMs;
    const q = this.queue;
    let i = this.head;
    let newlyUnregistered = 0;
    while (i < q.length && q[i]!.arrivalMs <= end) {
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
      // Flowing around the wakeup's arrival, not at decision time: a sweep after a quiet spell
      // must not turn the last wakeups before it into "no register hook".
      if (this.lastRegisterArrival >= p.arrivalMs - this.options.registerFlowMs) {
        this.unregistered++;
        newlyUnregistered++;
      } else {
        this.withoutRegisterHook++;
      }
    }
    if (i > 1024 && i * 2 > q.length) {
      this.queue = q.slice(i);
      this.head = 0;
    } else {
      this.head = i;
    }
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
          // No example client id: the sidecar's own log carries no client data (README,
          // "Personal data"); the log records (on_client_wakeup without on_register) show them.
          hint: 'see README "MQTT 5 clients": trace context in a JSON payload field reaches the sidecar from MQTT 3.1.1 publishers only. While events are lost (vmq_sidecar.upstream.missing, vmq_sidecar.frame.rejected, connections closed by the sidecar), some of these are registers that never arrived',
        },
      );
    }
  }

  private registersFlowing(): boolean {
    return this.lastNow - this.lastRegisterArrival <= this.options.registerFlowMs;
  }

  registerMetrics(store: MetricStore): void {
    const unregistered = store.sum(SIDECAR_METRICS.sessionsUnregisteredWakeups);
    const overflow = store.sum(SIDECAR_METRICS.sessionsWakeupMatchOverflow);
    store.onCollect(() => {
      this.sweep(Date.now());
      unregistered.get().value = this.unregistered;
      overflow.get().value = this.overflow;
    });
  }

  /** Sweeps every second, so that a wakeup is decided soon after its window closes. */
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
      pending: this.queue.length - this.head,
      overflow: this.overflow,
      registersFlowing: this.registersFlowing(),
    };
  }
}
