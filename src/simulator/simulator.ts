/**
 * Plays the plugin's side of the protocol: a pool of TCP connections, each event cast on a
 * connection chosen at random (shackle's default), never reading anything back.
 *
 * Modes: a target rate (events/s), or as fast as the sidecar reads ("max"; backpressure is
 * honoured, so nothing is lost). With a rate, a connection whose unsent bytes exceed the
 * backlog drops events as the plugin would, and the summary counts them.
 */
import net from 'node:net';
import { ClientModel, type SimEvent } from './client-model.js';
import { FrameEncoder } from './frame-encoder.js';
import { Prng } from './prng.js';
import { GroundTruth } from './ground-truth.js';
import { GrpcSender, type GrpcSendOutcome } from './grpc-sender.js';
import type { HostPort } from '../config/option-parser.js';
import type { HookName } from '../events/event-types.js';

export interface SimulatorOptions {
  target: HostPort;
  connections: number;
  clients: number;
  seed: number;
  /** Events per second, or 0 for as fast as possible. */
  rate: number;
  /** Stop after this long (ms); required unless `events` is set. */
  durationMs?: number;
  /** Stop after at least this many events (the last client step is completed). */
  events?: number;
  /** Encode every frame before connecting, so that only sending is timed (needs `events`; TCP only). */
  preencode?: boolean;
  /** Share of the clients connecting with MQTT 5 (only session-layer events). */
  mqtt5Share?: number;
  /** The MQTT 5 companion plugin reports the MQTT 5 clients' per-client hooks too. */
  mqtt5Companion?: boolean;
  /** Which transport carries the events; default tcp. */
  transport?: SimTransport;
  /** The plugin's gRPC side; needed unless the transport is tcp. */
  grpc?: SimGrpcOptions;
  /** How long a refused TCP connection is tried again at the start (ms; default 0: not at all). */
  connectTimeoutMs?: number;
}

export type SimTransport = 'tcp' | 'grpc' | 'both';

export interface SimGrpcOptions {
  /** Several targets (replicas): connection i goes to target i mod N. */
  target: HostPort | HostPort[];
  /** With transport both: the share of events sent over gRPC, chosen at random per event (0-100). */
  percent: number;
  workers: number;
  connections: number;
  timeoutMs: number;
  userType: string;
}

export interface SimulatorSummary {
  sent: Partial<Record<HookName, number>>;
  total: number;
  bytes: number;
  seconds: number;
  eventsPerSecond: number;
  /** Events not sent because a connection's backlog was full (rate mode only). */
  droppedBacklog: number;
  /** Events sent over the TCP pool. */
  tcpSent: number;
  /**
   * Pool connections the sidecar closed (it stopped, or --max-connections made room) before the
   * run ended: events sent on them after that never arrived, so `expected` is more than it got.
   */
  connectionsLost: number;
  /** The gRPC side: calls made and how they were answered (absent with transport tcp). */
  grpc?: { sent: number; ok: number; errors: Record<string, number>; timeouts: number; queueFull: number };
  expected: ReturnType<GroundTruth['toJSON']>;
}

/** Unsent bytes per connection above which events are dropped, like the plugin's backlog. */
const BACKLOG_BYTES = 4 * 1024 * 1024;
/** Unsent bytes per connection above which "max" mode waits for the socket to drain. */
const MAX_MODE_HIGH_WATER = 1024 * 1024;
const STAGING_BYTES = 64 * 1024;
const TICK_MS = 10;

/** One connection of the simulated plugin pool, with a staging buffer for frames. */
export class PooledConnection {
  private staging = Buffer.allocUnsafe(STAGING_BYTES);
  private fill = 0;
  /**
   * Closed by the other side (or reset) before the run ended, found when the pool is closed:
   * what was sent on it after that is lost.
   */
  lost = false;

  constructor(readonly socket: net.Socket) {}

  add(frame: Buffer): void {
    if (this.fill + frame.length > this.staging.length) this.flush();
    if (frame.length > this.staging.length) {
      this.socket.write(frame);
      return;
    }
    frame.copy(this.staging, this.fill);
    this.fill += frame.length;
  }

  flush(): void {
    if (this.fill === 0) return;
    this.socket.write(this.staging.subarray(0, this.fill));
    this.staging = Buffer.allocUnsafe(STAGING_BYTES);
    this.fill = 0;
  }

  get unsent(): number {
    return this.socket.writableLength + this.fill;
  }
}

/** Errors of a sidecar that is not there yet: still starting, or its name not yet resolvable. */
const NOT_YET = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT']);
/** One connection attempt's limit, so that a port that drops SYNs does not wait for the OS. */
const CONNECT_ATTEMPT_MS = 5_000;

/**
 * Opens the pool. `waitMs`: how long a first connection that fails as a sidecar not there yet
 * would (refused, name not resolving yet) is tried again, every 200 ms, as the plugin keeps
 * reconnecting: a sidecar started a moment before may not listen yet.
 */
