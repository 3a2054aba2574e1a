/** The session tracker's rows of the option table: the gauge mode and the bound on tracked clients. */
import { intInRange, oneOf, type OptionRows } from '../config/option-parser.js';

/** sessions: per-client state (one sidecar sees all of a broker's events); deltas: summable over replicas. */
export type GaugeMode = 'sessions' | 'deltas';
export const GAUGE_MODES: readonly GaugeMode[] = ['sessions', 'deltas'];

export const SESSION_TRACKER_OPTIONS = {
  gaugeMode: {
    flag: 'gauge-mode',
    help: { value: 'sessions|deltas', summary: 'per-client state, or deltas for replicas behind a balancer' },
    env: 'VMQ_SIDECAR_GAUGE_MODE',
    default: 'sessions',
    accepted: GAUGE_MODES.join(', '),
    description:
      'sessions: per-client state gives mqtt.client.connected, mqtt.session.offline and session durations (each sidecar sees all events of its broker node). ' +
      'deltas: for replicas behind a load balancer (gRPC, one client\'s events spread over all replicas): mqtt.client.connected moves by +1 per wakeup and -1 per offline/gone on whichever replica gets the event, so only its sum over the replicas is meaningful; no per-client state, no offline-session gauge, no session durations, no wakeup/register pairing (MQTT 5 share).',
    parse: oneOf(GAUGE_MODES),
  },
  maxTrackedClients: {
    flag: 'max-tracked-clients',
    help: { value: 'N', summary: 'clients whose session state is kept' },
    env: 'VMQ_SIDECAR_MAX_TRACKED_CLIENTS',
    default: '750000',
    accepted: 'a whole number from 1 to 100000000',
    description:
      'Clients whose session state is kept for the connected/offline gauges (about 300 bytes of memory each, measured); events of further clients are counted in vmq_sidecar.session.untracked. ' +
      'The default fits a 512 MiB container with the other defaults (docs/operations.md, memory plan).',
    parse: intInRange(1, 100_000_000),
  },
} satisfies OptionRows;
