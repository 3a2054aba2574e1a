/** The session snapshot's rows of the option table: the state file, how often it is written, how old it may be. */
import { durationInRange, type OptionRows } from '../config/option-parser.js';
import { checkStateFileDirectory } from './session-snapshot.js';

export const SNAPSHOT_OPTIONS = {
  stateFile: {
    flag: 'state-file',
    help: { value: 'PATH', summary: 'session state written here, read at start; off when not set' },
    env: 'VMQ_SIDECAR_STATE_FILE',
    accepted: 'a path in an existing, writable directory: a new file, or a regular file holding a snapshot (not a symbolic link, device, FIFO, socket or directory)',
    description:
      'Keep the session state (who is connected, which sessions are offline) and, with --broker-metrics-url, the upstream loss count in this file, written every --state-interval and on shutdown, and load it at start, so the gauges and vmq_sidecar.upstream.missing survive restarts. Off when not set.',
    parse: parseStateFile,
  },
  stateIntervalMs: {
    flag: 'state-interval',
    help: { value: 'DURATION', summary: 'how often it is written' },
    env: 'VMQ_SIDECAR_STATE_INTERVAL',
    default: '60s',
    accepted: 'a duration from 1s to 1h',
    description: 'How often the session state is written to --state-file.',
    parse: durationInRange(1000, 3_600_000),
  },
  stateMaxAgeMs: {
    flag: 'state-max-age',
    help: { value: 'DURATION', summary: 'an older file is ignored at start' },
    env: 'VMQ_SIDECAR_STATE_MAX_AGE',
    default: '10m',
    accepted: 'a duration from 1s to 168h, e.g. 10m or 2h',
    description: 'A --state-file older than this at start is ignored (the broker has moved on while the sidecar was away).',
    parse: durationInRange(1000, 7 * 86_400_000),
  },
} satisfies OptionRows;

/** A path whose directory exists and is writable (checked now, not at the first write). */
function parseStateFile(raw: string): string {
  const v = raw.trim();
  if (v === '') throw new Error('empty path');
  checkStateFileDirectory(v);
  return v;
}
