import net from 'node:net';
import { startSidecar, type RunningSidecar, type SidecarOptions } from '../../src/sidecar.js';
import { SidecarLogger, type LogLevel } from '../../src/logging/sidecar-logger.js';
import { CaptureSink } from './capture-sink.js';
import { SIDECAR_OPTIONS, type SidecarSettings } from '../../src/config/sidecar-config.js';
import { parseOptions } from '../../src/config/option-parser.js';
import { parseOtelConfig, type OtelConfig } from '../../src/telemetry/otel-config.js';

export interface SidecarFixture extends RunningSidecar {
  capture: CaptureSink;
  logLines: Record<string, unknown>[];
  port: number;
}

/** The defaults, on ephemeral loopback ports, logging everything. */
export function testSettings(overrides: Partial<SidecarSettings> = {}): SidecarSettings {
  const { settings } = parseOptions(SIDECAR_OPTIONS, [], {});
  return {
    ...settings,
    listen: { host: '127.0.0.1', port: 0 },
    adminListen: { host: '127.0.0.1', port: 0 },
    logLevel: 'debug' as LogLevel,
    shutdownTimeoutMs: 5000,
    ...overrides,
  };
}

/** Metrics on the Prometheus endpoint, no log records, unless a test asks for more. */
export function testOtel(env: Record<string, string> = {}): OtelConfig {
  return parseOtelConfig({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none', ...env });
}

/** Metrics and log records over OTLP to `endpoint`, exported quickly; `env` adds or overrides. */
export function otlpOtel(endpoint: string, env: Record<string, string> = {}): OtelConfig {
  return testOtel({
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_METRIC_EXPORT_INTERVAL: '200',
    OTEL_BLRP_SCHEDULE_DELAY: '50',
    ...env,
  });
}

/** A sidecar on an ephemeral loopback port, capturing events and its own log lines. */
export async function startTestSidecar(
  overrides: Partial<SidecarSettings> = {},
  otel: OtelConfig = testOtel(),
  extra: Pick<SidecarOptions, 'wakeupMatch' | 'hookCoverage' | 'cgroupMemoryFiles'> = {},
): Promise<SidecarFixture> {
  const logLines: Record<string, unknown>[] = [];
  const settings = testSettings(overrides);
  const logger = new SidecarLogger(settings.logLevel, (line) => {
    logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const capture = new CaptureSink();
  const sidecar = await startSidecar({ settings, otel, logger, sinks: [capture], ...extra });
  return { ...sidecar, capture, logLines, port: sidecar.address.port };
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes and waits until the bytes are handed to the kernel. */
export function write(socket: net.Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}
