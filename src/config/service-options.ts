/** The service's own rows: the sidecar's log, the stop deadline, and the event printer. */
import { durationInRange, oneOf, parseBoolean, type OptionRows } from './option-parser.js';
import { LOG_LEVELS } from '../logging/sidecar-logger.js';

export const SERVICE_OPTIONS = {
  logLevel: {
    flag: 'log-level',
    help: { value: 'LEVEL', summary: 'the sidecar\'s own JSON log on stderr (debug ... silent)' },
    env: 'VMQ_SIDECAR_LOG_LEVEL',
    default: 'info',
    accepted: LOG_LEVELS.join(', '),
    description: "Least severe level of the sidecar's own JSON log lines on stderr.",
    parse: oneOf(LOG_LEVELS),
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout',
    help: { value: 'DURATION', summary: 'longest drain and flush on SIGTERM/SIGINT' },
    env: 'VMQ_SIDECAR_SHUTDOWN_TIMEOUT',
    default: '10s',
    accepted: 'a duration from 100ms to 5m, e.g. 500ms, 10s',
    description: 'On SIGTERM/SIGINT: longest time spent draining connections and flushing telemetry before exiting.',
    parse: durationInRange(100, 300_000),
  },
  printEvents: {
    flag: 'print-events',
    help: { summary: 'print every decoded event as a line on stdout' },
    env: 'VMQ_SIDECAR_PRINT_EVENTS',
    default: 'false',
    boolean: true,
    accepted: 'true or false (the bare flag means true)',
    description: 'Print every decoded event as one line on stdout with every field the plugin sent (session_id, ACL name and pattern, subscription ACLs, user properties); payloads as their size only.',
    parse: parseBoolean,
  },
} satisfies OptionRows;
