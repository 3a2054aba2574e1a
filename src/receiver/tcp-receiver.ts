/**
 * The TCP endpoint the plugin's connection pool dials. Never writes to a socket and never
 * pauses one: consumers are synchronous, so reading runs as fast as events can be decoded, and
 * the broker's per-connection backlog (where a slow sidecar would cost events) stays empty.
 *
 * Two limits keep a misbehaving or hostile peer from locking the plugin out:
 * - --max-connections: when it is reached, a new connection gets the slot of the longest idle
 *   connection that has not sent a single valid event (a plugin connection has, or will within
 *   its first event; a port scanner, a stuck half-open socket or a slot squatter has not). Only
 *   when every open connection has sent a valid event is the new one refused, and readiness
 *   says not ready for as long as that holds.
 * - --max-buffered-bytes: partial frames of all connections together; past it, the connection
 *   holding the most is closed.
 */
import { formatHostPort } from '../config/option-parser.js';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConnectionHandler } from './connection-handler.js';
import type { IngestCore } from '../ingest/ingest-core.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { IngestStats } from './ingest-stats.js';
import { FrameBudget } from '../framing/frame-budget.js';
import { releaseChunk } from '../framing/chunk-release.js';
import { bindOrExplain, listenOn } from '../config/listen-address.js';
import type { Host } from '../host.js';
import { drainTime, type Component, type StatusReport } from '../lifecycle/component.js';

/** At most one log line per kind of forced close or refusal and interval. */
const LIMIT_LOG_INTERVAL_MS = 10_000;

export interface TcpReceiverOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  maxConnections: number;
  maxBufferedBytes: number;
}

/**
 * How long one event-loop turn may process plugin data before every connection stops reading
 * until the next turn (endTurnIfLong()): about 6,000 events on the metrics path, 1,100 with a
 * log record per event.
 */
const TURN_MS = 5;

interface Connection {
  socket: net.Socket;
  handler: ConnectionHandler;
  peer: string;
  openedAt: number;
  /** Reading stopped until the next turn (endTurnIfLong()). */
  held: boolean;
  /** The handler's event count at the last lowWatermark(), and the calls since it changed. */
  eventsAtLow: number;
  idleCalls: number;
}

export class TcpReceiver implements Component {
  private server: net.Server | null = null;
  /** Open connections, in the order they were accepted. */
  private readonly connections = new Set<Connection>();
  /** Connections the sidecar closed, by reason, for the summary lines. */
  private readonly closedByUs = new Map<string, number>();
  readonly budget: FrameBudget;
  /** When this turn's first chunk was processed (performance.now()); 0: none yet. */
  private turnStart = 0;
  private turnEnding = false;

  private readonly stats: IngestStats;
  private readonly logger: SidecarLogger;

