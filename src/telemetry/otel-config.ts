/**
 * The standard OTEL_* environment variables the sidecar honours, parsed and validated up front
 * (the exporters would otherwise read some of them themselves and fail late, or quietly).
 * Every problem is collected and names its variable and the accepted values.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Env } from '../config/option-parser.js';
import { maskUrl } from '../logging/url-masking.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type MetricsExporterName = 'otlp' | 'prometheus' | 'console' | 'none';
export type LogsExporterName = 'otlp' | 'console' | 'none';
export type TracesExporterName = 'otlp' | 'none';
export type Temporality = 'cumulative' | 'delta' | 'lowmemory';

export interface OtlpSignalConfig {
  protocol: OtlpProtocol;
  url: string;
  headers: Record<string, string>;
  timeoutMillis: number;
  compression: 'gzip' | 'none';
  /**
   * For an https:// endpoint: PEM bytes of the trusted root certificate(s) (instead of Node's
   * bundled ones), and of the client certificate and key (mutual TLS); read at start.
   */
  tls: OtlpTls;
}

export interface OtlpTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface OtelConfig {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  metricsExporters: MetricsExporterName[];
  logsExporters: LogsExporterName[];
  /** ['none'] unless an OTLP endpoint or OTEL_TRACES_EXPORTER asks for spans. */
  tracesExporters: TracesExporterName[];
  /** True when the exporters were chosen by the embedded default (nothing OTLP configured). */
  embeddedDefault: boolean;
  metrics: OtlpSignalConfig;
  logs: OtlpSignalConfig;
  traces: OtlpSignalConfig;
  metricExportIntervalMillis: number;
  metricExportTimeoutMillis: number;
  temporality: Temporality;
  blrp: BatchSettings;
  /** OTEL_BSP_*: the span export queue. */
  bsp: BatchSettings;
  prometheusHost: string | undefined;
  prometheusPort: number | undefined;
  /** OTEL_LOGRECORD_ATTRIBUTE_* (falling back to OTEL_ATTRIBUTE_*). */
  logRecordLimits: { attributeCountLimit: number; attributeValueLengthLimit: number };
}

/** Defaults of the log record limits: the specification's count, and a length that keeps one record small. */
export const DEFAULT_LOG_ATTRIBUTE_COUNT_LIMIT = 128;
export const DEFAULT_LOG_ATTRIBUTE_VALUE_LENGTH_LIMIT = 8192;

const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

function list<T extends string>(problems: string[], env: Env, name: string, allowed: readonly T[]): T[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  const bad = items.filter((i) => !(allowed as readonly string[]).includes(i));
  if (bad.length > 0 || items.length === 0) {
    problems.push(`${name}: ${JSON.stringify(raw)} is invalid; accepted: a comma-separated list of ${allowed.join(', ')}`);
    return undefined;
  }
  if (items.includes('none') && items.length > 1) {
    problems.push(`${name}: "none" cannot be combined with other exporters`);
    return undefined;
  }
  return [...new Set(items)] as T[];
}

function int(problems: string[], env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    problems.push(`${name}: ${JSON.stringify(raw)} is invalid; accepted: a whole number from ${min} to ${max}`);
    return def;
  }
  return Number(v);
}

/** The log-record-specific variable, else the general one, else the default. */
function limit(problems: string[], env: Env, specific: string, general: string, def: number): number {
  const name = env[specific] !== undefined && env[specific]!.trim() !== '' ? specific : general;
  return int(problems, env, name, def, 1, 1_000_000_000);
}

function oneOf<T extends string>(problems: string[], env: Env, names: string[], allowed: readonly T[], def: T): T {
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const v = raw.trim().toLowerCase();
    if (!(allowed as readonly string[]).includes(v)) {
      problems.push(`${name}: ${JSON.stringify(raw)} is invalid; accepted: ${allowed.join(', ')}`);
      return def;
    }
    return v as T;
  }
  return def;
}

/** k1=v1,k2=v2 with percent-encoded values (W3C Baggage-like, as the specification says). */
function keyValues(problems: string[], env: Env, name: string): Record<string, string> | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (key === '') {
      problems.push(`${name}: ${JSON.stringify(part)} is invalid; accepted: comma-separated key=value pairs`);
      return undefined;
    }
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      problems.push(`${name}: the value of ${key} is not valid percent-encoding`);
      return undefined;
    }
  }
  return out;
}

