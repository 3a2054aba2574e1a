/**
 * Where the listeners bind, and what a bind failure means to the operator: the configuration
 * side of the admin and plugin listeners.
 */
import net from 'node:net';
import { ConfigError, formatHostPort } from './option-parser.js';
import type { HostPort } from './option-parser.js';
import type { OtelConfig } from '../telemetry/otel-config.js';

/** A listen address and the setting that chose it (named in errors). */
export interface ListenAddress extends HostPort {
  setting: string;
}

/**
 * The admin listener's address: --admin-listen, else the Prometheus exporter's standard
 * OTEL_EXPORTER_PROMETHEUS_HOST/_PORT (its /metrics is served there), else 127.0.0.1:9464;
 * null when --admin-listen turns it off.
 */
export function resolveAdminListen(settings: { readonly adminListen?: HostPort | null }, otel: Pick<OtelConfig, 'prometheusHost' | 'prometheusPort'>): ListenAddress | null {
  if (settings.adminListen === null) return null;
  if (settings.adminListen !== undefined) return { ...settings.adminListen, setting: '--admin-listen' };
  const fromOtel = Boolean(otel.prometheusHost) || otel.prometheusPort !== undefined;
  return {
    host: otel.prometheusHost ?? '127.0.0.1',
    port: otel.prometheusPort ?? 9464,
    setting: fromOtel ? 'OTEL_EXPORTER_PROMETHEUS_HOST/_PORT' : '--admin-listen',
  };
}

/** The wildcard addresses: '::' also takes IPv4 (Node listens dual-stack), '0.0.0.0' every IPv4 address. */
function covers(wide: string, other: string): boolean {
  return wide === '::' || (wide === '0.0.0.0' && !other.includes(':'));
}

/**
 * Whether two listeners would ask for the same socket: the same port (not 0, which picks a
 * free one) on the same host, or on a wildcard address that covers the other's host.
 */
export function sameListenAddress(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || covers(a.host, b.host) || covers(b.host, a.host);
}

/** The problem when `at` asks for the socket of `taken`: one line naming both settings; null when they differ. */
export function listenCollision(at: ListenAddress, taken: ListenAddress): string | null {
  if (!sameListenAddress(at, taken)) return null;
  return `${at.setting}: ${formatHostPort(at.host, at.port)} is also the address of ${taken.setting} (${formatHostPort(taken.host, taken.port)}); give each listener its own HOST:PORT`;
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'is already in use by another process',
  EACCES: 'may not be bound by this user (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'is not an address of this machine',
  ENOTFOUND: 'names a host that does not resolve',
};

/**
 * After one listener failed to bind (the others released again): the problem with each other
 * address, found by binding it for a moment, so that one run names every busy port.
 */
export async function otherListenProblems(failed: ConfigError, addresses: readonly ListenAddress[]): Promise<string[]> {
  const out: string[] = [];
  for (const at of addresses) {
    if (at.port === 0 || failed.problems.some((p) => p.startsWith(`${at.setting}:`))) continue;
    const server = net.createServer();
    try {
      await bindOrExplain(() => new Promise<void>((resolve, reject) => server.once('error', reject).listen(at.port, at.host, () => resolve())), at);
    } catch (err) {
      if (err instanceof ConfigError) out.push(...err.problems);
    } finally {
      server.close();
    }
  }
  return out;
}

/**
 * Binds `server` (a net or HTTP/2 server): resolves once it listens, rejects with the bind
 * error (EADDRINUSE, ...) and leaves no error listener of its own behind.
 */
export function listenOn(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A listen address that cannot be bound is a configuration problem: say which setting to change. */
export async function bindOrExplain<T>(bind: () => Promise<T>, at: ListenAddress): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === undefined ? undefined : BIND_ERRORS[code];
    if (why === undefined) throw err;
    const where = formatHostPort(at.host, at.port);
    throw new ConfigError([`${at.setting}: ${where} ${why} (${code}); choose another HOST:PORT`]);
  }
}
