/**
 * The admin HTTP listener (loopback by default): /healthz (the process is up), /readyz (it
 * accepts plugin connections), /metrics (Prometheus text, when that exporter is enabled) and
 * /status (JSON for people and scripts).
 */
import { formatHostPort } from '../config/option-parser.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { bindOrExplain, type ListenAddress } from '../config/listen-address.js';
import type { Component } from '../lifecycle/component.js';

export interface AdminHandlers {
  ready(): boolean;
  /** Prometheus text, or null when the Prometheus exporter is not enabled. */
  metrics: (() => Promise<string>) | null;
  status(): unknown;
}

export class AdminServer implements Component {
  private server: http.Server | null = null;

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
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
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

  /** Logged by the caller once every listener is up, so no "ready" line precedes a failed start. */
  logReady(): void {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) return;
    this.logger.info('admin listener ready', {
      address: formatHostPort(address.address, address.port),
      endpoints: ['/healthz', '/readyz', '/status', ...(this.handlers.metrics ? ['/metrics'] : [])],
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
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
