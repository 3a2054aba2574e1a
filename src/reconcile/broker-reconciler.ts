/**
 * Reconciliation with the broker: scrape the VerneMQ node's Prometheus endpoint and put what it
 * says next to what the sidecar derived: its connection count (and our drift from it), its
 * session queues, and its own count of events sent to the sidecar and failed per hook, so that
 * events lost between broker and sidecar become visible. A broker endpoint that is down, slow
 * or serving garbage is counted and logged (rate-limited), never fatal, and never touches
 * ingest: the scrape is one HTTP request per interval, off the hot path.
 *
 * The loss count spans sidecar restarts: its baseline, the broker's counters at the last scrape
 * and the events received since the baseline go into the --state-file snapshot, so events the
 * broker failed to send or sent into a dying process's socket while no sidecar was reading
 * still count as missing after the restart. A broker restart (its counters or its uptime going
 * back) starts the count over.
 */
import { HOOKS, type HookName } from '../events/event-types.js';
import { BROKER_METRIC_DEFS, type BrokerMetricDef } from '../metrics/metric-catalog.js';
import { sidecarFamilies } from '../metrics/sidecar-families.js';
import type { Component, StatusReport } from '../lifecycle/component.js';
import type { MetricStore, SumFamily } from '../metrics/metric-store.js';
import { brokerReadings, type BrokerPoint, type BrokerReading } from './broker-gauges.js';
import type { IngestStats } from '../receiver/ingest-stats.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { SnapshotSection } from '../sessions/session-snapshot.js';
import { maskUrl, splitCredentials } from '../logging/url-masking.js';
import { parsePrometheusText, sumBy, sumOf } from './prometheus-text.js';
import { BoundedValues, isWellFormedValue } from '../metrics/bounded-values.js';

/**
 * Distinct gRPC result names of the broker kept as error.type values (it reports about six);
 * further ones become "other", malformed ones "invalid": the broker's page is a peer's text.
 */
export const MAX_BROKER_GRPC_RESULTS = 8;

export type ScrapeOutcome = 'success' | 'error' | 'timeout' | 'invalid';

/** What one successful scrape says about the sends since the one before. */
export interface ScrapeReport {
  /** The previous successful scrape (this process's, or the one a snapshot was taken after); undefined at the first. */
  previousAt: number | undefined;
  at: number;
  /**
   * Per hook: sends lost since the previous scrape: the rise of sidecar_events_error or, at the
   * first scrape after a restart from a snapshot, the missing count then if larger (it adds the
   * events the dead process never read). A rise of the missing count at other times is mostly
   * events in flight at the scrape, not losses.
   */
  lostSince: Map<string, number>;
}

/** Responses larger than this are not broker metrics pages. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface BrokerView {
  at: number;
  connections: number | undefined;
  /**
   * Our connected-clients gauge when the scrape request was sent and when the broker's answer
   * arrived: the broker counted its connections somewhere in between.
   */
  gaugeAtScrape: { sent: number; answered: number };
  /** Our gauge minus the broker's count at the scrape's instant; undefined without a count or without a gauge to compare (deltas mode). */
  drift: number | undefined;
  queues: number | undefined;
  attempts: Map<string, number>;
  errors: Map<string, number>;
  /** The broker's uptime (`system_wallclock`, ms), when it exposes it. */
  uptimeMs: number | undefined;
  /** grpc_call_result{hook,result} of the plugin's gRPC transport: hook -> result -> count. */
  grpcResults: Map<string, Map<string, number>>;
  /**
   * Events received here per hook (index of HOOKS), and over gRPC, when the broker's answer
   * arrived: the counts its counters are compared with, so that the loss holds still between
   * scrapes while events flow (the drift gauge pairs our gauge with the scrape the same way).
   */
  receivedAtScrape: number[];
  receivedGrpcAtScrape: number[];
}

/** What the loss count needs to go on after a sidecar restart (kept in the snapshot). */
export interface ReconciliationState {
  url: string;
  /** The last successful scrape: when, the broker's uptime then, its counters then. */
  scrapedAtMs: number;
  brokerUptimeMs: number | null;
  /**
   * Per hook: the baseline's attempts and errors, the last scrape's, and events received here
   * since the baseline; the gRPC pair (the baseline's OK calls, gRPC events received here since)
   * is absent in snapshots of versions before it.
   */
  hooks: Record<string, { baseAttempts: number; baseErrors: number; lastAttempts: number; lastErrors: number; received: number; baseGrpcOk?: number; receivedGrpc?: number }>;
}