export async function connectPool(target: HostPort, n: number, waitMs = 0): Promise<PooledConnection[]> {
  const giveUpAt = Date.now() + waitMs;
  let first: net.Socket;
  for (;;) {
    try {
      first = await connectOne(target);
      break;
    } catch (err) {
      if (!NOT_YET.has((err as NodeJS.ErrnoException).code ?? '') || Date.now() >= giveUpAt) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const rest = await Promise.allSettled(Array.from({ length: n - 1 }, () => connectOne(target)));
  const failed = rest.find((r) => r.status === 'rejected');
  if (failed) {
    first.destroy();
    for (const r of rest) if (r.status === 'fulfilled') r.value.destroy();
    throw (failed as PromiseRejectedResult).reason;
  }
  const sockets = [first, ...rest.map((r) => (r as PromiseFulfilledResult<net.Socket>).value)];
  return sockets.map((s) => {
    s.on('error', () => {});
    // The plugin never reads; neither do we, but a peer that writes must not fill our buffers.
    s.resume();
    return new PooledConnection(s);
  });
}

function connectOne(target: HostPort): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port, noDelay: true, timeout: CONNECT_ATTEMPT_MS });
    s.once('connect', () => {
      s.off('error', reject);
      s.setTimeout(0);
      resolve(s);
    });
    s.once('timeout', () => s.destroy(Object.assign(new Error(`connect ETIMEDOUT ${target.host}:${target.port}`), { code: 'ETIMEDOUT' })));
    s.once('error', reject);
  });
}

export async function closePool(pool: PooledConnection[]): Promise<void> {
  await Promise.all(
    pool.map(
      (c) =>
        new Promise<void>((resolve) => {
          // Already closed by the sidecar (its 'close' emitted, or about to be): lost, and no
          // other 'close' is coming.
          if (c.socket.destroyed) {
            c.lost = true;
            return resolve();
          }
          c.flush();
          c.socket.once('close', () => resolve());
          c.socket.end();
        }),
    ),
  );
}

