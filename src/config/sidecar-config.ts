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

export interface SidecarSettings {
  listen: HostPort;
  maxFrameBytes: number;
  maxConnections: number;
  logLevel: LogLevel;
  printEvents: boolean;
  shutdownTimeoutMs: number;
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
    accepted: `a byte size from 1KiB to ${UNFRAMEABLE_LENGTH / 1024}KiB, e.g. ${DEFAULT_MAX_FRAME_BYTES} or 16MiB`,
    description:
      'Largest frame decoded. A longer frame is skipped without being buffered and counted as oversized; ' +
      'a length beyond 257MiB means the stream cannot be framed and the connection is closed.',
    parse: sizeInRange(1024, UNFRAMEABLE_LENGTH),
  },
  maxConnections: {
    flag: 'max-connections',
    env: 'VMQ_SIDECAR_MAX_CONNECTIONS',
    default: '1024',
    accepted: 'a whole number from 1 to 65535',
    description: 'Plugin connections served at once (the plugin opens vmq_events_sidecar.pool_size, 100 by default); more are refused and counted.',
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
    description: 'Print every decoded event as one readable line on stdout.',
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
};