type Counters = Pick<BrokerView, 'at' | 'attempts' | 'errors' | 'uptimeMs'>;

/** Slack for comparing the broker's uptime with our clock (scrape latency, clock steps). */
const UPTIME_SLACK_MS = 10_000;

/** A scrape's answer, and our counts when it arrived. */
interface FetchedPage {
  text: string;
  gaugeAtScrape: BrokerView['gaugeAtScrape'];
  receivedAtScrape: number[];
  receivedGrpcAtScrape: number[];
}

interface Baseline {
  attempts: Map<string, number>;
  errors: Map<string, number>;
  received: number[];
  grpcOk: Map<string, number>;
  receivedGrpc: number[];
}

export class BrokerReconciler implements Component {
  readonly outcomes: Record<ScrapeOutcome, number> = { success: 0, error: 0, timeout: 0, invalid: 0 };
  last: BrokerView | undefined;
  /** The broker's own metrics (vernemq.*) at the last successful scrape, re-exported as they are. */
  readings: BrokerReading[] = [];
  lastError: string | undefined;
  private readonly grpcResultNames = new BoundedValues('error.type', MAX_BROKER_GRPC_RESULTS);
  private baseline: Baseline | undefined;
  /** The broker's counters at the previous process's last scrape, until this one scrapes. */
  private restoredLast: Counters | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  /** The baseline came from a snapshot without gRPC counts: the next scrape supplies them. */
  private grpcBaselinePending = false;
  /** Told after each successful scrape (whenScraped). */
  private onScrape: ((report: ScrapeReport) => void) | undefined;
  /** The URL as logged: credentials masked (url-masking.ts). */
  private readonly shownUrl: string;
  private readonly url: string;
  private readonly authorization: string | undefined;

  constructor(
    url: string,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly stats: IngestStats,
    /**
     * Our connected-clients gauge, all mountpoints; null when it is not a count to compare
     * (--gauge-mode deltas: a share of a sum over several sidecars), and then no drift.
     */
    private readonly derivedConnected: (() => number) | null,
    private readonly logger: SidecarLogger,
  ) {
    this.shownUrl = maskUrl(url);
    ({ url: this.url, authorization: this.authorization } = splitCredentials(url));
  }

  registerMetrics(store: MetricStore): void {
    const f = sidecarFamilies(store, ['brokerScrapes', 'brokerConnections', 'brokerQueues', 'brokerDrift', 'brokerSidecarEvents', 'brokerSidecarEventErrors', 'upstreamMissing', 'brokerGrpcCalls']);
    // The broker's own metrics: one family per catalog entry, its points set from the last
    // successful scrape (a metric the broker does not serve gets no series, no invented zero).
    const broker = new Map<BrokerMetricDef, SumFamily<[] | [string]>>();
    for (const def of BROKER_METRIC_DEFS) broker.set(def, def.kind === 'gauge' ? store.gauge(def) : store.sum(def));
    store.onCollect(() => {
      for (const r of this.readings) {
        const family = broker.get(r.def);
        if (family === undefined) continue;
        for (const p of r.points) family.get(...pointValues(r.def, p)).value = p.value;
      }
    });
    store.onCollect(() => {
      for (const o of Object.keys(this.outcomes) as ScrapeOutcome[]) f.brokerScrapes.get(o === 'success' ? '' : o).value = this.outcomes[o];
      const v = this.last;
      if (!v) return;
      if (v.connections !== undefined) f.brokerConnections.get().value = v.connections;
      if (v.drift !== undefined) f.brokerDrift.get().value = v.drift;
      if (v.queues !== undefined) f.brokerQueues.get().value = v.queues;
      for (const [hook, n] of v.attempts) if (isHook(hook)) f.brokerSidecarEvents.get(hook).value = n;
      for (const [hook, n] of v.errors) if (isHook(hook)) f.brokerSidecarEventErrors.get(hook).value = n;
      for (const [hook, n] of this.missing()) f.upstreamMissing.get(hook).value = n;
      for (const [hook, byResult] of v.grpcResults) {
        if (!isHook(hook)) continue;
        // Names folded into one value add up there.
        const sums = new Map<string, number>();
        for (const [result, n] of byResult) {
          // The first names get the places (the broker's set is small and fixed; this bound is
          // against a page that is not the broker's), not the half-for-recurring rule: every
          // collection would count as a sighting.
          if (result !== 'ok' && isWellFormedValue(result)) this.grpcResultNames.trust(result);
          const k = result === 'ok' ? '' : this.grpcResultNames.fold(result);
          sums.set(k, (sums.get(k) ?? 0) + n);
        }
        for (const [k, n] of sums) f.brokerGrpcCalls.get(hook, k).value = n;
      }
    });
  }

