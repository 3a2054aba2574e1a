/**
 * Reconciliation with the broker: scrape the VerneMQ node's Prometheus endpoint and put what it
 * says next to what the sidecar derived: its connection count (and our drift from it), its
 * session queues, and its own count of events sent to the sidecar and failed per hook, so that
 * events lost between broker and sidecar become visible. A broker endpoint that is down, slow
 * or serving garbage is counted and logged (rate-limited), never fatal, and never touches
 * ingest: the scrape is one HTTP request per interval, off the hot path.
 */
import { HOOKS } from '../events/event-types.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import type { MetricStore } from '../metrics/metric-store.js';
import type { IngestStats } from '../receiver/ingest-stats.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { parsePrometheusText, sumBy, sumOf } from './prometheus-text.js';

export type ScrapeOutcome = 'success' | 'error' | 'timeout' | 'invalid';

/** Responses larger than this are not broker metrics pages. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface BrokerView {
  at: number;
  connections: number | undefined;
  totalActiveConnections: number | undefined;
  queues: number | undefined;
  attempts: Map<string, number>;
  errors: Map<string, number>;
  /** grpc_call_result{hook,result} of the plugin's gRPC transport: hook -> result -> count. */
  grpcResults: Map<string, Map<string, number>>;
}

interface Baseline {
  attempts: Map<string, number>;
  errors: Map<string, number>;
  received: number[];
  grpcOk: Map<string, number>;
  receivedGrpc: number[];
}

