/**
 * Where the listeners bind, and what a bind failure means to the operator: the configuration
 * side of the admin and plugin listeners.
 */
import net from 'node:net';
import { ConfigError, formatHostPort } from './option-parser.js';
import type { HostPort } from './option-parser.js';
import type { SidecarSettings } from './sidecar-config.js';
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
export function resolveAdminListen(settings: Pick<SidecarSettings, 'adminListen'>, otel: Pick<OtelConfig, 'prometheusHost' | 'prometheusPort'>): ListenAddress | null {
  if (settings.adminListen === null) return null;
  if (settings.adminListen !== undefined) return { ...settings.adminListen, setting: '--admin-listen' };
  const fromOtel = Boolean(otel.prometheusHost) || otel.prometheusPort !== undefined;
  return {
    host: otel.prometheusHost ?? '127.0.0.1',
    port: otel.prometheusPort ?? 9464,
    setting: fromOtel ? 'OTEL_EXPORTER_PROMETHEUS_HOST/_PORT' : '--admin-listen',
  };
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