function url(problems: string[], name: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return u.href;
  } catch {
    problems.push(`${name}: ${JSON.stringify(raw)} is invalid; accepted: an http:// or https:// URL`);
    return 'http://localhost:4318/';
  }
}

type SignalKind = 'METRICS' | 'LOGS' | 'TRACES';
const SIGNAL_PATHS: Record<SignalKind, string> = { METRICS: 'v1/metrics', LOGS: 'v1/logs', TRACES: 'v1/traces' };

function signal(problems: string[], env: Env, kind: SignalKind): OtlpSignalConfig {
  const protocol = oneOf(problems, env, [`OTEL_EXPORTER_OTLP_${kind}_PROTOCOL`, 'OTEL_EXPORTER_OTLP_PROTOCOL'], PROTOCOLS, 'http/protobuf');
  const path = SIGNAL_PATHS[kind];
  let endpoint: string;
  const specific = env[`OTEL_EXPORTER_OTLP_${kind}_ENDPOINT`];
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (specific !== undefined && specific.trim() !== '') {
    // A signal-specific endpoint is used as given.
    endpoint = url(problems, `OTEL_EXPORTER_OTLP_${kind}_ENDPOINT`, specific.trim());
  } else {
    const defaultBase = protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318';
    const b = base !== undefined && base.trim() !== '' ? url(problems, 'OTEL_EXPORTER_OTLP_ENDPOINT', base.trim()) : defaultBase;
    // HTTP appends the signal's path to the base endpoint's path (a query string stays last);
    // gRPC uses it as is.
    endpoint = protocol === 'grpc' ? b : withPath(b, path);
  }
  const headers = {
    ...(keyValues(problems, env, 'OTEL_EXPORTER_OTLP_HEADERS') ?? {}),
    ...(keyValues(problems, env, `OTEL_EXPORTER_OTLP_${kind}_HEADERS`) ?? {}),
  };
  const timeoutName = env[`OTEL_EXPORTER_OTLP_${kind}_TIMEOUT`] !== undefined ? `OTEL_EXPORTER_OTLP_${kind}_TIMEOUT` : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const timeoutMillis = int(problems, env, timeoutName, 10_000, 1, 600_000);
  const compression = oneOf(problems, env, [`OTEL_EXPORTER_OTLP_${kind}_COMPRESSION`, 'OTEL_EXPORTER_OTLP_COMPRESSION'], ['gzip', 'none'] as const, 'none');
  return { protocol, url: endpoint, headers, timeoutMillis, compression, tls: tlsFiles(problems, env, kind) };
}

/**
 * OTEL_EXPORTER_OTLP_[KIND_]CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY, read and checked
 * now: the SDK would read them itself at the first export and, on a missing file, only log a
 * diagnostic and go on without (every export then failing the TLS handshake, or the collector
 * refusing a client without its certificate).
 */
function tlsFiles(problems: string[], env: Env, kind: SignalKind): OtlpTls {
  const read = (suffix: string): Buffer | undefined => {
    const specific = `OTEL_EXPORTER_OTLP_${kind}_${suffix}`;
    const name = env[specific] !== undefined && env[specific]!.trim() !== '' ? specific : `OTEL_EXPORTER_OTLP_${suffix}`;
    const file = env[name]?.trim();
    if (file === undefined || file === '') return undefined;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      problems.push(`${name}: cannot read ${JSON.stringify(file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); accepted: a readable PEM file`);
      return undefined;
    }
    if (!bytes.includes('-----BEGIN ')) {
      problems.push(`${name}: ${JSON.stringify(file)} is not PEM; accepted: a PEM file (-----BEGIN ...)`);
      return undefined;
    }
    return bytes;
  };
  const tls: OtlpTls = {};
  const ca = read('CERTIFICATE');
  const cert = read('CLIENT_CERTIFICATE');
  const key = read('CLIENT_KEY');
  if (ca) tls.ca = ca;
  if (cert && key) {
    try {
      // A key that does not belong to the certificate, or bytes that are not one, fail here.
      createSecureContext({ cert, key });
      tls.cert = cert;
      tls.key = key;
    } catch (err) {
      problems.push(`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE / _CLIENT_KEY: the client certificate and key do not go together (${(err as Error).message}); accepted: a PEM certificate and its private key`);
    }
  } else if (cert || key) {
    problems.push(`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE / _CLIENT_KEY: one was given without the other; accepted: both (mutual TLS) or neither`);
  }
  return tls;
}