function waitDrain(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    // Closed by the sidecar already: neither 'drain' nor 'close' is coming.
    if (socket.destroyed) return resolve();
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

export async function runSimulator(options: SimulatorOptions): Promise<SimulatorSummary> {
  if (options.durationMs === undefined && options.events === undefined) {
    throw new Error('the simulator needs a duration or an event count to stop by itself');
  }
  const run: SimRun = {
    model: new ClientModel({ clients: options.clients, seed: options.seed, mqtt5Share: options.mqtt5Share ?? 0, mqtt5Companion: options.mqtt5Companion ?? false }),
    encoder: new FrameEncoder(),
    pick: new Prng(options.seed ^ 0x5eed),
    truth: new GroundTruth(options.mqtt5Companion ?? false),
    limit: options.events ?? Infinity,
    bytes: 0,
    droppedBacklog: 0,
  };
  return options.preencode ? runPreencoded(options, run) : runLive(options, run);
}

/** The state of one run: the client model, what was sent (ground truth) and what was not. */
interface SimRun {
  readonly model: ClientModel;
  readonly encoder: FrameEncoder;
  /** Picks a pool connection per event. */
  readonly pick: Prng;
  readonly truth: GroundTruth;
  /** Events to send at most. */
  readonly limit: number;
  bytes: number;
  droppedBacklog: number;
}

/** --preencode: every frame encoded and laid out per connection first; the clock starts when sending starts. */
async function runPreencoded(options: SimulatorOptions, run: SimRun): Promise<SimulatorSummary> {
  if (options.events === undefined) throw new Error('--preencode needs --events');
  if ((options.transport ?? 'tcp') !== 'tcp') throw new Error('--preencode is for the TCP transport only');
  const perConn: Buffer[][] = Array.from({ length: options.connections }, () => []);
  const emit = (e: SimEvent) => {
    const frame = run.encoder.encodeFrame(e);
    perConn[run.pick.int(options.connections)]!.push(frame);
    run.truth.record(e);
    run.bytes += frame.length;
  };
  while (run.truth.total < run.limit) run.model.step(emit);
  const chunks = perConn.map((frames) => coalesce(frames));
  const pool = await connectPool(options.target, options.connections, options.connectTimeoutMs);
  const started = performance.now();
  await Promise.all(
    pool.map(async (c, i) => {
      for (const chunk of chunks[i]!) {
        if (c.socket.destroyed) break;
        if (!c.socket.write(chunk)) await waitDrain(c.socket);
      }
    }),
  );
  await closePool(pool);
  return summarize(run, performance.now() - started, pool);
}

/** Events generated as they are sent, over the TCP pool, gRPC, or both (the plugin's per-event coin). */
async function runLive(options: SimulatorOptions, run: SimRun): Promise<SimulatorSummary> {
  const transport = options.transport ?? 'tcp';
  if (transport !== 'tcp' && !options.grpc) throw new Error(`--transport ${transport} needs the gRPC target`);
  const grpcShare = transport === 'grpc' ? 100 : transport === 'both' ? options.grpc!.percent : 0;
  const split = new Prng(options.seed ^ 0x69727063);
  const sender = grpcShare > 0 ? new GrpcSender({ ...options.grpc!, target: options.grpc!.target }) : null;
  await sender?.ready();
  const pool = grpcShare < 100 ? await connectPool(options.target, options.connections, options.connectTimeoutMs) : [];
  const started = performance.now();
  const rateMode = options.rate > 0;
  let grpcSent = 0;
  let tcpSent = 0;

  const emit = (e: SimEvent) => {
    // The plugin's per-event coin: gRPC with probability grpc_percent/100, else the TCP pool.
    if (sender && (grpcShare >= 100 || split.int(100) < grpcShare)) {
      const frame = run.encoder.encodeFrame(e);
      if (!sender.send(frame.subarray(4))) {
        run.droppedBacklog++;
        return;
      }
      grpcSent++;
      run.truth.record(e);
      run.bytes += frame.length - 4;
      return;
    }
    tcpSent++;
    const conn = pool[run.pick.int(pool.length)]!;
    if (rateMode && conn.unsent > BACKLOG_BYTES) {
      run.droppedBacklog++;
      return;
    }
    const frame = run.encoder.encodeFrame(e);
    conn.add(frame);
    run.truth.record(e);
    run.bytes += frame.length;
  };

  await pace(options, run, emit, pool, sender, started);
  await Promise.all([closePool(pool), sender?.waitBelow(0)]);
  sender?.close();
  const summary = summarize(run, performance.now() - started, pool);
  summary.tcpSent = tcpSent;
  if (sender) summary.grpc = { sent: grpcSent, ...grpcCounts(sender.outcome) };
  return summary;
}

/**
 * Steps the client model until the event count or the duration is reached: at the target rate
 * (in ticks, the backlog dropping what a slow connection cannot take), or as fast as the sidecar
 * reads (waiting for a full socket to drain, or for gRPC calls to be answered).
 */
async function pace(options: SimulatorOptions, run: SimRun, emit: (e: SimEvent) => void, pool: readonly PooledConnection[], sender: GrpcSender | null, started: number): Promise<void> {
  const { model, truth, limit } = run;
  const deadline = options.durationMs !== undefined ? started + options.durationMs : Infinity;
  while (truth.total + run.droppedBacklog < limit) {
    const now = performance.now();
    if (now >= deadline) break;
    // The sidecar closed every connection (it stopped): nothing sent from here on could arrive.
    if (sender === null && pool.every((c) => c.socket.destroyed)) break;
    if (options.rate > 0) {
      const due = Math.min(limit, Math.floor((options.rate * (now - started)) / 1000));
      while (truth.total + run.droppedBacklog < due) model.step(emit);
      for (const c of pool) c.flush();
      await new Promise((r) => setTimeout(r, TICK_MS));
    } else {
      for (let i = 0; i < 2000 && truth.total < limit; i++) model.step(emit);
      for (const c of pool) c.flush();
      const slow = pool.find((c) => c.socket.writableLength > MAX_MODE_HIGH_WATER);
      if (slow) await waitDrain(slow.socket);
      // gRPC "as fast as the sidecar answers": keep a few calls queued per worker, no more.
      else if (sender && sender.pending > options.grpc!.workers * 4) await sender.waitBelow(options.grpc!.workers * 2);
      else await new Promise((r) => setImmediate(r));
    }
  }
}

function grpcCounts(o: GrpcSendOutcome) {
  return { ok: o.ok, errors: o.errors, timeouts: o.timeouts, queueFull: o.queueFull };
}

/** Joins frames into writes of about 64 KiB. */
function coalesce(frames: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let batch: Buffer[] = [];
  let size = 0;
  for (const f of frames) {
    batch.push(f);
    size += f.length;
    if (size >= STAGING_BYTES) {
      out.push(Buffer.concat(batch, size));
      batch = [];
      size = 0;
    }
  }
  if (size > 0) out.push(Buffer.concat(batch, size));
  return out;
}

function summarize(run: SimRun, ms: number, pool: readonly PooledConnection[]): SimulatorSummary {
  const { truth } = run;
  const seconds = ms / 1000;
  const expected = truth.toJSON(run.model.gauges());
  return {
    sent: expected.sent,
    total: truth.total,
    bytes: run.bytes,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: Math.round(truth.total / seconds),
    droppedBacklog: run.droppedBacklog,
    tcpSent: truth.total,
    connectionsLost: pool.filter((c) => c.lost).length,
    expected,
  };
}
