/**
 * The sidecar's own settings (the OpenTelemetry ones come from the standard OTEL_* variables),
 * assembled from the components' rows: each component owns its options and its rules across
 * options (component-config.ts), the CLI parses them as one flat set of flags and variables.
 * docs/configuration.md is generated from these rows, in the --help groups (option-groups.ts).
 */
import type { OptionRows, OptionSpec, OptionTable, SettingsOf } from './option-parser.js';
import type { ComponentConfig, ValidationContext } from './component-config.js';
import { SIDECAR_OPTION_GROUPS } from './option-groups.js';
import { SERVICE_OPTIONS } from './service-options.js';
import { TCP_RECEIVER_OPTIONS } from '../receiver/tcp-receiver-options.js';
import { GRPC_RECEIVER_CONFIG, type GrpcReceiverSettings } from '../receiver/grpc-receiver-options.js';
import { ADMIN_CONFIG, type AdminSettings } from '../admin/admin-options.js';
import { ATTRIBUTE_FOLDING_OPTIONS } from '../metrics/attribute-folding-options.js';
import { METRICS_SINK_OPTIONS } from '../sinks/metrics-sink-options.js';
import { SESSION_TRACKER_OPTIONS } from '../sessions/session-tracker-options.js';
import { SNAPSHOT_OPTIONS } from '../sessions/snapshot-options.js';
import { LOG_SINK_OPTIONS } from '../sinks/log-sink-options.js';
import { SPAN_SINK_OPTIONS } from '../sinks/span-sink-options.js';
import { BROKER_RECONCILER_OPTIONS } from '../reconcile/broker-reconciler-options.js';
import { TELEMETRY_OPTIONS } from '../telemetry/telemetry-options.js';

export { parseLogHooks, parseLogUserProperties, parseRedact } from '../sinks/log-sink-options.js';
export { GAUGE_MODES, type GaugeMode } from '../sessions/session-tracker-options.js';

/** What the components' rows parse into, together. */
export type SidecarSettings = SettingsOf<typeof SERVICE_OPTIONS> &
  SettingsOf<typeof TCP_RECEIVER_OPTIONS> &
  GrpcReceiverSettings &
  AdminSettings &
  SettingsOf<typeof ATTRIBUTE_FOLDING_OPTIONS> &
  SettingsOf<typeof METRICS_SINK_OPTIONS> &
  SettingsOf<typeof SESSION_TRACKER_OPTIONS> &
  SettingsOf<typeof SNAPSHOT_OPTIONS> &
  SettingsOf<typeof LOG_SINK_OPTIONS> &
  SettingsOf<typeof SPAN_SINK_OPTIONS> &
  SettingsOf<typeof BROKER_RECONCILER_OPTIONS> &
  SettingsOf<typeof TELEMETRY_OPTIONS>;

/** A component whose rows have no rule across options. */
const rows = (name: string, options: OptionRows): ComponentConfig<object, SidecarSettings> => ({ name, options });

/** Every component's part of the configuration (the gRPC receiver and the admin listener have rules across options). */
export const COMPONENT_CONFIGS: readonly ComponentConfig<object, SidecarSettings>[] = [
  rows('service', SERVICE_OPTIONS),
  rows('TCP receiver', TCP_RECEIVER_OPTIONS),
  GRPC_RECEIVER_CONFIG,
  ADMIN_CONFIG,
  rows('attribute folding', ATTRIBUTE_FOLDING_OPTIONS),
  rows('metrics sink', METRICS_SINK_OPTIONS),
  rows('session tracker', SESSION_TRACKER_OPTIONS),
  rows('session snapshot', SNAPSHOT_OPTIONS),
  rows('log sink', LOG_SINK_OPTIONS),
  rows('span sink', SPAN_SINK_OPTIONS),
  rows('broker reconciler', BROKER_RECONCILER_OPTIONS),
  rows('telemetry pipeline', TELEMETRY_OPTIONS),
];

/** The rows of every component, in the order of --help (so one run's problems read in that order too). */
function assemble(): OptionTable<SidecarSettings> {
  const rows = COMPONENT_CONFIGS.flatMap((c) => Object.entries(c.options as Record<string, OptionSpec<unknown>>));
  const rank = new Map(SIDECAR_OPTION_GROUPS.flatMap((g) => g.flags).map((flag, i) => [flag, i]));
  const at = (spec: OptionSpec<unknown>) => rank.get(spec.flag) ?? rank.size;
  return Object.fromEntries(rows.sort(([, a], [, b]) => at(a) - at(b))) as OptionTable<SidecarSettings>;
}

export const SIDECAR_OPTIONS: OptionTable<SidecarSettings> = assemble();

/** Every component's rules across options: one line per problem, each naming the setting. */
export function validateSettings(settings: Readonly<SidecarSettings>, context: ValidationContext): string[] {
  return COMPONENT_CONFIGS.flatMap((c) => c.validate?.(settings, context) ?? []);
}
