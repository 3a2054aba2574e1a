/**
 * The sidecar's own settings (the OpenTelemetry ones come from the standard OTEL_* variables).
 * This table is the configuration reference: docs/configuration.md is generated from it.
 */
import {
  durationInRange,
  intInRange,
  oneOf,
  parseBoolean,
  parseHostPort,
  sizeInRange,
  type HostPort,
  type OptionTable,
} from './option-parser.js';
import { LOG_LEVELS, type LogLevel } from '../logging/sidecar-logger.js';
import { DEFAULT_MAX_FRAME_BYTES, UNFRAMEABLE_LENGTH } from '../framing/frame-decoder.js';
import { HOOKS, type HookName } from '../events/event-types.js';
import { DEFAULT_LOG_HOOKS, DEFAULT_LOG_USER_PROPERTIES } from '../sinks/log-sink.js';
import { REDACT_FIELDS, type RedactField, type RedactMode } from '../sinks/redaction.js';
import { parseTopicGroups, type TopicGroupPattern } from '../metrics/topic-grouper.js';
import { CLIENT_GROUPS_OPTION, type ClientGroupPattern } from '../metrics/client-grouper.js';
import { checkStateFileDirectory } from '../sessions/session-snapshot.js';

export interface SidecarSettings {
  listen: HostPort;
  maxFrameBytes: number;
  maxBufferedBytes: number;
  maxConnections: number;
  logLevel: LogLevel;
  printEvents: boolean;
  shutdownTimeoutMs: number;
  /** undefined: from OTEL_EXPORTER_PROMETHEUS_HOST/PORT, else 127.0.0.1:9464; null: off. */
  adminListen: HostPort | null | undefined;
  logHooks: Partial<Record<HookName, number>>;
  logTracedMessages: boolean;
  traceContextField: string;
  logPayloadBytes: number;
  logQueueMaxBytes: number;
  topicGroups: TopicGroupPattern[];
  clientGroups: ClientGroupPattern[];
  maxTopicGroups: number;
  maxDropReasons: number;
  maxMountpoints: number;
  maxTrackedClients: number;
  stateFile: string | undefined;
  stateIntervalMs: number;
  stateMaxAgeMs: number;
  brokerMetricsUrl: string | undefined;
  brokerScrapeIntervalMs: number;
  brokerScrapeTimeoutMs: number;
  logUserProperties: readonly string[] | '*';
  redact: readonly RedactField[];
  redactMode: RedactMode;
  redactKey: string | undefined;
  /** null: the gRPC transport is off. */
  grpcListen: HostPort | null;
  grpcMaxConnections: number;
  grpcMaxStreams: number;
  /** 'auto': the CPU quota (else the CPUs the process may use) in deltas mode with --grpc-listen, else 1. */
  workers: number | 'auto';
  gaugeMode: GaugeMode;
}

/**
 * Ports fetch() refuses (https://fetch.spec.whatwg.org/#port-blocking): the broker scrape uses
 * fetch, and a URL on one of them would pass here and then fail every scrape with "bad port".
 */
const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137,
  139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723,
  2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** "*" (every key), or a comma-separated list of keys added to traceparent and tracestate. */
export function parseLogUserProperties(raw: string): readonly string[] | '*' {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.includes('*')) {
    if (items.length > 1) throw new Error('"*" cannot be combined with keys');
    return '*';
  }
  for (const k of items) if (k.length > 256) throw new Error(`key ${JSON.stringify(k.slice(0, 20))}... is longer than 256 characters`);
  return [...new Set([...DEFAULT_LOG_USER_PROPERTIES, ...items])];
}

/** none, or a comma-separated list of client_id, username, peer. */
export function parseRedact(raw: string): readonly RedactField[] {
  const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (items.length === 1 && items[0] === 'none') return [];
  for (const i of items) if (!(REDACT_FIELDS as readonly string[]).includes(i)) throw new Error(`unknown field ${JSON.stringify(i)}`);
  return [...new Set(items)] as RedactField[];
}

