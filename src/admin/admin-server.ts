/**
 * The admin HTTP listener (loopback by default): /healthz (the process is up), /readyz (it
 * accepts plugin connections), /metrics (Prometheus text, when that exporter is enabled) and
 * /status (JSON for people and scripts).
 *
 * Whoever can reach it must not be able to starve it, or the process: connections are capped
 * well below any file descriptor limit (ADMIN_MAX_CONNECTIONS), a connection on which no whole
 * request arrived within ADMIN_HEADERS_TIMEOUT_MS is closed, and a new connection over the cap takes the
 * place of the oldest one that is not being answered (half-sent requests, idle keep-alives), so
 * that a flood of half-sent requests cannot keep the liveness probe out. Shedding is counted in
 * /status and logged at most once a minute.
 */
import { formatHostPort } from '../config/option-parser.js';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { bindOrExplain, type ListenAddress } from '../config/listen-address.js';
import type { Component } from '../lifecycle/component.js';

export interface AdminHandlers {
  ready(): boolean;
  /** Prometheus text, or null when the Prometheus exporter is not enabled. */
  metrics: (() => Promise<string>) | null;
  status(): unknown;
}

/** Admin connections at once: a probe, a scraper and a person need a handful. */
export const ADMIN_MAX_CONNECTIONS = 64;
/** A request whose headers take longer is dropped (Node's default is 60 s). */
export const ADMIN_HEADERS_TIMEOUT_MS = 5000;
/** A whole request (GETs have no body) taking longer is dropped. */
const ADMIN_REQUEST_TIMEOUT_MS = 10_000;
/** An answer not taken by its reader within this (a scraper that stopped reading) is dropped. */
const ADMIN_ANSWER_TIMEOUT_MS = 30_000;

/** How often connections are checked against ADMIN_HEADERS_TIMEOUT_MS. */
const SWEEP_INTERVAL_MS = 1000;

/** Per connection: whether a request on it is being answered, and since when it is in that state. */
interface AdminConnection {
  answering: boolean;
  since: number;
}

export class AdminServer implements Component {
  private server: http.Server | null = null;
  /** Open connections, oldest first (a Map keeps insertion order). */
  private readonly connections = new Map<Socket, AdminConnection>();
  /** Connections closed to make room for a new one (or refused when every one was busy). */
  private shed = 0;
  /** Connections closed because no whole request arrived in time. */
  private timedOut = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly handlers: AdminHandlers,
    private readonly logger: SidecarLogger,
    /** Where to listen (config/listen-address.ts); null: the admin listener is off. */
    private readonly listen: ListenAddress | null,
  ) {}

  /** The bound address, once started; null when off. */
  get address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null | undefined) ?? null;
  }

  async start(): Promise<void> {
    const at = this.listen;
    if (at) await bindOrExplain(() => this.bind(at.host, at.port), at);
  }

  private async bind(host: string, port: number): Promise<AddressInfo> {
    // Node's own headersTimeout is set too, but not relied on: on Node 20 a connection with
    // half-sent headers is never expired once a request on another connection has completed
    // (seen: held for good after one /healthz). The sweep below closes such connections.
    const server = http.createServer({ headersTimeout: ADMIN_HEADERS_TIMEOUT_MS, requestTimeout: ADMIN_REQUEST_TIMEOUT_MS }, (req, res) => {
      const c = this.connections.get(req.socket);
      if (c !== undefined) {
        c.answering = true;
        c.since = Date.now();
      }
      res.once('finish', () => {
        if (c === undefined) return;
        c.answering = false;
        c.since = Date.now();
      });
      void this.handle(req, res);
    });
    server.keepAliveTimeout = ADMIN_HEADERS_TIMEOUT_MS;
    server.on('connection', (socket: Socket) => this.admit(socket));
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  /**
   * Closes connections that have waited ADMIN_HEADERS_TIMEOUT_MS for a whole request (half-sent
   * headers, or an idle keep-alive, which Node's keepAliveTimeout would close at the same time),
   * and those whose answer has not been taken for ADMIN_ANSWER_TIMEOUT_MS.
   */
  private sweep(): void {
    const now = Date.now();
    for (const [socket, c] of this.connections) {
      if (now - c.since < (c.answering ? ADMIN_ANSWER_TIMEOUT_MS : ADMIN_HEADERS_TIMEOUT_MS)) continue;
      this.connections.delete(socket);
      this.timedOut++;
      socket.destroy();
    }
  }

  /** Makes room for a new connection over the cap: the oldest one not being answered goes. */
  private admit(socket: Socket): void {
    if (this.connections.size >= ADMIN_MAX_CONNECTIONS) {
      let victim: Socket | undefined;
      for (const [s, c] of this.connections) {
        if (!c.answering) {
          victim = s;
          break;
        }
      }
      this.shed++;
      this.logger.limited('warn', 'admin-shed', 60_000, 'admin listener at its connection cap: closing the oldest connections that have not sent a request', {
        maxConnections: ADMIN_MAX_CONNECTIONS,
        shedTotal: this.shed,
      });
      if (victim === undefined) {
        // Every connection is being answered: the new one waits for none of them.
        socket.destroy();
        return;
      }
      this.connections.delete(victim);
      victim.destroy();
    }
    this.connections.set(socket, { answering: false, since: Date.now() });
    socket.once('close', () => this.connections.delete(socket));
  }

  status(): { admin: { connections: number; maxConnections: number; shed: number; timedOut: number } } {
    return { admin: { connections: this.connections.size, maxConnections: ADMIN_MAX_CONNECTIONS, shed: this.shed, timedOut: this.timedOut } };
  }

  /** Logged by the caller once every listener is up, so no "ready" line precedes a failed start. */
  logReady(): void {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) return;
    this.logger.info('admin listener ready', {
      address: formatHostPort(address.address, address.port),
      endpoints: ['/healthz', '/readyz', '/status', ...(this.handlers.metrics ? ['/metrics'] : [])],
    });
  }

  /** Past the shutdown deadline: the listener closes at once (stop() may not have been reached). */
  abandon(): Promise<void> {
    return this.stop();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      switch (path) {
        case '/healthz':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
          return;
        case '/readyz': {
          const ready = this.handlers.ready();
          res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
          return;
        }
        case '/metrics':
          if (!this.handlers.metrics) {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('the prometheus metrics exporter is not enabled (OTEL_METRICS_EXPORTER)\n');
            return;
          }
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(await this.handlers.metrics());
          return;
        case '/status':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.handlers.status(), null, 2) + '\n');
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz, /metrics, /status\n');
      }
    } catch (err) {
      this.logger.limited('error', 'admin-error', 10_000, 'admin request failed', { path, err });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    }
  }
}
