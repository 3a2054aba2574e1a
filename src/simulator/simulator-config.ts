/** Options of `vmq-otel-sidecar simulate`. */
import { durationInRange, intInRange, numberInRange, oneOf, parseBoolean, parseHostPort, textOfLength, type HostPort, type OptionTable } from '../config/option-parser.js';

export interface SimulatorSettings {
  target: HostPort;
  connections: number;
  clients: number;
  seed: number;
  rate: number;
  durationMs: number | undefined;
  events: number | undefined;
  preencode: boolean;
  mqtt5Share: number;
  mqtt5Companion: boolean;
  json: boolean;
  transport: 'tcp' | 'grpc' | 'both';
  grpcTarget: HostPort[];
  grpcPercent: number;
  grpcWorkers: number;
  grpcConnections: number;
  grpcTimeoutMs: number;
  userType: string;
  connectTimeoutMs: number;
}

export const SIMULATOR_OPTIONS: OptionTable<SimulatorSettings> = {
  target: {
    flag: 'target',
    help: { value: 'HOST:PORT', summary: 'the sidecar\'s TCP listener' },
    env: 'VMQ_SIDECAR_LISTEN',
    default: '127.0.0.1:8890',
    accepted: 'HOST:PORT',
    description: 'The sidecar to send to.',
    parse: parseHostPort,
  },
  connections: {
    flag: 'connections',
    help: { value: 'N', summary: 'connections in the pool (the plugin\'s pool_size)' },
    default: '100',
    accepted: 'a whole number from 1 to 10000',
    description: 'Connections in the pool (the plugin\'s pool_size); each event goes on a random one.',
    parse: intInRange(1, 10_000),
  },
  clients: {
    flag: 'clients',
    help: { value: 'N', summary: 'virtual MQTT clients living session lifecycles' },
    default: '1000',
    accepted: 'a whole number from 1 to 10000000',
    description: 'Virtual MQTT clients living session lifecycles.',
    parse: intInRange(1, 10_000_000),
  },
  seed: {
    flag: 'seed',
    help: { value: 'N', summary: 'the same seed gives the same events' },
    default: '1',
    accepted: 'a whole number from 0 to 4294967295',
    description: 'Seed of the pseudo-random choices: the same seed gives the same events.',
    parse: intInRange(0, 4294967295),
  },
  rate: {
    flag: 'rate',
    help: { value: 'N|max', summary: 'events per second' },
    default: '1000',
    accepted: 'events per second from 1 to 100000000, or max',
    description: 'Target rate; "max" sends as fast as the sidecar reads.',
    parse: (raw) => (raw.trim().toLowerCase() === 'max' ? 0 : intInRange(1, 100_000_000)(raw)),
  },
  durationMs: {
    flag: 'duration',
    help: { value: 'DURATION', summary: 'stop after this long (10s without --events)' },
    accepted: 'a duration from 1ms to 24h, e.g. 10s',
    description: 'Stop after this long. Without --duration and --events the run lasts 10s.',
    parse: durationInRange(1, 86_400_000),
  },
  events: {
    flag: 'events',
    help: { value: 'N', summary: 'stop after this many events' },
    accepted: 'a whole number from 1 to 1000000000',
    description: 'Stop after this many events (the step of the last client is completed, so a few more may go).',
    parse: intInRange(1, 1_000_000_000),
  },
  preencode: {
    flag: 'preencode',
    help: { summary: 'encode every frame before sending (benchmarks; needs --events)' },
    default: 'false',
    boolean: true,
    accepted: 'true or false',
    description: 'Encode all frames before connecting, so that only sending is timed (needs --events; for benchmarks).',
    parse: parseBoolean,
  },
  mqtt5Share: {
    flag: 'mqtt5-share',
    help: { value: 'SHARE', summary: 'share of the virtual clients on MQTT 5' },
    default: '0',
    accepted: 'a number from 0 to 1',
    description:
      'Share of the virtual clients that connect with MQTT 5: as from the real plugin, they produce only session-layer events (wakeup, offline, gone, expired, offline_message, message_drop) with session_id "", username "" and disconnect reason unspecified. The summary\'s mqtt5Wakeups is what vmq_sidecar.session.unregistered_wakeups should count.',
    parse: numberInRange(0, 1),
  },
  mqtt5Companion: {
    flag: 'mqtt5-companion',
    help: { summary: 'the MQTT 5 clients also send what the companion plugin sends' },
    default: 'false',
    boolean: true,
    accepted: 'true or false',
    description:
      'The MQTT 5 companion plugin vmq_events_sidecar_m5 is installed (docs/mqtt5.md): the --mqtt5-share clients also send register, subscribe, unsubscribe, publish and deliver events, as its messages (network.protocol.version 5), with trace context in PUBLISH user properties; none of their wakeups stays unregistered.',
    parse: parseBoolean,
  },
  json: {
    flag: 'json',
    help: { summary: 'one JSON object instead of a table' },
    default: 'false',
    boolean: true,
    accepted: 'true or false',
    description: 'Print the summary as one JSON object instead of a table.',
    parse: parseBoolean,
  },
  transport: {
    flag: 'transport',
    help: { value: 'tcp|grpc|both', summary: 'the TCP pool, gRPC Event calls, or both' },
    default: 'tcp',
    accepted: 'tcp, grpc, both',
    description: "How events travel: the TCP pool, gRPC Event calls, or both (each event picks gRPC with probability --grpc-percent, as the plugin's runtime percentage does).",
    parse: oneOf(['tcp', 'grpc', 'both'] as const),
  },
  grpcTarget: {
    flag: 'grpc-target',
    help: { value: 'HOST:PORT,...', summary: 'the sidecar\'s --grpc-listen (several: replicas)' },
    default: '127.0.0.1:8891',
    accepted: 'HOST:PORT, or several comma-separated (replicas: connection i goes to the i-th mod N, as a connection-balancing load balancer spreads them)',
    description: "The sidecar's --grpc-listen address (the plugin's grpc_endpoint:grpc_port).",
    parse: (raw) => raw.split(',').map(parseHostPort),
  },
  grpcPercent: {
    flag: 'grpc-percent',
    help: { value: 'PERCENT', summary: 'with --transport both, the share sent over gRPC' },
    default: '50',
    accepted: 'a whole number from 0 to 100',
    description: 'With --transport both: the share of events sent over gRPC.',
    parse: intInRange(0, 100),
  },
  grpcWorkers: {
    flag: 'grpc-workers',
    help: { value: 'N', summary: 'gRPC workers, one call in flight each' },
    default: '100',
    accepted: 'a whole number from 1 to 10000',
    description: "gRPC workers, each with one call in flight at a time (the plugin's grpc_worker_pool_size).",
    parse: intInRange(1, 10_000),
  },
  grpcConnections: {
    flag: 'grpc-connections',
    help: { value: 'N', summary: 'HTTP/2 connections the workers share' },
    default: '10',
    accepted: 'a whole number from 1 to 1000',
    description: 'HTTP/2 connections the workers share, worker i on connection i mod N.',
    parse: intInRange(1, 1000),
  },
  grpcTimeoutMs: {
    flag: 'grpc-timeout',
    help: { value: 'DURATION', summary: 'per-call deadline; a late call is a lost event' },
    default: '500ms',
    accepted: 'a duration from 1ms to 1m',
    description: "Per-call deadline (the plugin's grpc_timeout); a call not answered in time is a lost event, counted as a timeout.",
    parse: durationInRange(1, 60_000),
  },
  connectTimeoutMs: {
    flag: 'connect-timeout',
    help: { value: 'DURATION', summary: 'how long to retry a first connection that fails' },
    default: '5s',
    accepted: 'a duration from 0ms to 10m',
    description: 'How long to keep trying when the first TCP connection fails as with a sidecar not there yet (refused, or its name not resolving yet), as the plugin keeps reconnecting; then the run fails with status 69.',
    parse: durationInRange(0, 600_000),
  },
  userType: {
    flag: 'user-type',
    help: { value: 'TEXT', summary: 'the user-type metadata of every call' },
    default: 'default',
    accepted: 'a string of 1 to 64 characters',
    description: "The user-type metadata of every call (the plugin's vmq_events_sidecar.user_type).",
    parse: textOfLength(1, 64),
  },
};
