/**
 * The TCP endpoint the plugin's connection pool dials. Never writes to a socket and never
 * pauses one: consumers are synchronous, so reading runs as fast as events can be decoded, and
 * the broker's per-connection backlog (where a slow sidecar would cost events) stays empty.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConnectionHandler } from './connection-handler.js';
import type { EventSink } from '../sinks/event-sink.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { IngestStats } from './ingest-stats.js';

export interface TcpReceiverOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  maxConnections: number;
}

interface Connection {
  socket: net.Socket;
  handler: ConnectionHandler;
  peer: string;
  openedAt: number;
}

export class TcpReceiver {
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly options: TcpReceiverOptions,
    private readonly sink: EventSink,
    private readonly stats: IngestStats,
    private readonly logger: SidecarLogger,
  ) {}

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async start(): Promise<AddressInfo> {
    if (this.server) throw new Error('receiver already started');
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections;
    server.on('drop', (data) => {
      this.stats.connectionsRefused++;
      this.logger.limited('warn', 'connection-refused', 10_000, 'connection refused: --max-connections reached', {
        peer: data ? `${data.remoteAddress}:${data.remotePort}` : undefined,
        maxConnections: this.options.maxConnections,
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.server = null;
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: this.options.host, port: this.options.port, backlog: 1024 }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.logger.error('listener error', { err }));
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.logger.info('listening for plugin connections', { address: `${address.address}:${address.port}` });
    return address;
  }

  /**
   * Stops accepting, gives open connections `drainMs` to deliver what is already in flight,
   * then closes them. Safe to call more than once, and before start().
   */
  async stop(drainMs = 200): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.connections.size > 0 && drainMs > 0) {
      await new Promise((r) => setTimeout(r, drainMs));
    }
    for (const c of this.connections) c.socket.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const handler = new ConnectionHandler(peer, this.sink, this.stats, this.logger, this.options.maxFrameBytes);
    const conn: Connection = { socket, handler, peer, openedAt: Date.now() };
    this.connections.add(conn);
    this.stats.connectionsAccepted++;
    this.stats.connectionsOpen++;
    this.logger.info('plugin connection opened', { peer });

    socket.on('data', (chunk: Buffer) => {
      handler.push(chunk);
      if (handler.unframeable) socket.destroy();
    });
    socket.on('error', (err) => {
      this.logger.debug('plugin connection error', { peer, err });
    });
    socket.on('close', () => {
      handler.end();
      this.connections.delete(conn);
      this.stats.connectionsOpen--;
      this.logger.info('plugin connection closed', {
        peer,
        frames: handler.frames,
        events: handler.events,
        rejected: handler.rejected,
        bytes: handler.bytes,
        reads: handler.reads,
        seconds: Math.round((Date.now() - conn.openedAt) / 100) / 10,
        ...(handler.unframeable ? { reason: 'unframeable stream' } : {}),
      });
    });
  }
}
