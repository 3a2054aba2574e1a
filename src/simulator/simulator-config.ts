/** Options of `vmq-otel-sidecar simulate`. */
import { durationInRange, intInRange, numberInRange, parseBoolean, parseHostPort, type HostPort, type OptionTable } from '../config/option-parser.js';

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
  json: boolean;
}

export const SIMULATOR_OPTIONS: OptionTable<SimulatorSettings> = {
  target: {
    flag: 'target',
    env: 'VMQ_SIDECAR_LISTEN',
    default: '127.0.0.1:8890',
    accepted: 'HOST:PORT',
    description: 'The sidecar to send to.',
    parse: parseHostPort,
  },
  connections: {
    flag: 'connections',
    default: '100',
    accepted: 'a whole number from 1 to 10000',
    description: 'Connections in the pool (the plugin\'s pool_size); each event goes on a random one.',
    parse: intInRange(1, 10_000),
  },
  clients: {
    flag: 'clients',
    default: '1000',
    accepted: 'a whole number from 1 to 10000000',
    description: 'Virtual MQTT clients living session lifecycles.',
    parse: intInRange(1, 10_000_000),
  },
  seed: {
    flag: 'seed',
    default: '1',
    accepted: 'a whole number from 0 to 4294967295',
    description: 'Seed of the pseudo-random choices: the same seed gives the same events.',
    parse: intInRange(0, 4294967295),
  },
  rate: {
    flag: 'rate',
    default: '1000',
    accepted: 'events per second from 1 to 100000000, or max',
    description: 'Target rate; "max" sends as fast as the sidecar reads.',
    parse: (raw) => (raw.trim().toLowerCase() === 'max' ? 0 : intInRange(1, 100_000_000)(raw)),
  },
  durationMs: {
    flag: 'duration',
    accepted: 'a duration from 1ms to 24h, e.g. 10s',
    description: 'Stop after this long. Without --duration and --events the run lasts 10s.',
    parse: durationInRange(1, 86_400_000),
  },
  events: {
    flag: 'events',
    accepted: 'a whole number from 1 to 1000000000',
    description: 'Stop after this many events (the step of the last client is completed, so a few more may go).',
    parse: intInRange(1, 1_000_000_000),
  },
  preencode: {
    flag: 'preencode',
    default: 'false',
    boolean: true,
    accepted: 'true or false',
    description: 'Encode all frames before connecting, so that only sending is timed (needs --events; for benchmarks).',
    parse: parseBoolean,
  },
  mqtt5Share: {
    flag: 'mqtt5-share',
    default: '0',
    accepted: 'a number from 0 to 1',
    description:
      'Share of the virtual clients that connect with MQTT 5: as from the real plugin, they produce only session-layer events (wakeup, offline, gone, expired, offline_message, message_drop) with session_id "", username "" and disconnect reason unspecified. The summary\'s mqtt5Wakeups is what vmq_sidecar.sessions.unregistered_wakeups should count.',
    parse: numberInRange(0, 1),
  },
  json: {
    flag: 'json',
    default: 'false',
    boolean: true,
    accepted: 'true or false',
    description: 'Print the summary as one JSON object instead of a table.',
    parse: parseBoolean,
  },
};