/** sessions: per-client state (one sidecar sees all of a broker's events); deltas: summable over replicas. */
export type GaugeMode = 'sessions' | 'deltas';
export const GAUGE_MODES: readonly GaugeMode[] = ['sessions', 'deltas'];

/**
 * "lifecycle", "all", "none" and hook[:ratio] items, comma-separated; a hook item after
 * lifecycle or all sets that hook's ratio. Nothing at all, none with anything else, or a hook
 * named twice is refused.
 */
export function parseLogHooks(raw: string): Partial<Record<HookName, number>> {
  const ratios: Partial<Record<HookName, number>> = {};
  const items = raw.split(',').map((p) => p.trim().toLowerCase()).filter((i) => i !== '');
  // Contradictions are refused rather than resolved by a silent rule.
  if (items.length === 0) throw new Error('no item; give none to log no events');
  if (items.includes('none') && items.length > 1) throw new Error('none cannot be combined with other items');
  const named = new Set<HookName>();
  for (const item of items) {
    if (item === 'none') continue;
    if (item === 'lifecycle') {
      for (const h of DEFAULT_LOG_HOOKS) ratios[h] = 1;
      continue;
    }
    if (item === 'all') {
      for (const h of HOOKS) ratios[h] = 1;
      continue;
    }
    const [name, ratioText] = item.split(':', 2) as [string, string | undefined];
    const hook = (name.startsWith('on_') ? name : `on_${name}`) as HookName;
    if (!HOOKS.includes(hook)) throw new Error(`unknown hook ${JSON.stringify(name)}`);
    if (named.has(hook)) throw new Error(`${hook} is given twice`);
    named.add(hook);
    const ratio = ratioText === undefined ? 1 : Number(ratioText);
    if (ratioText !== undefined && (ratioText.trim() === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1)) {
      throw new Error(`sampling ratio ${JSON.stringify(ratioText)} of ${hook} is not a number from 0 to 1`);
    }
    ratios[hook] = ratio;
  }
  return ratios;
}

