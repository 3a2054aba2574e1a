/**
 * Per-client session state -> the connected-client and offline-session gauges and the session
 * duration histogram.
 *
 * The plugin sends each event on a random connection of its pool, so events about one client
 * can arrive out of order. Each client's state carries the broker timestamp of its last
 * transition; an event older than that is stale and changes nothing (it is counted). A gauge
 * only moves when a client's state actually changes, so it can never go negative.
 *
 * After a gone or expiry, a client's entry stays for `tombstoneMs` so that late, older events
 * about it are recognised as stale instead of resurrecting it.
 */
import type { EventSink } from '../sinks/event-sink.js';
import type { Component, StatusReport } from '../lifecycle/component.js';
import type { ClientGoneEvent, ClientOfflineEvent, HookName, RegisterEvent, SidecarEvent } from '../events/event-types.js';
import { unhandledHook } from '../events/unhandled-hook.js';
import { HeadQueue } from './head-queue.js';
import { MQTT_METRICS, SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { HistogramFamilyOf, MetricStore, NumberFamilyOf } from '../metrics/metric-store.js';

/** Separates mountpoint and client id in a client's key (neither can contain it). */
export const KEY_SEP = '\u0000';

/** A client's key: mountpoint and client id. */
export function clientKey(mountpoint: string, clientId: string): string {
  return mountpoint + KEY_SEP + clientId;
}
import type { ClientGroup, Mountpoint } from '../metrics/bounded-values.js';
import type { AttributeFolding } from '../metrics/attribute-folding.js';
import type { Host } from '../host.js';

export interface SessionTrackerOptions {
  maxClients: number;
  /** How long a removed session is remembered to reject older events (ms). */
  tombstoneMs?: number;
  /**
   * 'deltas': keep no per-client state; mqtt.client.connected moves +1 per wakeup and -1 per
   * offline/gone, whichever client it is about. For replicas that each get a share of every
   * client's events: each replica's value means nothing alone, the sum over the replicas is the
   * connected count. mqtt.session.offline and session durations need a client's history, so
   * they are not produced. Default 'sessions'.
   */
  mode?: 'sessions' | 'deltas';
}

export class ClientState {
  connected = false;
  offline = false;
  /** Broker time of the last applied transition. */
  sec = 0;
  nanos = 0;
  /** Broker time (ms) of the wakeup that connected the client; NaN when unknown. */
  sinceMs = NaN;
  /** When the entry became a tombstone (ms, sidecar clock); 0 while the session lives. */
  removedAt = 0;

  /** The mqtt.client.group the client was counted connected under, so its -1 finds its +1. */
  group: ClientGroup = '';

  /** This process saw the wakeup of the current connection (false for a state restored from a snapshot). */
  wakeupSeen = false;
  /** A newer wakeup came while connected, and no offline/gone for the earlier connection has arrived since. */
  endUnseen = false;

  constructor(readonly mountpoint: Mountpoint) {}
}

const DEFAULT_TOMBSTONE_MS = 10 * 60 * 1000;

export class SessionTracker implements EventSink, Component {
  readonly clients = new Map<string, ClientState>();
  stale = 0;
  untracked = 0;
  /**
   * Connections whose end never arrived: a client woke up again while still connected from a
   * wakeup this process saw, and no offline/gone for the earlier connection arrived (a late one,
   * reordered by the plugin's pool, takes it back). Evidence that the hooks ending connections
   * are not sent (hook-coverage.ts); events lost upstream can cause it too.
   */
  endsUnseen = 0;
  /** The gauges and the histogram this tracker moves (registerMetrics, before any event or snapshot). */
  private connected!: NumberFamilyOf<typeof MQTT_METRICS.connected>;
  private offline!: NumberFamilyOf<typeof MQTT_METRICS.offline>;
  private duration!: HistogramFamilyOf<typeof MQTT_METRICS.sessionDuration>;
  /** Removed sessions in removal order, for expiring tombstones without scanning every client. */
  private readonly tombstones = new HeadQueue<{ key: string; at: number }>();
  private readonly tombstoneMs: number;
  private readonly deltas: boolean;
  /** The session-layer hooks: a connection's start and end, a session's expiry (and on_register for username groups). */
  readonly hooks: readonly HookName[];
  private readonly regroups: boolean;
  /** The host's mountpoints and client groups (client-grouper.ts remembers usernames from on_register). */
  private readonly attributes: AttributeFolding;

  constructor(
    host: Pick<Host, 'attributes'>,
    private readonly options: SessionTrackerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.attributes = host.attributes;
    this.tombstoneMs = options.tombstoneMs ?? DEFAULT_TOMBSTONE_MS;
    this.deltas = options.mode === 'deltas';
    this.hooks = this.deltas ? ['on_client_wakeup', 'on_client_offline', 'on_client_gone'] : ['on_client_wakeup', 'on_client_offline', 'on_client_gone', 'on_session_expired'];
    // The broker fires a connection's wakeup before its register, and only the register carries
    // the username: a client counted before it is moved to its username's group when it arrives.
    this.regroups = !this.deltas && (host.attributes.clientGrouper?.usesUsernames ?? false);
    if (this.regroups) this.hooks = [...this.hooks, 'on_register'];
  }

  registerMetrics(store: MetricStore): void {
    this.connected = store.sum(MQTT_METRICS.connected);
    this.offline = store.sum(MQTT_METRICS.offline);
    this.duration = store.histogram(MQTT_METRICS.sessionDuration);
    const tracked = store.sum(SIDECAR_METRICS.sessionsTracked);
    const untracked = store.sum(SIDECAR_METRICS.sessionsUntracked);
    const stale = store.sum(SIDECAR_METRICS.sessionsStale);
    store.onCollect(() => {
      this.expireTombstones();
      tracked.get().value = this.clients.size;
      untracked.get().value = this.untracked;
      stale.get().value = this.stale;
    });
  }

  status(): StatusReport {
    return {
      sessions: { tracked: this.trackedClients, connected: this.connectedTotal(), offline: this.offlineTotal(), staleEvents: this.stale, untrackedEvents: this.untracked },
    };
  }

  /** Connected clients per mountpoint (as exported). */
  connectedCount(mountpoint = ''): number {
    let n = 0;
    for (const s of this.connected.all()) if (s.attributes['mqtt.mountpoint'] === mountpoint) n += s.value;
    return n;
  }

  offlineCount(mountpoint = ''): number {
    return this.offline.get(mountpoint as Mountpoint).value;
  }

  /** A client's state, as the gauges count it; undefined when it is not tracked. */
  client(mountpoint: string, clientId: string): Readonly<ClientState> | undefined {
    return this.clients.get(clientKey(mountpoint, clientId));
  }

  /** Clients whose state is kept (tombstones included), as vmq_sidecar.session.tracked. */
  get trackedClients(): number {
    return this.clients.size;
  }

  /** Connected clients over all mountpoints. */
  connectedTotal(): number {
    return this.connected.total();
  }

  offlineTotal(): number {
    return this.offline.total();
  }

  /**
   * Puts back a client's state from a snapshot (before any event is applied) and counts it in
   * the gauges.
   */
  restore(key: string, mountpoint: string, saved: ClientState): void {
    // Each restored client is a sighting of its mountpoint (no event sighted it in this run).
    const mp = this.attributes.foldMountpoint(mountpoint);
    if (this.deltas) {
      // A sessions-mode snapshot read in deltas mode (a sidecar switched over): its connected
      // clients are the delta to start from, as their disconnects will come as -1s; no client
      // entry is kept, so none is saved or restored again.
      if (saved.connected) this.connected.get(mp, this.groupByClientId(key.slice(mountpoint.length + 1))).value += 1;
      return;
    }
    if (this.clients.has(key) || this.clients.size >= this.options.maxClients) return;
    const c = new ClientState(mp);
    c.connected = saved.connected;
    c.offline = saved.offline;
    c.sec = saved.sec;
    c.nanos = saved.nanos;
    c.sinceMs = saved.sinceMs;
    c.removedAt = saved.removedAt;
    this.clients.set(key, c);
    if (c.connected) {
      // The username is not in the snapshot: client id patterns only until the client's next event.
      c.group = this.group(key.slice(mountpoint.length + 1));
      this.connected.get(c.mountpoint, c.group).value += 1;
    }
    if (c.offline) this.offline.get(c.mountpoint).value += 1;
    if (c.removedAt !== 0) this.tombstones.push({ key, at: c.removedAt });
  }

  consume(e: SidecarEvent): void {
    if (this.deltas) {
      this.consumeDelta(e);
      return;
    }
    switch (e.hook) {
      case 'on_client_wakeup': {
        const c = this.transition(e);
        if (c === null) return;
        if (c.connected && c.wakeupSeen && !c.endUnseen) {
          c.endUnseen = true;
          this.endsUnseen++;
        }
        c.wakeupSeen = true;
        this.setOffline(c, false);
        this.setConnected(c, true, e.clientId);
        c.sinceMs = e.timeSec * 1000 + e.timeNanos / 1e6;
        c.removedAt = 0;
        return;
      }
      case 'on_client_offline':
      case 'on_client_gone':
        this.connectionEnded(e);
        return;
      case 'on_session_expired': {
        const c = this.transition(e);
        if (c === null) return;
        this.setOffline(c, false);
        // Still connected means the offline event before the expiry has not arrived (yet): the
        // expiry says the client is gone. Its session length is unknown, so none is recorded.
        this.setConnected(c, false);
        this.remove(c, e.mountpoint, e.clientId);
        return;
      }
      case 'on_register': {
        if (this.regroups) this.regroup(e);
        return;
      }
      // Hooks that do not change a session's state.
      case 'on_register_failed':
      case 'on_subscribe':
      case 'on_unsubscribe':
      case 'on_publish':
      case 'on_deliver':
      case 'on_delivery_complete':
      case 'on_offline_message':
      case 'on_message_drop':
        return;
      default:
        unhandledHook(e);
    }
  }

  /**
   * on_client_offline (the session is kept: offline) or on_client_gone (it is removed). Either
   * ends the connection, stale or not, as far as hook coverage is concerned.
   */
  private connectionEnded(e: ClientOfflineEvent | ClientGoneEvent): void {
    // One key for both lookups: a concatenated key is flattened and hashed at its first lookup,
    // and the second reuses that (the two lookups took 7 % of the metrics path's CPU profile).
    const key = clientKey(e.mountpoint, e.clientId);
    this.endArrived(key);
    const c = this.transition(e, key);
    if (c === null) return;
    const kept = e.hook === 'on_client_offline';
    this.disconnect(c, e.timeSec, e.timeNanos, kept);
    this.setOffline(c, kept);
    if (kept) c.removedAt = 0;
    else this.remove(c, e.mountpoint, e.clientId);
  }

  /**
   * A connected client whose username now puts it in another group moves there. Not a state
   * transition: a register changes neither connected nor offline. A register from before the
   * current connection's wakeup is an older connection's, arriving late (pool reordering), and
   * may name another user: it moves nothing.
   */
  private regroup(e: RegisterEvent): void {
    // First, so that the grouper remembers the username for a wakeup still to come (a register
    // can arrive first), whatever the order of the sinks.
    const g = this.group(e.clientId, e.username);
    const c = this.clients.get(clientKey(e.mountpoint, e.clientId));
    if (c === undefined || !c.connected) return;
    if (e.timeSec * 1000 + e.timeNanos / 1e6 < c.sinceMs) return;
    if (g === c.group) return;
    this.connected.get(c.mountpoint, c.group).value -= 1;
    c.group = g;
    this.connected.get(c.mountpoint, g).value += 1;
  }

  /**
   * Every connection starts with one wakeup and ends with one offline or gone (a takeover ends
   * the old connection with one too), so counting them is exact in sum, in any order, on any
   * replica. An expiry is of an offline session: it does not touch the connected count.
   */
  private consumeDelta(e: SidecarEvent): void {
    const h = e.hook;
    // Without per-client state the -1 is grouped again, so both are grouped by client id alone:
    // the wakeup carries no username and the offline/gone does, and a user: pattern would put
    // the +1 and the -1 of one connection in different series.
    if (h === 'on_client_wakeup') this.connected.get(this.attributes.mountpointOf(e), this.groupByClientId(e.clientId)).value += 1;
    else if (h === 'on_client_offline' || h === 'on_client_gone') this.connected.get(this.attributes.mountpointOf(e), this.groupByClientId(e.clientId)).value -= 1;
  }

  /** mqtt.client.group: "" (absent) without --client-groups. */
  private group(clientId: string, username?: string): ClientGroup {
    return this.attributes.clientGroup(clientId, username);
  }

  private groupByClientId(clientId: string): ClientGroup {
    return this.attributes.clientGroupByClientId(clientId);
  }

  /** Gauges move only when a client's state changes, so they can never go negative. */
  private setConnected(c: ClientState, connected: boolean, clientId = ''): void {
    if (c.connected === connected) return;
    c.connected = connected;
    if (!connected) c.sinceMs = NaN;
    if (connected) c.group = this.group(clientId);
    this.connected.get(c.mountpoint, c.group).value += connected ? 1 : -1;
  }

  private setOffline(c: ClientState, offline: boolean): void {
    if (c.offline === offline) return;
    c.offline = offline;
    this.offline.get(c.mountpoint).value += offline ? 1 : -1;
  }

  /**
   * The client's state if the event is not older than its last transition (which becomes the
   * event's time), or null when the event is stale or the client cannot be tracked.
   */
  private transition(e: SidecarEvent, key = clientKey(e.mountpoint, e.clientId)): ClientState | null {
    let c = this.clients.get(key);
    if (c === undefined) {
      if (this.clients.size >= this.options.maxClients) {
        this.expireTombstones();
        if (this.clients.size >= this.options.maxClients) {
          this.untracked++;
          return null;
        }
      }
      c = new ClientState(this.attributes.mountpointOf(e));
      this.clients.set(key, c);
    } else if (e.timeSec < c.sec || (e.timeSec === c.sec && e.timeNanos < c.nanos)) {
      this.stale++;
      return null;
    }
    c.sec = e.timeSec;
    c.nanos = e.timeNanos;
    return c;
  }

  /** An offline or gone, stale or not: a connection's end did arrive. */
  private endArrived(key: string): void {
    const c = this.clients.get(key);
    if (c !== undefined && c.endUnseen) {
      c.endUnseen = false;
      this.endsUnseen--;
    }
  }

  /** Ends a connection, recording how long it lasted when its wakeup was seen. */
  private disconnect(c: ClientState, sec: number, nanos: number, persistent: boolean): void {
    if (!c.connected) return;
    if (!Number.isNaN(c.sinceMs)) {
      const seconds = (sec * 1000 + nanos / 1e6 - c.sinceMs) / 1000;
      this.duration.get(c.mountpoint, persistent).record(seconds > 0 ? seconds : 0);
    }
    this.setConnected(c, false);
  }

  private remove(c: ClientState, mountpoint: string, clientId: string): void {
    if (c.removedAt !== 0) return;
    c.removedAt = this.now();
    this.tombstones.push({ key: clientKey(mountpoint, clientId), at: c.removedAt });
  }

  /** Orders the tombstone queue by removal time (after a restore, which adds them unordered). */
  sortTombstones(): void {
    this.tombstones.sort((a, b) => a.at - b.at);
  }

  /** Forgets removed sessions older than the tombstone period. */
  expireTombstones(): void {
    const cutoff = this.now() - this.tombstoneMs;
    const q = this.tombstones.items;
    let i = this.tombstones.head;
    while (i < q.length && q[i]!.at <= cutoff) {
      const { key, at } = q[i]!;
      const c = this.clients.get(key);
      // Only if the entry is still the same tombstone (not revived by a later wakeup).
      if (c !== undefined && c.removedAt === at && !c.connected && !c.offline) this.clients.delete(key);
      i++;
    }
    this.tombstones.takenTo(i);
  }
}
