/**
 * The TCP receiver's rows of the option table: where the plugin's pool connects, and the bounds
 * on what its connections can make the sidecar hold (--max-frame-bytes and --max-buffered-bytes
 * bound the gRPC receiver's messages too).
 */
import { intInRange, parseHostPort, sizeInRange, type OptionRows, type SettingsOf } from '../config/option-parser.js';
import { DEFAULT_MAX_FRAME_BYTES, UNFRAMEABLE_LENGTH } from '../framing/frame-decoder.js';

export const TCP_RECEIVER_OPTIONS = {
  listen: {
    flag: 'listen',
    help: { value: 'HOST:PORT', summary: 'the plugin\'s TCP connections' },
    env: 'VMQ_SIDECAR_LISTEN',
    default: '127.0.0.1:8890',
    accepted: 'HOST:PORT ([IPv6]:PORT for IPv6; port 0 picks a free port)',
    description: 'Where the plugin connects (vmq_events_sidecar.hostname/port; the plugin defaults to 127.0.0.1:8890).',
    parse: parseHostPort,
  },
  maxFrameBytes: {
    flag: 'max-frame-bytes',
    help: { value: 'BYTES', summary: 'largest frame decoded; longer ones are skipped, counted' },
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
    help: { value: 'BYTES', summary: 'memory for partial frames, all connections together' },
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
    help: { value: 'N', summary: 'plugin TCP connections served at once' },
    env: 'VMQ_SIDECAR_MAX_CONNECTIONS',
    default: '1024',
    accepted: 'a whole number from 1 to 65535',
    description:
      'Plugin connections served at once (the plugin opens vmq_events_sidecar.pool_size, 100 by default). When reached, a new connection takes the slot of ' +
      'the longest idle connection that has sent no valid event (counted in vmq_sidecar.connection.closed{error.type=evicted_idle}); only when every open ' +
      'connection has sent events is it refused (counted), and /readyz answers 503 meanwhile.',
    parse: intInRange(1, 65535),
  },
} satisfies OptionRows;

/** The TCP receiver's settings. */
export type TcpReceiverSettings = SettingsOf<typeof TCP_RECEIVER_OPTIONS>;