export const SIDECAR_OPTIONS: OptionTable<SidecarSettings> = {
  listen: {
    flag: 'listen',
    env: 'VMQ_SIDECAR_LISTEN',
    default: '127.0.0.1:8890',
    accepted: 'HOST:PORT ([IPv6]:PORT for IPv6; port 0 picks a free port)',
    description: 'Where the plugin connects (vmq_events_sidecar.hostname/port; the plugin defaults to 127.0.0.1:8890).',
    parse: parseHostPort,
  },
  maxFrameBytes: {
    flag: 'max-frame-bytes',
    env: 'VMQ_SIDECAR_MAX_FRAME_BYTES',
    default: '16MiB',
    accepted: `a byte size from 1KiB to ${UNFRAMEABLE_LENGTH / 1024 / 1024}MiB, e.g. ${DEFAULT_MAX_FRAME_BYTES} or 16MiB`,
    description:
      'Largest frame decoded. A longer frame is skipped without being buffered and counted as oversized; ' +
      'a length beyond 257MiB means the stream cannot be framed and the connection is closed.',
    parse: sizeInRange(1024, UNFRAMEABLE_LENGTH),
  },
  maxBufferedBytes: {
    flag: 'max-buffered-bytes',
    env: 'VMQ_SIDECAR_MAX_BUFFERED_BYTES',
    default: '64MiB',
    accepted: 'a byte size from 1MiB to 64GiB, e.g. 64MiB',
    description:
      'Memory for partial frames (received in part, waiting for the rest), all connections together. ' +
      'Frame buffers grow as bytes arrive; past this budget, the connection holding the most is closed and counted ' +
      '(vmq_sidecar.connection.closed{error.type=buffer_budget}); the plugin reconnects.',
    parse: sizeInRange(1024 * 1024, 64 * 1024 * 1024 * 1024),
  },
  maxConnections: {
    flag: 'max-connections',
    env: 'VMQ_SIDECAR_MAX_CONNECTIONS',
    default: '1024',
    accepted: 'a whole number from 1 to 65535',
    description:
      'Plugin connections served at once (the plugin opens vmq_events_sidecar.pool_size, 100 by default). When reached, a new connection takes the slot of ' +
      'the longest idle connection that has sent no valid event (counted in vmq_sidecar.connection.closed{error.type=evicted_idle}); only when every open ' +
      'connection has sent events is it refused (counted), and /readyz answers 503 meanwhile.',
    parse: intInRange(1, 65535),
  },
  logLevel: {
    flag: 'log-level',
    env: 'VMQ_SIDECAR_LOG_LEVEL',
    default: 'info',
    accepted: LOG_LEVELS.join(', '),
    description: "Least severe level of the sidecar's own JSON log lines on stderr.",
    parse: oneOf(LOG_LEVELS),
  },
  printEvents: {
    flag: 'print-events',
    env: 'VMQ_SIDECAR_PRINT_EVENTS',
    default: 'false',
    boolean: true,
    accepted: 'true or false (the bare flag means true)',
    description: 'Print every decoded event as one line on stdout with every field the plugin sent (session_id, ACL name and pattern, subscription ACLs, user properties); payloads as their size only.',
    parse: parseBoolean,
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout',
    env: 'VMQ_SIDECAR_SHUTDOWN_TIMEOUT',
    default: '10s',
    accepted: 'a duration from 100ms to 5m, e.g. 500ms, 10s',
    description: 'On SIGTERM/SIGINT: longest time spent draining connections and flushing telemetry before exiting.',
    parse: durationInRange(100, 300_000),
  },
  adminListen: {
    flag: 'admin-listen',
    env: 'VMQ_SIDECAR_ADMIN_LISTEN',
    accepted: 'HOST:PORT, or off',
    description:
      'Admin HTTP listener: /healthz, /readyz, /status and (with the prometheus metrics exporter) /metrics. ' +
      'Defaults to OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT, else 127.0.0.1:9464.',
    parse: (raw) => (raw.trim().toLowerCase() === 'off' ? null : parseHostPort(raw)),
  },
  logHooks: {
    flag: 'log-hooks',
    env: 'VMQ_SIDECAR_LOG_HOOKS',
    default: 'lifecycle',
    accepted:
      'none, or a comma-separated list of lifecycle (register, register_failed, client_wakeup, client_offline, client_gone, session_expired, subscribe, unsubscribe, message_drop), all, and HOOK or HOOK:RATIO (RATIO from 0 to 1; each hook once), e.g. lifecycle,on_publish:0.01',
    description: 'Which events become log records, and what share of them (a sampling ratio per hook).',
    parse: parseLogHooks,
  },
  logTracedMessages: {
    flag: 'log-traced-messages',
    env: 'VMQ_SIDECAR_LOG_TRACED_MESSAGES',
    default: 'false',
    boolean: true,
    accepted: 'true or false',
    description: 'Also log message events (publish, deliver, ...) whose payload carries trace context, even when their hook is off or sampled out.',
    parse: parseBoolean,
  },
  traceContextField: {
    flag: 'trace-context-field',
    env: 'VMQ_SIDECAR_TRACE_CONTEXT_FIELD',
    default: 'traceparent',
    accepted: 'a JSON field name of 1 to 64 characters',
    description: 'Field of a JSON payload that holds a W3C traceparent.',
    parse: (raw) => {
      const v = raw.trim();
      if (v.length < 1 || v.length > 64) throw new Error('wrong length');
      return v;
    },
  },
  logPayloadBytes: {
    flag: 'log-payload-bytes',
    env: 'VMQ_SIDECAR_LOG_PAYLOAD_BYTES',
    default: '0',
    accepted: 'a byte size from 0 (never) to 1MiB',
    description: 'Copy message payloads into log records (mqtt.payload, UTF-8 when valid, else base64), cut at this many bytes; 0 never logs payloads.',
    parse: sizeInRange(0, 1024 * 1024),
  },
  logQueueMaxBytes: {
    flag: 'log-queue-max-bytes',
    env: 'VMQ_SIDECAR_LOG_QUEUE_MAX_BYTES',
    default: '64MiB',
    accepted: 'a byte size from 1MiB to 16GiB, e.g. 64MiB',
    description:
      'Memory for log records waiting to be exported, beside OTEL_BLRP_MAX_QUEUE_SIZE (whichever is reached first): ' +
      'the records\' OTLP protobuf bytes with the http/protobuf exporter, 1 KiB a record with the others. ' +
      'Past it, records are dropped and counted (otel.sdk.processor.log.processed{error.type=queue_full}).',
    parse: sizeInRange(1024 * 1024, 16 * 1024 * 1024 * 1024),
  },
  topicGroups: {
    flag: 'topic-groups',
    env: 'VMQ_SIDECAR_TOPIC_GROUPS',
    default: '',
    accepted: 'comma-separated MQTT topic filters, each optionally =NAME, e.g. devices/+/telemetry=telemetry,fleet/#=fleet',
    description: 'Topic families for the mqtt.topic.group attribute when the broker sends no matched ACL name; the first matching filter wins.',
    parse: parseTopicGroups,
  },
  clientGroups: CLIENT_GROUPS_OPTION,
  maxTopicGroups: {
    flag: 'max-topic-groups',
    env: 'VMQ_SIDECAR_MAX_TOPIC_GROUPS',
    default: '200',
    accepted: 'a whole number from 1 to 10000',
    description:
      'Distinct mqtt.topic.group values before further ones become "other". Half of them go to values at their first event, the other half to values seen twice ' +
      '(so one-off garbage cannot take every place); malformed values become "invalid".',
    parse: intInRange(1, 10_000),
  },
  maxDropReasons: {
    flag: 'max-drop-reasons',
    env: 'VMQ_SIDECAR_MAX_DROP_REASONS',
    default: '50',
    accepted: 'a whole number from 1 to 10000',
    description:
      'Distinct drop reasons (error.type of mqtt.message.dropped) before further ones become "other". Half of them go to values at their first event, the other half to values seen twice ' +
      '(so one-off garbage cannot take every place); malformed values become "invalid".',
    parse: intInRange(1, 10_000),
  },
  maxMountpoints: {
    flag: 'max-mountpoints',
    env: 'VMQ_SIDECAR_MAX_MOUNTPOINTS',
    default: '100',
    accepted: 'a whole number from 1 to 10000',
    description:
      'Distinct mqtt.mountpoint values before further ones become "other". Half of them go to values at their first event, the other half to values seen twice ' +
      '(so one-off garbage cannot take every place); malformed values become "invalid".',
    parse: intInRange(1, 10_000),
  },
  maxTrackedClients: {
    flag: 'max-tracked-clients',
    env: 'VMQ_SIDECAR_MAX_TRACKED_CLIENTS',
    default: '750000',
    accepted: 'a whole number from 1 to 100000000',
    description:
      'Clients whose session state is kept for the connected/offline gauges (about 300 bytes of memory each, measured); events of further clients are counted in vmq_sidecar.session.untracked. ' +
      'The default fits a 512 MiB container with the other defaults (docs/operations.md, memory plan).',
    parse: intInRange(1, 100_000_000),
  },
  stateFile: {
    flag: 'state-file',
    env: 'VMQ_SIDECAR_STATE_FILE',
    accepted: 'a path in an existing, writable directory: a new file, or a regular file holding a snapshot (not a symbolic link, device, FIFO, socket or directory)',
    description:
      'Keep the session state (who is connected, which sessions are offline) and, with --broker-metrics-url, the upstream loss count in this file, written every --state-interval and on shutdown, and load it at start, so the gauges and vmq_sidecar.upstream.missing survive restarts. Off when not set.',
    parse: (raw) => {
      const v = raw.trim();
      if (v === '') throw new Error('empty path');
      checkStateFileDirectory(v);
      return v;
    },
  },
  stateIntervalMs: {
    flag: 'state-interval',
    env: 'VMQ_SIDECAR_STATE_INTERVAL',
    default: '60s',
    accepted: 'a duration from 1s to 1h',
    description: 'How often the session state is written to --state-file.',
    parse: durationInRange(1000, 3_600_000),
  },
  stateMaxAgeMs: {
    flag: 'state-max-age',
    env: 'VMQ_SIDECAR_STATE_MAX_AGE',
    default: '10m',
    accepted: 'a duration from 1s to 168h, e.g. 10m or 2h',
    description: 'A --state-file older than this at start is ignored (the broker has moved on while the sidecar was away).',
    parse: durationInRange(1000, 7 * 86_400_000),
  },
  brokerMetricsUrl: {
    flag: 'broker-metrics-url',
    env: 'VMQ_SIDECAR_BROKER_METRICS_URL',
    accepted: 'an http:// or https:// URL, e.g. http://127.0.0.1:8888/metrics',
    description:
      "Scrape this broker node's Prometheus endpoint and export its connection counts, the drift of our gauges from them, and its sidecar send attempts and failures per hook. Off when not set.",
    parse: (raw) => {
      const u = new URL(raw.trim());
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      if (FETCH_BAD_PORTS.has(Number(u.port))) throw new Error(`port ${u.port} is one Node's fetch refuses to connect to (the Fetch standard's "bad ports"); serve the broker's metrics on another port`);
      return u.href;
    },
  },
  brokerScrapeIntervalMs: {
    flag: 'broker-scrape-interval',
    env: 'VMQ_SIDECAR_BROKER_SCRAPE_INTERVAL',
    default: '15s',
    accepted: 'a duration from 1s to 1h',
    description: 'How often --broker-metrics-url is scraped.',
    parse: durationInRange(1000, 3_600_000),
  },
  brokerScrapeTimeoutMs: {
    flag: 'broker-scrape-timeout',
    env: 'VMQ_SIDECAR_BROKER_SCRAPE_TIMEOUT',
    default: '5s',
    accepted: 'a duration from 100ms to 1m',
    description: 'A broker scrape taking longer is abandoned and counted as a timeout.',
    parse: durationInRange(100, 60_000),
  },
  logUserProperties: {
    flag: 'log-user-properties',
    env: 'VMQ_SIDECAR_LOG_USER_PROPERTIES',
    default: '',
    accepted: 'a comma-separated list of user property keys (added to traceparent and tracestate), or * for all',
    description:
      'User properties copied into log records (mqtt.user_property.<key>): of the CONNECT on on_register records, of an MQTT 5 PUBLISH on on_publish and on_deliver records (the companion plugin vmq_events_sidecar_m5 forwards only its own allowlist). Only traceparent and tracestate by default: ' +
      'the other keys are chosen by clients and may carry secrets (an auth token) or personal data.',
    parse: parseLogUserProperties,
  },
  redact: {
    flag: 'redact',
    env: 'VMQ_SIDECAR_REDACT',
    default: 'none',
    accepted: 'none, or a comma-separated list of client_id, username, peer',
    description:
      'Leave these out of log records (attributes and the message text), or hash them (--redact-mode). ' +
      'peer covers client.address and client.port. Metrics never carry them; --print-events still shows them.',
    parse: parseRedact,
  },
  redactMode: {
    flag: 'redact-mode',
    env: 'VMQ_SIDECAR_REDACT_MODE',
    default: 'hash',
    accepted: 'hash or drop',
    description:
      'hash: a keyed hash (HMAC-SHA-256, "h:" + 22 characters) replaces the value, so records of one client stay joinable but cannot be reversed with a dictionary of likely ids without the key; drop: the attribute is left out.',
    parse: oneOf(['hash', 'drop'] as const),
  },
  redactKey: {
    flag: 'redact-key',
    env: 'VMQ_SIDECAR_REDACT_KEY',
    accepted: 'any text, at least 16 characters (prefer the environment variable: command lines are visible to other users)',
    description:
      'Key of the --redact-mode hash. Set it (the same on every replica) for hashes that stay the same across restarts; when not set, a random key is drawn at start and hashes only match within one run.',
    parse: (raw) => {
      if (raw.length < 16) throw new Error('shorter than 16 characters');
      return raw;
    },
  },
  grpcListen: {
    flag: 'grpc-listen',
    env: 'VMQ_SIDECAR_GRPC_LISTEN',
    default: 'off',
    accepted: 'HOST:PORT ([IPv6]:PORT for IPv6; port 0 picks a free port), or off',
    description:
      "Also serve the plugin's gRPC transport here: /webhook.v1beta1.PluginService/Event over HTTP/2 without TLS (vmq_events_sidecar.grpc_endpoint/grpc_port), and grpc.health.v1.Health (Check, Watch). " +
      'A request message held while it arrives counts against --max-buffered-bytes (with TCP\'s partial frames); a call that does not fit, or is longer than --max-frame-bytes, is answered RESOURCE_EXHAUSTED and counted.',
    parse: (raw) => (raw.trim().toLowerCase() === 'off' ? null : parseHostPort(raw)),
  },
  grpcMaxConnections: {
    flag: 'grpc-max-connections',
    env: 'VMQ_SIDECAR_GRPC_MAX_CONNECTIONS',
    default: '1024',
    accepted: 'a whole number from 1 to 65535',
    description:
      'gRPC connections served at once (each broker node opens its gRPC pool, 100 by default). Further connections are closed at accept and counted (vmq_sidecar.connection.refused{vmq_sidecar.transport=grpc}).',
    parse: intInRange(1, 65535),
  },
  grpcMaxStreams: {
    flag: 'grpc-max-streams',
    env: 'VMQ_SIDECAR_GRPC_MAX_STREAMS',
    default: '100',
    accepted: 'a whole number from 1 to 10000',
    description:
      "Calls in flight at once per gRPC connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; the plugin's workers have one call each in flight, spread over its connections). A client queues calls past it.",
    parse: intInRange(1, 10000),
  },
  workers: {
    flag: 'workers',
    env: 'VMQ_SIDECAR_WORKERS',
    default: 'auto',
    accepted: 'auto, or a whole number from 1 to 256',
    description:
      'Processes serving the gRPC listener, on one port (SO_REUSEPORT on Node >= 22.12, else the cluster module), for a central replica in --gauge-mode deltas: each counts its share and exports its own log records; the metrics are merged into one set of series. ' +
      'auto: the container\'s CPU quota (cgroup cpu.max, rounded up), or without one the CPUs the process may run on (its affinity), never the node\'s cores past a quota; 1 outside deltas mode with --grpc-listen. Sessions mode (per-client state) refuses more than 1.',
    parse: (raw) => (raw.trim().toLowerCase() === 'auto' ? 'auto' : intInRange(1, 256)(raw)),
  },
  gaugeMode: {
    flag: 'gauge-mode',
    env: 'VMQ_SIDECAR_GAUGE_MODE',
    default: 'sessions',
    accepted: GAUGE_MODES.join(', '),
    description:
      'sessions: per-client state gives mqtt.client.connected, mqtt.session.offline and session durations (each sidecar sees all events of its broker node). ' +
      'deltas: for replicas behind a load balancer (gRPC, one client\'s events spread over all replicas): mqtt.client.connected moves by +1 per wakeup and -1 per offline/gone on whichever replica gets the event, so only its sum over the replicas is meaningful; no per-client state, no offline-session gauge, no session durations, no wakeup/register pairing (MQTT 5 share).',
    parse: oneOf(GAUGE_MODES),
  },
};