function withPath(base: string, path: string): string {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${path}`;
  return u.href;
}

/** True when the environment gives an OTLP destination for the signal (its own or the shared one). */
function otlpConfigured(env: Env, kind: SignalKind): boolean {
  return ['OTEL_EXPORTER_OTLP_ENDPOINT', `OTEL_EXPORTER_OTLP_${kind}_ENDPOINT`].some((n) => env[n] !== undefined && env[n]!.trim() !== '');
}

/** A batching processor's settings: the span one's (OTEL_BSP_*) or the log record one's (OTEL_BLRP_*). */
export interface BatchSettings {
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

/** OTEL_BSP_* or OTEL_BLRP_*, with the SDK's defaults but for the schedule delay's. */
function batchSettings(problems: string[], env: Env, prefix: 'OTEL_BSP' | 'OTEL_BLRP', scheduleDelayDefault: number): BatchSettings {
  const settings = {
    scheduledDelayMillis: int(problems, env, `${prefix}_SCHEDULE_DELAY`, scheduleDelayDefault, 1, 600_000),
    exportTimeoutMillis: int(problems, env, `${prefix}_EXPORT_TIMEOUT`, 30_000, 1, 600_000),
    maxQueueSize: int(problems, env, `${prefix}_MAX_QUEUE_SIZE`, 2048, 1, 10_000_000),
    maxExportBatchSize: int(problems, env, `${prefix}_MAX_EXPORT_BATCH_SIZE`, 512, 1, 1_000_000),
  };
  if (settings.maxExportBatchSize > settings.maxQueueSize) {
    problems.push(`${prefix}_MAX_EXPORT_BATCH_SIZE: ${settings.maxExportBatchSize} is invalid; accepted: at most ${prefix}_MAX_QUEUE_SIZE (${settings.maxQueueSize})`);
  }
  return settings;
}

export function parseOtelConfig(env: Env): OtelConfig {
  const problems: string[] = [];
  const resourceAttributes = keyValues(problems, env, 'OTEL_RESOURCE_ATTRIBUTES') ?? {};
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || resourceAttributes['service.name'] || 'vmq-otel-sidecar';
  const explicitMetrics = list(problems, env, 'OTEL_METRICS_EXPORTER', ['otlp', 'prometheus', 'console', 'none'] as const);
  const explicitLogs = list(problems, env, 'OTEL_LOGS_EXPORTER', ['otlp', 'console', 'none'] as const);
  const explicitTraces = list(problems, env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none'] as const);
  // A signal with no OTLP destination configured assumes no collector: metrics on the Prometheus
  // endpoint and log records as readable lines, instead of OTLP exports failing against
  // localhost forever. Per signal: a metrics endpoint alone leaves the log records as lines.
  const otlpMetrics = otlpConfigured(env, 'METRICS');
  const otlpLogs = otlpConfigured(env, 'LOGS');
  const metricsExporters = explicitMetrics ?? (otlpMetrics ? ['otlp'] : ['prometheus']);
  const logsExporters = explicitLogs ?? (otlpLogs ? ['otlp'] : ['console']);
  // Spans only where a collector is configured (or asked for by name): there is no local form of them.
  const tracesExporters = explicitTraces ?? (otlpConfigured(env, 'TRACES') ? ['otlp'] : ['none']);
  const bsp = batchSettings(problems, env, 'OTEL_BSP', 5000);
  const blrp = batchSettings(problems, env, 'OTEL_BLRP', 1000);
  const promPortRaw = env.OTEL_EXPORTER_PROMETHEUS_PORT;
  const prometheusPort = promPortRaw !== undefined && promPortRaw.trim() !== '' ? int(problems, env, 'OTEL_EXPORTER_PROMETHEUS_PORT', 9464, 0, 65535) : undefined;
  const config: OtelConfig = {
    serviceName,
    resourceAttributes,
    metricsExporters,
    logsExporters,
    tracesExporters,
    embeddedDefault: explicitMetrics === undefined && explicitLogs === undefined && !otlpMetrics && !otlpLogs,
    metrics: signal(problems, env, 'METRICS'),
    logs: signal(problems, env, 'LOGS'),
    traces: signal(problems, env, 'TRACES'),
    metricExportIntervalMillis: int(problems, env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, 100, 86_400_000),
    metricExportTimeoutMillis: int(problems, env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 1, 600_000),
    temporality: oneOf(problems, env, ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'], ['cumulative', 'delta', 'lowmemory'] as const, 'cumulative'),
    blrp,
    bsp,
    prometheusHost: env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || undefined,
    prometheusPort,
    logRecordLimits: {
      attributeCountLimit: limit(problems, env, 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT', DEFAULT_LOG_ATTRIBUTE_COUNT_LIMIT),
      attributeValueLengthLimit: limit(
        problems,
        env,
        'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT',
        'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
        DEFAULT_LOG_ATTRIBUTE_VALUE_LENGTH_LIMIT,
      ),
    },
  };
  // The base endpoint and headers serve both signals: report each problem once.
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return config;
}

export interface ExportTarget {
  signal: 'metrics' | 'logs' | 'traces';
  exporter: string;
  endpoint: string;
  protocol?: OtlpProtocol;
}

/** Where each signal goes, for the start-up lines; adminUrl is the admin listener's base URL, if any. */
export function exportTargets(otel: OtelConfig, adminUrl: string | null): ExportTarget[] {
  const targets: ExportTarget[] = [];
  for (const exporter of otel.metricsExporters) {
    if (exporter === 'otlp') targets.push({ signal: 'metrics', exporter, endpoint: maskUrl(otel.metrics.url), protocol: otel.metrics.protocol });
    else if (exporter === 'prometheus') targets.push({ signal: 'metrics', exporter, endpoint: adminUrl ? `${adminUrl}/metrics` : 'nowhere: the admin listener is off' });
    else if (exporter === 'console') targets.push({ signal: 'metrics', exporter, endpoint: 'stdout' });
    else targets.push({ signal: 'metrics', exporter, endpoint: 'nowhere' });
  }
  // Only the first logs exporter is used (the pipeline says so at start).
  const logs = otel.logsExporters[0] ?? 'none';
  if (logs === 'otlp') targets.push({ signal: 'logs', exporter: logs, endpoint: maskUrl(otel.logs.url), protocol: otel.logs.protocol });
  else targets.push({ signal: 'logs', exporter: logs, endpoint: logs === 'console' ? 'stdout' : 'nowhere' });
  // Spans are opt-in: a line only when they are exported.
  if (otel.tracesExporters[0] === 'otlp') targets.push({ signal: 'traces', exporter: 'otlp', endpoint: maskUrl(otel.traces.url), protocol: otel.traces.protocol });
  return targets;
}

/** The variables parseOtelConfig reads, for the configuration reference. */
export const OTEL_VARIABLES: readonly { name: string; default: string; meaning: string }[] = [
  { name: 'OTEL_SERVICE_NAME', default: 'vmq-otel-sidecar', meaning: 'service.name of every metric and log record' },
  { name: 'OTEL_RESOURCE_ATTRIBUTES', default: '', meaning: 'extra resource attributes, key=value,... (percent-encoded values); service.instance.id here replaces the default HOSTNAME:LISTEN_PORT' },
  { name: 'OTEL_METRICS_EXPORTER', default: 'otlp if OTEL_EXPORTER_OTLP_ENDPOINT or _METRICS_ENDPOINT is set, else prometheus', meaning: 'comma-separated: otlp, prometheus (on the admin listener\'s /metrics), console, none' },
  { name: 'OTEL_LOGS_EXPORTER', default: 'otlp if OTEL_EXPORTER_OTLP_ENDPOINT or _LOGS_ENDPOINT is set, else console', meaning: 'otlp, console (one readable line per record on stdout), none' },
  { name: 'OTEL_TRACES_EXPORTER', default: 'otlp if OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT is set, else none', meaning: 'otlp or none: spans of the broker hop of traced messages (docs/traces.md)' },
  { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', default: 'http/protobuf', meaning: 'http/protobuf, http/json or grpc; _METRICS_, _LOGS_ and _TRACES_ variants override per signal' },
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: 'http://localhost:4318 (grpc: http://localhost:4317)', meaning: 'base URL; HTTP appends /v1/metrics, /v1/logs and /v1/traces' },
  { name: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT / _LOGS_ENDPOINT / _TRACES_ENDPOINT', default: '', meaning: 'full URL for one signal, used as given' },
  { name: 'OTEL_EXPORTER_OTLP_HEADERS (and _METRICS_ / _LOGS_ / _TRACES_)', default: '', meaning: 'key=value,... headers sent with every export' },
  { name: 'OTEL_EXPORTER_OTLP_TIMEOUT (and _METRICS_ / _LOGS_ / _TRACES_)', default: '10000', meaning: 'export timeout, ms' },
  { name: 'OTEL_EXPORTER_OTLP_COMPRESSION (and _METRICS_ / _LOGS_ / _TRACES_)', default: 'none', meaning: 'gzip or none' },
  { name: 'OTEL_EXPORTER_OTLP_CERTIFICATE (and _METRICS_ / _LOGS_ / _TRACES_)', default: '', meaning: 'PEM file of the root certificate(s) that sign the collector\'s certificate, for an https:// endpoint (default: Node\'s bundled roots); read at start' },
  { name: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE / _CLIENT_KEY (and _METRICS_ / _LOGS_ / _TRACES_)', default: '', meaning: 'PEM files of the client certificate and its private key, for a collector that requires mutual TLS; both or neither, read at start' },
  { name: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', default: 'cumulative', meaning: 'cumulative, delta or lowmemory (counters and histograms as deltas; gauges stay cumulative)' },
  { name: 'OTEL_METRIC_EXPORT_INTERVAL', default: '60000', meaning: 'ms between OTLP metric exports' },
  { name: 'OTEL_METRIC_EXPORT_TIMEOUT', default: '30000', meaning: 'ms allowed per metric export (at most the interval)' },
  { name: 'OTEL_BLRP_SCHEDULE_DELAY', default: '1000', meaning: 'ms between log record exports' },
  { name: 'OTEL_BLRP_EXPORT_TIMEOUT', default: '30000', meaning: 'ms allowed per log export' },
  { name: 'OTEL_BLRP_MAX_QUEUE_SIZE', default: '2048', meaning: 'log records held for export; past it records are dropped and counted (reason queue_full)' },
  { name: 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', default: '512', meaning: 'log records per export (at most the queue size)' },
  { name: 'OTEL_BSP_SCHEDULE_DELAY', default: '5000', meaning: 'ms between span exports' },
  { name: 'OTEL_BSP_EXPORT_TIMEOUT', default: '30000', meaning: 'ms allowed per span export' },
  { name: 'OTEL_BSP_MAX_QUEUE_SIZE', default: '2048', meaning: 'spans held for export; past it spans are dropped and counted (otel.sdk.processor.span.processed{error.type=queue_full})' },
  { name: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', default: '512', meaning: 'spans per export (at most the queue size)' },
  { name: 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT (else OTEL_ATTRIBUTE_COUNT_LIMIT)', default: String(DEFAULT_LOG_ATTRIBUTE_COUNT_LIMIT), meaning: 'attributes per log record; further ones are left out and counted in the record\'s dropped_attributes_count' },
  { name: 'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT (else OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT)', default: String(DEFAULT_LOG_ATTRIBUTE_VALUE_LENGTH_LIMIT), meaning: 'characters per string attribute value (and per string in an array) and of the record\'s body; longer ones are cut. mqtt.payload has its own limit, --log-payload-bytes' },
  { name: 'OTEL_EXPORTER_PROMETHEUS_HOST / _PORT', default: '127.0.0.1 / 9464', meaning: 'the admin listener\'s address when --admin-listen is not given' },
];
