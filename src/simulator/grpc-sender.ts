/**
 * Plays the plugin's gRPC transport: `workers` workers, each with one Event call in flight at a
 * time for the whole round trip and a bounded queue, events dispatched to the workers
 * round-robin, worker i calling on connection i mod `connections`, a per-call deadline, no
 * retry: a call not answered OK in time is a lost event, counted as the broker counts it.
 */
import { LEN, varintSize, writeVarint } from '../protowire/writer.js';
import * as grpc from '@grpc/grpc-js';
import type { HostPort } from '../config/option-parser.js';

export const EVENT_METHOD_PATH = '/webhook.v1beta1.PluginService/Event';

export interface GrpcSenderOptions {
  /** Several targets: connection i goes to target i mod N (a connection-balancing load balancer). */
  target: HostPort | HostPort[];
  connections: number;
  workers: number;
  timeoutMs: number;
  /** The user-type metadata value (the plugin's vmq_events_sidecar.user_type). */
  userType: string;
  /** Events a worker may hold before further ones are dropped (the plugin's 2000). */
  maxQueue?: number;
}

export interface GrpcSendOutcome {
  /** Calls answered OK. */
  ok: number;
  /** Calls answered with another status, by status name (DEADLINE_EXCEEDED is in `timeouts`). */
  errors: Record<string, number>;
  /** Calls not answered within the timeout. */
  timeouts: number;
  /** Events dropped because a worker's queue was full. */
  queueFull: number;
  /** Answer times of the OK calls (ms), when recorded. */
  latenciesMs: number[];
}

const passThrough = (b: Buffer): Buffer => b;

/** EventRequest { Any event = 1 } around an encoded Any. */
export function eventRequest(any: Uint8Array): Buffer {
  const head = 1 + varintSize(any.length);
  const out = Buffer.allocUnsafe(head + any.length);
  out[0] = (1 << 3) | LEN;
  writeVarint(out, 1, any.length);
  out.set(any, head);
  return out;
}

interface Worker {
  queue: Buffer[];
  head: number;
  busy: boolean;
  client: grpc.Client;
}

export class GrpcSender {
  readonly outcome: GrpcSendOutcome = { ok: 0, errors: {}, timeouts: 0, queueFull: 0, latenciesMs: [] };
  private readonly clients: grpc.Client[];
  private readonly workers: Worker[];
  private next = 0;
  private inFlight = 0;
  private queued = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly metadata: grpc.Metadata;
  private readonly maxQueue: number;

  constructor(
    private readonly options: GrpcSenderOptions,
    private readonly recordLatency = false,
  ) {
    const targets = Array.isArray(options.target) ? options.target : [options.target];
    const addresses = targets.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`));
    // A local subchannel pool per client: `connections` real HTTP/2 connections, as the plugin's pool.
    this.clients = Array.from(
      { length: options.connections },
      (_, i) => new grpc.Client(addresses[i % addresses.length]!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
    );
    this.workers = Array.from({ length: options.workers }, (_, i) => ({ queue: [], head: 0, busy: false, client: this.clients[i % this.clients.length]! }));
    this.metadata = new grpc.Metadata();
    this.metadata.set('user-type', options.userType);
    this.maxQueue = options.maxQueue ?? 2000;
  }

  /** Waits until every connection is up (so that connecting is not timed). */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(this.clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(deadline, (err) => (err ? reject(err) : resolve())))));
  }

  /** Queues one encoded Any on the next worker; false when that worker's queue is full (dropped). */
  send(any: Uint8Array): boolean {
    const w = this.workers[this.next]!;
    this.next = (this.next + 1) % this.workers.length;
    if (w.queue.length - w.head >= this.maxQueue) {
      this.outcome.queueFull++;
      return false;
    }
    w.queue.push(eventRequest(any));
    this.queued++;
    if (!w.busy) this.pump(w);
    return true;
  }

  /** Events queued or in flight. */
  get pending(): number {
    return this.queued + this.inFlight;
  }

  /** Resolves when `pending` is at most `below` (0: everything answered or timed out). */
  waitBelow(below = 0): Promise<void> {
    if (this.pending <= below) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.pending <= below) resolve();
        else this.idleWaiters.push(check);
      };
      this.idleWaiters.push(check);
    });
  }

  close(): void {
    for (const c of this.clients) c.close();
  }

  private pump(w: Worker): void {
    if (w.head >= w.queue.length) {
      w.busy = false;
      w.queue.length = 0;
      w.head = 0;
      return;
    }
    w.busy = true;
    const req = w.queue[w.head]!;
    w.queue[w.head++] = undefined as unknown as Buffer;
    this.queued--;
    this.inFlight++;
    const started = this.recordLatency ? performance.now() : 0;
    w.client.makeUnaryRequest(EVENT_METHOD_PATH, passThrough, passThrough, req, this.metadata, { deadline: Date.now() + this.options.timeoutMs }, (err) => {
      this.inFlight--;
      const o = this.outcome;
      if (!err) {
        o.ok++;
        if (this.recordLatency) o.latenciesMs.push(performance.now() - started);
      } else if (err.code === grpc.status.DEADLINE_EXCEEDED) o.timeouts++;
      else {
        const name = grpc.status[err.code] ?? String(err.code);
        o.errors[name] = (o.errors[name] ?? 0) + 1;
      }
      this.pump(w);
      if (this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of waiters) f();
      }
    });
  }
}