  /** `listener` is told after each successful scrape (the MQTT 5 count holds off while registers are lost). */
  whenScraped(listener: (report: ScrapeReport) => void): void {
    this.onScrape = listener;
  }

  start(): void {
    void this.scrapeOnce();
    this.timer = setInterval(() => void this.scrapeOnce(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  status(): StatusReport {
    const last = this.last;
    return {
      broker: {
        url: this.shownUrl,
        lastScrape: last ? new Date(last.at).toISOString() : null,
        connections: last?.connections ?? null,
        queues: last?.queues ?? null,
        drift: this.drift() ?? null,
        missingEventsByHook: Object.fromEntries(this.missing()),
        lateGrpcEventsByHook: Object.fromEntries(this.lateGrpc()),
        scrapes: this.outcomes,
        lastError: this.lastError ?? null,
      },
    };
  }

  /**
   * The time up to which the broker's failed sends are known: the last scrape, while scrapes
   * succeed; undefined otherwise (nothing to wait for).
   */
  knownUntil(): number | undefined {
    return this.lastError === undefined ? this.last?.at : undefined;
  }

  /**
   * Our gauge minus the broker's count, both as of the last successful scrape. Comparing the
   * gauge *now* with a count up to one interval old would report every connect and disconnect
   * since the scrape as drift.
   */
  drift(): number | undefined {
    return this.last?.drift;
  }

  /**
   * Per hook: attempted by the broker minus received here, both as of the last scrape, since the
   * baseline (the first scrape, carried over sidecar restarts by the snapshot; reset by a broker
   * restart). It moves only at scrapes, and only when the loss does. That is the
   * broker's failed sends plus what it sent that no sidecar process read. A gRPC call the broker
   * gave up on (deadline) but that reached us is received, so it is not missing (lateGrpc()).
   *
   * gRPC calls the broker saw answered OK beyond those received here went to another endpoint
   * (a central Service while the plugin's rollout percentage splits events between it and this
   * per-pod sidecar): they were delivered, so they are not missing either. The events of a hook
   * accounted for over gRPC are thus the larger of the two counts. Exact when gRPC goes to one
   * place; when calls reach both this sidecar and another endpoint, late answers received here
   * count as missing (the broker counts them as failed too).
   */
  missing(): Map<string, number> {
    return this.perHookSinceBaseline((hook, i, v, b) => {
      if (!v.attempts.has(hook)) return undefined;
      const attempted = (v.attempts.get(hook) ?? 0) - (b.attempts.get(hook) ?? 0);
      const received = v.receivedAtScrape[i]! - b.received[i]!;
      const okElsewhere = Math.max(0, grpcOkBeyondReceived(hook, i, v, b) ?? 0);
      return Math.max(0, attempted - received - okElsewhere);
    });
  }

  /**
   * Per hook, since the first scrape: events received here over gRPC beyond the calls the broker
   * saw answered OK (answered after its deadline: it counted them lost). Only for hooks the
   * broker reports grpc_call_result for.
   */
  lateGrpc(): Map<string, number> {
    return this.perHookSinceBaseline((hook, i, v, b) => {
      const beyond = grpcOkBeyondReceived(hook, i, v, b);
      return beyond === undefined ? undefined : Math.max(0, -beyond);
    });
  }

  /** Per hook, what `count` says of the last scrape against the baseline (undefined: no entry); empty before both exist. */
  private perHookSinceBaseline(count: (hook: HookName, i: number, last: BrokerView, baseline: Baseline) => number | undefined): Map<string, number> {
    const out = new Map<string, number>();
    const v = this.last;
    const b = this.baseline;
    if (!v || !b) return out;
    HOOKS.forEach((hook, i) => {
      const n = count(hook, i, v, b);
      if (n !== undefined) out.set(hook, n);
    });
    return out;
  }

  /** The loss count's state as of now, for the snapshot; undefined before any baseline. */
  saveState(): ReconciliationState | undefined {
    const b = this.baseline;
    const last = this.last ?? this.restoredLast;
    if (!b || !last) return undefined;
    const hooks: ReconciliationState['hooks'] = {};
    HOOKS.forEach((hook, i) => {
      hooks[hook] = {
        baseAttempts: b.attempts.get(hook) ?? 0,
        baseErrors: b.errors.get(hook) ?? 0,
        lastAttempts: last.attempts.get(hook) ?? 0,
        lastErrors: last.errors.get(hook) ?? 0,
        received: this.stats.eventsAt(i) - b.received[i]!,
        // Still unknown (an older snapshot, no scrape since): left out, as that snapshot had it.
        ...(this.grpcBaselinePending ? {} : { baseGrpcOk: b.grpcOk.get(hook) ?? 0, receivedGrpc: this.stats.grpc.eventsByHook[i]! - b.receivedGrpc[i]! }),
      };
    });
    return { url: this.url, scrapedAtMs: last.at, brokerUptimeMs: last.uptimeMs ?? null, hooks };
  }

  /** The loss count as the snapshot keeps it: JSON, a few hundred bytes, read once at start. */
  snapshotSection(): SnapshotSection {
    return {
      save: () => {
        const s = this.saveState();
        return s && Buffer.from(JSON.stringify(s));
      },
      restore: (bytes) => {
        try {
          return this.restoreState(parseReconciliationState(JSON.parse(bytes.toString('utf8'))));
        } catch (err) {
          return (err as Error).message;
        }
      },
    };
  }

  /** Continues the loss count of a previous process; returns why not when it cannot. */
  restoreState(s: ReconciliationState): string | undefined {
    if (s.url !== this.url) return `it was taken against ${s.url}`;
    const attempts = new Map<string, number>();
    const errors = new Map<string, number>();
    const lastAttempts = new Map<string, number>();
    const lastErrors = new Map<string, number>();
    const received = this.stats.eventsByHook.slice();
    const grpcOk = new Map<string, number>();
    const receivedGrpc = this.stats.grpc.eventsByHook.slice();
    let grpcKnown = true;
    HOOKS.forEach((hook, i) => {
      const h = s.hooks[hook];
      if (!h) return;
      attempts.set(hook, h.baseAttempts);
      errors.set(hook, h.baseErrors);
      lastAttempts.set(hook, h.lastAttempts);
      lastErrors.set(hook, h.lastErrors);
      // Received before this process started: as if counted here before the baseline was taken.
      received[i] = received[i]! - h.received;
      if (h.baseGrpcOk === undefined || h.receivedGrpc === undefined) grpcKnown = false;
      else {
        grpcOk.set(hook, h.baseGrpcOk);
        receivedGrpc[i] = receivedGrpc[i]! - h.receivedGrpc;
      }
    });
    this.baseline = { attempts, errors, received, grpcOk, receivedGrpc };
    // A snapshot from before the gRPC pair was kept: the first scrape tells whether the broker
    // sends over gRPC at all (if it does, the count starts over there).
    this.grpcBaselinePending = !grpcKnown;
    this.restoredLast = { at: s.scrapedAtMs, attempts: lastAttempts, errors: lastErrors, uptimeMs: s.brokerUptimeMs ?? undefined };
    return undefined;
  }

  async scrapeOnce(): Promise<ScrapeOutcome> {
    if (this.inFlight) return 'error';
    this.inFlight = true;
    try {
      const outcome = await this.scrape();
      this.outcomes[outcome]++;
      return outcome;
    } finally {
      this.inFlight = false;
    }
  }

  private async scrape(): Promise<ScrapeOutcome> {
    const page = await this.fetchPage();
    if (typeof page === 'string') return page;
    let parsed: { view: BrokerView; readings: BrokerReading[] };
    try {
      parsed = this.parsePage(page);
    } catch (err) {
      return this.fail('invalid', (err as Error).message);
    }
    this.readings = parsed.readings;
    this.accept(parsed.view);
    return 'success';
  }

  /** The page, with our counts at the broker's answer; the outcome (counted, logged) when there is none. */
  private async fetchPage(): Promise<FetchedPage | ScrapeOutcome> {
    try {
      const gauge = this.derivedConnected;
      const sent = gauge ? gauge() : 0;
      const res = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'text/plain', ...(this.authorization ? { authorization: this.authorization } : {}) } });
      // The broker rendered its count before its headers left: the body adds nothing to the window.
      const gaugeAtScrape = { sent, answered: gauge ? gauge() : 0 };
      // Its sidecar_events counters too: what it had attempted by then is compared with what had
      // arrived here by then. Events still in flight at this instant read as missing until the
      // next scrape (on loopback, the few read after the answer).
      const receivedAtScrape = this.stats.eventsByHook.slice();
      const receivedGrpcAtScrape = this.stats.grpc.eventsByHook.slice();
      if (!res.ok) return this.fail('error', `HTTP ${res.status}`);
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_BODY_BYTES) return this.fail('invalid', `response of ${length} bytes`);
      return { text: await res.text(), gaugeAtScrape, receivedAtScrape, receivedGrpcAtScrape };
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return this.fail('timeout', `no answer within ${this.timeoutMs} ms`);
      return this.fail('error', (e.cause as Error | undefined)?.message ?? e.message);
    }
  }

  /** What the page says; throws when it is not a VerneMQ metrics page. */
  private parsePage(page: FetchedPage): { view: BrokerView; readings: BrokerReading[] } {
    const samples = parsePrometheusText(page.text);
    const connections = brokerConnectionCount(samples);
    const view: BrokerView = {
      at: Date.now(),
      connections,
      gaugeAtScrape: page.gaugeAtScrape,
      drift: connections === undefined || this.derivedConnected === null ? undefined : driftAtScrape(page.gaugeAtScrape, connections),
      queues: sumOf(samples, 'queue_processes'),
      attempts: sumBy(samples, 'sidecar_events', 'hook'),
      errors: sumBy(samples, 'sidecar_events_error', 'hook'),
      uptimeMs: sumOf(samples, 'system_wallclock'),
      grpcResults: sumByTwo(samples, 'grpc_call_result', 'hook', 'result'),
      receivedAtScrape: page.receivedAtScrape,
      receivedGrpcAtScrape: page.receivedGrpcAtScrape,
    };
    if (view.connections === undefined && view.attempts.size === 0) throw new Error('no VerneMQ metrics (active_mqtt_connections, sidecar_events) in the response');
    return { view, readings: brokerReadings(samples) };
  }

  /** A successful scrape: the view becomes the last, the baseline starts (over) when it must, onScrape is told. */
  private accept(view: BrokerView): void {
    const prev = this.last ?? this.restoredLast;
    const afterRestore = this.last === undefined && this.restoredLast !== undefined;
    // First scrape (and nothing restored), or the broker restarted: counting starts over. What the
    // broker attempted between our last scrape and its restart is not knowable.
    const restarted = prev !== undefined && brokerRestarted(prev, view);
    this.updateBaseline(view, restarted);
    this.last = view;
    this.restoredLast = undefined;
    if (this.onScrape !== undefined) {
      const lostSince = new Map<string, number>();
      const unread = afterRestore && !restarted ? this.missing() : undefined;
      for (const hook of view.attempts.keys()) {
        const errorsRose = restarted || prev === undefined ? 0 : (view.errors.get(hook) ?? 0) - (prev.errors.get(hook) ?? 0);
        lostSince.set(hook, Math.max(0, errorsRose, unread?.get(hook) ?? 0));
      }
      this.onScrape({ previousAt: restarted ? undefined : prev?.at, at: view.at, lostSince });
    }
    if (this.lastError !== undefined) this.logger.info('broker metrics reachable again', { url: this.shownUrl });
    this.lastError = undefined;
  }

  private updateBaseline(view: BrokerView, restarted: boolean): void {
    // A snapshot of a version that kept no gRPC counts, and the broker sends over gRPC: the OK
    // calls since the restored baseline are unknown, so the count starts over too.
    const grpcUnknown = this.grpcBaselinePending && view.grpcResults.size > 0;
    // Known from here on: the count starts over now, or (restored without gRPC counts, and no
    // gRPC in use) nothing was sent that way.
    this.grpcBaselinePending = false;
    if (this.baseline && !restarted && !grpcUnknown) return;
    if (restarted) this.logger.info('the broker restarted: upstream loss is counted from its restart on', { url: this.shownUrl });
    else if (grpcUnknown) this.logger.info('the snapshot has no gRPC counts: upstream loss is counted from now on', { url: this.shownUrl });
    this.baseline = {
      attempts: new Map(view.attempts),
      errors: new Map(view.errors),
      received: view.receivedAtScrape.slice(),
      grpcOk: new Map([...view.grpcResults].map(([hook, r]) => [hook, r.get('ok') ?? 0])),
      receivedGrpc: view.receivedGrpcAtScrape.slice(),
    };
  }

  private fail(outcome: ScrapeOutcome, detail: string): ScrapeOutcome {
    this.lastError = `${outcome}: ${detail}`;
    this.logger.limited('warn', 'broker-scrape', 60_000, 'broker metrics scrape failed; reconciliation paused', { url: this.shownUrl, outcome, detail });
    return outcome;
  }
}