export class BrokerReconciler {
  readonly outcomes: Record<ScrapeOutcome, number> = { success: 0, error: 0, timeout: 0, invalid: 0 };
  last: BrokerView | undefined;
  lastError: string | undefined;
  private baseline: Baseline | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(
    private readonly url: string,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly stats: IngestStats,
    /** Our connected-clients gauge, all mountpoints. */
    private readonly derivedConnected: () => number,
    store: MetricStore,
    private readonly logger: SidecarLogger,
  ) {
    const M = SIDECAR_METRICS;
    const scrapes = store.sum(M.brokerScrapes);
    const connections = store.sum(M.brokerConnections);
    const queues = store.sum(M.brokerQueues);
    const drift = store.sum(M.brokerDrift);
    const attempts = store.sum(M.brokerSidecarEvents);
    const errors = store.sum(M.brokerSidecarEventErrors);
    const missing = store.sum(M.upstreamMissing);
    const grpcCalls = store.sum(M.brokerGrpcCalls);
    store.onCollect(() => {
      for (const o of Object.keys(this.outcomes) as ScrapeOutcome[]) scrapes.get(o).value = this.outcomes[o];
      const v = this.last;
      if (!v) return;
      if (v.connections !== undefined) {
        connections.get().value = v.connections;
        drift.get().value = this.drift()!;
      }
      if (v.queues !== undefined) queues.get().value = v.queues;
      for (const [hook, n] of v.attempts) if (isHook(hook)) attempts.get(hook).value = n;
      for (const [hook, n] of v.errors) if (isHook(hook)) errors.get(hook).value = n;
      for (const [hook, n] of this.missing()) missing.get(hook).value = n;
      for (const [hook, byResult] of v.grpcResults) if (isHook(hook)) for (const [result, n] of byResult) grpcCalls.get(hook, result).value = n;
    });
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

  /** Our gauge minus the broker's count, at the last successful scrape. */
  drift(): number | undefined {
    const c = this.last?.connections;
    return c === undefined ? undefined : this.derivedConnected() - c;
  }

  /**
   * Per hook, since the first scrape: attempted by the broker, minus its failures, minus what
   * arrived here and the broker did not count as failed. The plugin counts a gRPC call that
   * timed out (or was refused) in sidecar_events_error, yet the sidecar may have received and
   * counted it before the broker gave up: those late gRPC events (received here over gRPC
   * beyond the broker's grpc_call_result{result="ok"}) are in both terms and are added back.
   */
  missing(): Map<string, number> {
    const out = new Map<string, number>();
    const v = this.last;
    const b = this.baseline;
    if (!v || !b) return out;
    const late = this.lateGrpc();
    HOOKS.forEach((hook, i) => {
      const attempted = (v.attempts.get(hook) ?? 0) - (b.attempts.get(hook) ?? 0);
      const failed = (v.errors.get(hook) ?? 0) - (b.errors.get(hook) ?? 0);
      const received = this.stats.eventsByHook[i]! - b.received[i]!;
      if (v.attempts.has(hook)) out.set(hook, Math.max(0, attempted - failed - (received - (late.get(hook) ?? 0))));
    });
    return out;
  }

  /**
   * Per hook, since the first scrape: events received here over gRPC beyond the calls the broker
   * saw answered OK (answered after its deadline: it counted them lost). Only for hooks the
   * broker reports grpc_call_result for.
   */
  lateGrpc(): Map<string, number> {
    const out = new Map<string, number>();
    const v = this.last;
    const b = this.baseline;
    if (!v || !b) return out;
    HOOKS.forEach((hook, i) => {
      const results = v.grpcResults.get(hook);
      if (!results) return;
      const ok = (results.get('ok') ?? 0) - (b.grpcOk.get(hook) ?? 0);
      const receivedGrpc = this.stats.grpc.eventsByHook[i]! - b.receivedGrpc[i]!;
      out.set(hook, Math.max(0, receivedGrpc - ok));
    });
    return out;
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
    let text: string;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'text/plain' } });
      if (!res.ok) return this.fail('error', `HTTP ${res.status}`);
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_BODY_BYTES) return this.fail('invalid', `response of ${length} bytes`);
      text = await res.text();
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return this.fail('timeout', `no answer within ${this.timeoutMs} ms`);
      return this.fail('error', (e.cause as Error | undefined)?.message ?? e.message);
    }
    let view: BrokerView;
    try {
      const samples = parsePrometheusText(text);
      view = {
        at: Date.now(),
        connections: sumOf(samples, 'active_mqtt_connections'),
        totalActiveConnections: sumOf(samples, 'total_active_connections'),
        queues: sumOf(samples, 'queue_processes'),
        attempts: sumBy(samples, 'sidecar_events', 'hook'),
        errors: sumBy(samples, 'sidecar_events_error', 'hook'),
        grpcResults: sumByTwo(samples, 'grpc_call_result', 'hook', 'result'),
      };
      if (view.connections === undefined && view.attempts.size === 0) throw new Error('no VerneMQ metrics (active_mqtt_connections, sidecar_events) in the response');
    } catch (err) {
      return this.fail('invalid', (err as Error).message);
    }
    const prev = this.last;
    // First scrape, or the broker restarted (its counters went back): counting starts over.
    const reset = prev !== undefined && [...view.attempts].some(([h, n]) => n < (prev.attempts.get(h) ?? 0));
    if (!this.baseline || reset) {
      const grpcOk = new Map([...view.grpcResults].map(([hook, r]) => [hook, r.get('ok') ?? 0]));
      this.baseline = {
        attempts: new Map(view.attempts),
        errors: new Map(view.errors),
        received: this.stats.eventsByHook.slice(),
        grpcOk,
        receivedGrpc: this.stats.grpc.eventsByHook.slice(),
      };
    }
    this.last = view;
    if (this.lastError !== undefined) this.logger.info('broker metrics reachable again', { url: this.url });
    this.lastError = undefined;
    return 'success';
  }

  private fail(outcome: ScrapeOutcome, detail: string): ScrapeOutcome {
    this.lastError = `${outcome}: ${detail}`;
    this.logger.limited('warn', 'broker-scrape', 60_000, 'broker metrics scrape failed; reconciliation paused', { url: this.url, outcome, detail });
    return outcome;
  }
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