  /** Counts in the host's ingest counters and logs on its logger; hands each frame's bytes to `ingest`. */
  constructor(host: Pick<Host, 'stats' | 'logger'>, private readonly options: TcpReceiverOptions, private readonly ingest: IngestCore) {
    ({ stats: this.stats, logger: this.logger } = host);
    this.budget = new FrameBudget(options.maxBufferedBytes, { releaseLargest: () => this.closeLargestHolder() });
    this.stats.frameBudget = this.budget;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** False while a new plugin connection would be refused (every slot is held by a connection that sent valid events). */
  get acceptingConnections(): boolean {
    return this.listening && (this.connections.size < this.options.maxConnections || this.longestIdleWithoutEvents() !== null);
  }

  /** The bound address, once started. */
  get address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null | undefined) ?? null;
  }

  /** Binds the listener; an address that cannot be bound is reported as a --listen problem. */
  start(): Promise<AddressInfo> {
    return bindOrExplain(() => this.listen(), { host: this.options.host, port: this.options.port, setting: '--listen' });
  }

  private async listen(): Promise<AddressInfo> {
    if (this.server) throw new Error('receiver already started');
    // No server.maxConnections: the limit is applied in accept(), which can make room.
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    try {
      await listenOn(server, { host: this.options.host, port: this.options.port, backlog: 1024 });
    } catch (err) {
      this.server = null;
      throw err;
    }
    server.on('error', (err) => this.logger.error('listener error', { err }));
    const address = server.address() as AddressInfo;
    this.logger.info('listening for plugin connections', { address: formatHostPort(address.address, address.port) });
    return address;
  }

  /**
   * Stops accepting, gives open connections their drain time to deliver what is already in
   * flight, then closes them. Safe to call more than once, and before start().
   */
  async stop(deadline = Date.now() + 800): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = null;
    const drainMs = drainTime(deadline);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.connections.size > 0 && drainMs > 0) {
      await new Promise((r) => setTimeout(r, drainMs));
    }
    for (const c of this.connections) c.socket.destroy();
    await closed;
  }

  status(): StatusReport {
    return { listening: this.listening, connections: { accepting: this.acceptingConnections, bufferedBytes: this.budget.used } };
  }

  private accept(socket: net.Socket): void {
    const peer = formatHostPort(socket.remoteAddress, socket.remotePort);
    if (this.connections.size >= this.options.maxConnections && !this.makeRoom(peer)) {
      this.stats.connectionsRefused++;
      this.logger.limited('warn', 'connection-refused', LIMIT_LOG_INTERVAL_MS, 'connection refused: --max-connections reached and every open connection has sent events', {
        peer,
        maxConnections: this.options.maxConnections,
      });
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const handler = new ConnectionHandler(peer, this.ingest, this.options.maxFrameBytes, this.budget);
    const conn: Connection = { socket, handler, peer, openedAt: Date.now(), held: false, eventsAtLow: 0, idleCalls: 0 };
    this.connections.add(conn);
    this.stats.connectionsAccepted++;
    this.stats.connectionsOpen++;
    this.stats.lastAcceptedAt = conn.openedAt;
    // The plugin opens its whole pool (100 connections by default) at once and again after every
    // broker restart: one line per connection at debug, a summary at info at most every 10 s.
    this.logger.debug('plugin connection opened', { peer });
    this.logger.summarized('info', 'plugin-connections-opened', LIMIT_LOG_INTERVAL_MS, 'plugin connections opened', () => ({ open: this.stats.connectionsOpen, accepted: this.stats.connectionsAccepted }));

    socket.on('data', (chunk: Buffer) => {
      if (handler.closedFor !== null) return;
      handler.push(chunk);
      // Its frames are handled and a partial one copied: its memory goes back now, not at the next GC.
      releaseChunk(chunk);
      if (handler.unframeable) socket.destroy();
      else this.endTurnIfLong();
    });
    socket.on('error', (err) => {
      this.logger.debug('plugin connection error', { peer, err });
    });
    socket.on('close', () => {
      handler.end();
      this.connections.delete(conn);
      this.stats.connectionsOpen--;
      this.stats.lastClosedAt = Date.now();
      const reason = handler.unframeable ? 'unframeable stream' : handler.closedFor;
      // One line per connection at debug; at info a summary at most every 10 s, per reason when
      // we closed it (a flood of evictions made one line each: 1,053 lines for 1,100 evictions).
      this.logger.debug('plugin connection closed', {
        peer,
        frames: handler.frames,
        events: handler.events,
        rejected: handler.rejected,
        bytes: handler.bytes,
        reads: handler.reads,
        seconds: Math.round((Date.now() - conn.openedAt) / 100) / 10,
        ...(reason ? { reason } : {}),
      });
      if (!reason) this.logger.summarized('info', 'plugin-connections-closed', LIMIT_LOG_INTERVAL_MS, 'plugin connections closed', () => ({ open: this.stats.connectionsOpen }));
      else {
        this.closedByUs.set(reason, (this.closedByUs.get(reason) ?? 0) + 1);
        this.logger.summarized('info', `plugin-connections-closed-${reason}`, LIMIT_LOG_INTERVAL_MS, 'plugin connections closed by the sidecar', () => ({
          reason,
          closedTotal: this.closedByUs.get(reason),
          open: this.stats.connectionsOpen,
        }));
      }
    });
  }

  /**
   * How far in broker time every connection that is sending has been read: the least of their
   * latest timestamps; undefined when none is. A connection behind the others (its queue read
   * later) holds it back. One idle over the last two calls (called every second: the sockets were
   * polled in between, so it had nothing to read, not merely a turn without its turn) does not.
   */
  lowWatermark(): number | undefined {
    let low: number | undefined;
    for (const c of this.connections) {
      const h = c.handler;
      if (h.events !== c.eventsAtLow) {
        c.eventsAtLow = h.events;
        c.idleCalls = 0;
      } else if (++c.idleCalls >= 2) continue;
      if (h.latestBrokerMs === -Infinity) continue;
      if (low === undefined || h.latestBrokerMs < low) low = h.latestBrokerMs;
    }
    return low;
  }

  /**
   * Keeps each event-loop turn short under a flood. libuv reads every ready socket up to 32
   * times (64 KiB each) per turn, and with 100 busy plugin connections a single turn lasted
   * seconds: the log exporter's responses, /metrics scrapes and health probes waited behind it.
   * Measured with 1M events as fast as 100 connections send them and a log record for each: the
   * first log export was answered after 870,000 events, and 745,000 records were dropped as
   * queue_full. So once a turn has processed plugin data for TURN_MS, every connection stops
   * reading until the turn's check phase (setImmediate): the sockets still in this turn's poll
   * results are skipped, their bytes wait in the kernel, nothing is held or dropped.
   *
   * Stopping at the handle (readStop), as Node does itself for sockets with `onread`, not with
   * pause(): a paused socket still reads one more chunk, and holding those across turns cost
   * 30% more CPU and 40 MB more peak RSS on the metrics path than not yielding at all. Measured
   * as it is, when it was written (1M events, 100 connections, three runs): metrics path
   * 1.28-1.34 us of CPU per event and 84-88 MB peak RSS, against 1.23-1.28 us and 88 MB without
   * yielding; with a log record per event, none of the 1M records dropped.
   */

  private endTurnIfLong(): void {
    const now = performance.now();
    if (this.turnStart === 0) {
      this.turnStart = now;
      if (!this.turnEnding) {
        this.turnEnding = true;
        setImmediate(this.nextTurn);
      }
      return;
    }
    if (now - this.turnStart < TURN_MS) return;
    for (const c of this.connections) {
      if (!c.held) {
        c.held = true;
        stopReading(c.socket);
      }
    }
  }

  private readonly nextTurn = (): void => {
    this.turnEnding = false;
    this.turnStart = 0;
    for (const c of this.connections) {
      if (c.held) {
        c.held = false;
        if (!c.socket.destroyed) startReading(c.socket);
      }
    }
  };

  /**
   * Frees a slot for a new connection by closing the longest idle connection that has sent no
   * valid event. Returns false when there is none.
   */
  private makeRoom(newPeer: string): boolean {
    const victim = this.longestIdleWithoutEvents();
    if (victim === null) return false;
    this.forceClose(victim, 'evicted_idle');
    this.logger.limited('warn', 'connection-evicted', LIMIT_LOG_INTERVAL_MS, 'connection closed to make room: --max-connections reached', {
      peer: victim.peer,
      idleSeconds: Math.round((Date.now() - victim.handler.lastActivityMs) / 1000),
      newPeer,
      maxConnections: this.options.maxConnections,
    });
    return true;
  }

  private longestIdleWithoutEvents(): Connection | null {
    let victim: Connection | null = null;
    for (const c of this.connections) {
      if (c.handler.events > 0) continue;
      if (victim === null || c.handler.lastActivityMs < victim.handler.lastActivityMs) victim = c;
    }
    return victim;
  }

  /** The budget's enforcement: closes the connection holding the most partial-frame bytes. */
  private closeLargestHolder(): boolean {
    let victim: Connection | null = null;
    for (const c of this.connections) {
      if (victim === null || c.handler.buffered > victim.handler.buffered) victim = c;
    }
    if (victim === null || victim.handler.buffered === 0) return false;
    const held = victim.handler.buffered;
    this.forceClose(victim, 'buffer_budget');
    this.logger.limited('warn', 'connection-over-budget', LIMIT_LOG_INTERVAL_MS, 'connection closed: partial frames passed --max-buffered-bytes', {
      peer: victim.peer,
      heldBytes: held,
      maxBufferedBytes: this.options.maxBufferedBytes,
    });
    return true;
  }

  /** Closes a connection on purpose; its slot and its buffer are free at once. */
  private forceClose(c: Connection, reason: 'buffer_budget' | 'evicted_idle'): void {
    this.connections.delete(c);
    c.handler.closeFor(reason);
    c.socket.destroy();
  }
}

interface StreamHandle {
  reading?: boolean;
  readStop?: () => number;
  readStart?: () => number;
}

const handleOf = (socket: net.Socket) => (socket as unknown as { _handle?: StreamHandle | null })._handle;

/**
 * Stops reading a socket at once. Node's pause() only stops after the next chunk has been
 * read into the stream's buffer; this is what net.Socket#pause and #resume themselves do for
 * sockets read with `onread` (the handle's reading flag, readStop and readStart), which server
 * sockets cannot be given. Without a handle of that shape, pause() alone.
 */
function stopReading(socket: net.Socket): void {
  socket.pause();
  const handle = handleOf(socket);
  if (handle && handle.reading === true && typeof handle.readStop === 'function' && typeof handle.readStart === 'function') {
    handle.reading = false;
    handle.readStop();
  }
}

function startReading(socket: net.Socket): void {
  const handle = handleOf(socket);
  if (handle && handle.reading === false && typeof handle.readStart === 'function') {
    handle.reading = true;
    handle.readStart();
  }
  socket.resume();
}