/**
 * Our gauge minus the broker's count, taken as 0 when the count lies between the gauge's values
 * at request and at answer: the broker sampled somewhere in that window, and our gauge held that
 * count at some instant of it (a difference smaller than the gauge moved meanwhile cannot be
 * told apart from the timing). Outside the window, the distance to its nearer end.
 */
export function driftAtScrape(gauge: { sent: number; answered: number }, brokerCount: number): number {
  const lo = Math.min(gauge.sent, gauge.answered);
  const hi = Math.max(gauge.sent, gauge.answered);
  if (brokerCount < lo) return lo - brokerCount;
  if (brokerCount > hi) return hi - brokerCount;
  return 0;
}

/**
 * The broker's connections on every listener: active_mqtt_connections counts only the TCP and
 * TLS listeners, and WebSocket clients (active_mqttws_connections) go through the same session
 * hooks, so they are in our gauge too. Undefined when the broker serves neither.
 */
export function brokerConnectionCount(samples: ReturnType<typeof parsePrometheusText>): number | undefined {
  const tcp = sumOf(samples, 'active_mqtt_connections');
  const ws = sumOf(samples, 'active_mqttws_connections');
  return tcp === undefined && ws === undefined ? undefined : (tcp ?? 0) + (ws ?? 0);
}

