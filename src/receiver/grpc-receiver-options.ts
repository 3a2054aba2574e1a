/**
 * The gRPC receiver's rows of the option table (--grpc-listen, its bounds, the worker
 * processes), and its rules across options: the workers need deltas mode and the gRPC listener,
 * and the listener its own address.
 */
import { ConfigError, intInRange, parseHostPortOrOff, type OptionRows, type SettingsOf } from '../config/option-parser.js';
import type { ComponentConfig } from '../config/component-config.js';
import type { GaugeMode } from '../sessions/session-tracker-options.js';
import type { TcpReceiverSettings } from './tcp-receiver-options.js';
import { listenCollision } from '../config/listen-address.js';

export const GRPC_RECEIVER_OPTIONS = {
  grpcListen: {
    flag: 'grpc-listen',
    help: { value: 'HOST:PORT|off', summary: 'the plugin\'s gRPC transport' },
    env: 'VMQ_SIDECAR_GRPC_LISTEN',
    default: 'off',
    accepted: 'HOST:PORT ([IPv6]:PORT for IPv6; port 0 picks a free port), or off',
    description:
      "Also serve the plugin's gRPC transport here: /webhook.v1beta1.PluginService/Event over HTTP/2 without TLS (vmq_events_sidecar.grpc_endpoint/grpc_port), and grpc.health.v1.Health (Check, Watch). " +
      'A request message held while it arrives counts against --max-buffered-bytes (with TCP\'s partial frames); a call that does not fit, or is longer than --max-frame-bytes, is answered RESOURCE_EXHAUSTED and counted.',
    parse: parseHostPortOrOff,
  },
  grpcMaxConnections: {
    flag: 'grpc-max-connections',
    help: { value: 'N', summary: 'gRPC connections served at once' },
    env: 'VMQ_SIDECAR_GRPC_MAX_CONNECTIONS',
    default: '1024',
    accepted: 'a whole number from 1 to 65535',
    description:
      'gRPC connections served at once (each broker node opens its gRPC pool, 100 by default). Further connections are closed at accept and counted (vmq_sidecar.connection.refused{vmq_sidecar.transport=grpc}).',
    parse: intInRange(1, 65535),
  },
  grpcMaxStreams: {
    flag: 'grpc-max-streams',
    help: { value: 'N', summary: 'calls in flight at once per gRPC connection' },
    env: 'VMQ_SIDECAR_GRPC_MAX_STREAMS',
    default: '100',
    accepted: 'a whole number from 1 to 10000',
    description:
      "Calls in flight at once per gRPC connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; the plugin's workers have one call each in flight, spread over its connections). A client queues calls past it.",
    parse: intInRange(1, 10000),
  },
  workers: {
    flag: 'workers',
    help: { value: 'auto|N', summary: 'processes serving the gRPC listener (central replicas)' },
    env: 'VMQ_SIDECAR_WORKERS',
    default: 'auto',
    accepted: 'auto, or a whole number from 1 to 256',
    description:
      'Processes serving the gRPC listener, on one port (SO_REUSEPORT on Node >= 22.12, else the cluster module), for a central replica in --gauge-mode deltas: each counts its share and exports its own log records; the metrics are merged into one set of series. ' +
      'auto: the container\'s CPU quota (cgroup cpu.max, rounded up), or without one the CPUs the process may run on (its affinity), never the node\'s cores past a quota; 1 outside deltas mode with --grpc-listen. Sessions mode (per-client state) refuses more than 1.',
    parse: (raw) => (raw.trim().toLowerCase() === 'auto' ? ('auto' as const) : intInRange(1, 256)(raw)),
  },
} satisfies OptionRows;

/** The gRPC receiver's settings. */
export type GrpcReceiverSettings = SettingsOf<typeof GRPC_RECEIVER_OPTIONS>;

/** What --workers depends on: the listener it serves and the session tracker's gauge mode. */
type WorkerSettings = Pick<GrpcReceiverSettings, 'workers' | 'grpcListen'> & { readonly gaugeMode: GaugeMode };

/**
 * --workers resolved: `auto` is `autoWorkers` (the CLI passes the CPU quota, see
 * defaultWorkers()) in deltas mode with gRPC, else 1; more than 1 needs deltas mode and gRPC
 * (validate() refuses it otherwise).
 */
export function resolveWorkers(settings: WorkerSettings, autoWorkers = 1): number {
  const central = settings.gaugeMode === 'deltas' && settings.grpcListen !== null;
  if (settings.workers === 'auto') return central ? autoWorkers : 1;
  const problems = workerProblems(settings);
  if (problems.length > 0) throw new ConfigError(problems);
  return settings.workers;
}

function workerProblems(settings: WorkerSettings): string[] {
  const { workers } = settings;
  if (workers === 'auto' || workers <= 1) return [];
  if (settings.gaugeMode !== 'deltas') {
    return [
      `--workers ${workers}: needs --gauge-mode deltas (sessions mode keeps each client's state in one process, and the workers would each see a share of a client's events); use 1, or deltas mode for a central deployment`,
    ];
  }
  if (settings.grpcListen === null) return [`--workers ${workers}: the workers serve the gRPC listener; set --grpc-listen, or use 1`];
  return [];
}

export const GRPC_RECEIVER_CONFIG: ComponentConfig<GrpcReceiverSettings, GrpcReceiverSettings & WorkerSettings & Pick<TcpReceiverSettings, 'listen'>> = {
  name: 'gRPC receiver',
  options: GRPC_RECEIVER_OPTIONS,
  validate(settings) {
    const { grpcListen } = settings;
    const collision = grpcListen && listenCollision({ ...grpcListen, setting: '--grpc-listen' }, { ...settings.listen, setting: '--listen' });
    return [...workerProblems(settings), ...(collision ? [collision] : [])];
  },
};