/** Its counters went back, or it has been up for less time than has passed since `prev`. */
function brokerRestarted(prev: Counters, now: Counters): boolean {
  const back = (a: Map<string, number>, b: Map<string, number>) => [...b].some(([h, n]) => n < (a.get(h) ?? 0));
  if (back(prev.attempts, now.attempts) || back(prev.errors, now.errors)) return true;
  if (prev.uptimeMs === undefined || now.uptimeMs === undefined) return false;
  return now.uptimeMs + UPTIME_SLACK_MS < prev.uptimeMs + (now.at - prev.at);
}

/** Checks the shape of a state read back from disk (a snapshot of another version may differ). */
export function parseReconciliationState(v: unknown): ReconciliationState {
  const o = v as ReconciliationState;
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  if (typeof o?.url !== 'string' || !num(o.scrapedAtMs) || !(o.brokerUptimeMs === null || num(o.brokerUptimeMs)) || typeof o.hooks !== 'object' || o.hooks === null) {
    throw new Error('reconciliation state has an unexpected shape');
  }
  for (const h of Object.values(o.hooks)) {
    if (![h?.baseAttempts, h?.baseErrors, h?.lastAttempts, h?.lastErrors, h?.received].every(num)) throw new Error('reconciliation state has an unexpected shape');
    if (![h.baseGrpcOk, h.receivedGrpc].every((x) => x === undefined || num(x))) throw new Error('reconciliation state has an unexpected shape');
  }
  return o;
}

function sumByTwo(samples: ReturnType<typeof parsePrometheusText>, name: string, outer: string, inner: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const s of samples) {
    if (s.name !== name && s.name !== `${name}_total`) continue;
    const a = s.labels[outer];
    const b = s.labels[inner];
    if (a === undefined || b === undefined) continue;
    let m = out.get(a);
    if (!m) out.set(a, (m = new Map()));
    m.set(b, (m.get(b) ?? 0) + s.value);
  }
  return out;
}

function isHook(h: string): boolean {
  return (HOOKS as readonly string[]).includes(h);
}

/** A broker point's attribute values in its metric's order ("" for one the page did not give). */
function pointValues(def: BrokerMetricDef, p: BrokerPoint): [] | [string] {
  const [a] = def.attributes;
  return a === undefined ? [] : [p.attributes[a.name] ?? ''];
}

/**
 * Since the baseline: the calls of a hook the broker saw answered OK minus its events received
 * here over gRPC (positive: answered by another endpoint; negative: received here after the
 * broker's deadline). Undefined when the broker reports no grpc_call_result for the hook.
 */
function grpcOkBeyondReceived(hook: HookName, i: number, v: BrokerView, b: Baseline): number | undefined {
  const results = v.grpcResults.get(hook);
  if (!results) return undefined;
  const ok = (results.get('ok') ?? 0) - (b.grpcOk.get(hook) ?? 0);
  return ok - (v.receivedGrpcAtScrape[i]! - b.receivedGrpc[i]!);
}
