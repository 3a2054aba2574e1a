/**
 * How --help and docs/configuration.md present the options: in groups, in this order. Each
 * option's row (its component's table: sidecar-config.ts lists them, simulator-config.ts) holds
 * what it accepts, what it does and its --help line; this is the grouping and the order only.
 * test/cli/help.test.ts holds every option to exactly one group.
 */
export interface OptionGroup {
  /** Heading, also the anchor in docs/configuration.md (lowercase). */
  name: string;
  /** One line: what the options of the group are about. */
  summary: string;
  /** Flags (without dashes), in the order shown. */
  flags: readonly string[];
  /** Instead of options: a line pointing elsewhere (the simulator's own --help). */
  see?: string;
}

export const SIDECAR_OPTION_GROUPS: readonly OptionGroup[] = [
  {
    name: 'Listeners',
    summary: 'where the plugin and the operator reach the sidecar',
    flags: ['listen', 'grpc-listen', 'workers', 'admin-listen'],
  },
  {
    name: 'Outputs',
    summary: 'what the events become; exporters and endpoints are the OTEL_* variables',
    flags: ['gauge-mode', 'topic-groups', 'client-groups', 'print-events', 'trace-service-name', 'trace-reorder-window', 'trace-completion-wait', 'trace-receipt-retention'],
  },
  {
    name: 'Logs',
    summary: 'which events become log records, what they carry, and the sidecar\'s own log',
    flags: ['log-hooks', 'log-traced-messages', 'trace-context-field', 'log-payload-bytes', 'log-user-properties', 'redact', 'redact-mode', 'redact-key', 'log-level'],
  },
  {
    name: 'Limits',
    summary: 'bounds on what peers can make the sidecar hold, and on shutdown',
    flags: ['max-connections', 'grpc-max-connections', 'grpc-max-streams', 'max-frame-bytes', 'max-buffered-bytes', 'log-queue-max-bytes', 'max-tracked-clients', 'max-topic-groups', 'max-drop-reasons', 'max-mountpoints', 'trace-state-max-entries', 'trace-state-max-bytes', 'shutdown-timeout'],
  },
  {
    name: 'State',
    summary: 'session state kept across restarts',
    flags: ['state-file', 'state-interval', 'state-max-age'],
  },
  {
    name: 'Broker',
    summary: 'the broker\'s own metrics, and how far the derived gauges are from them',
    flags: ['broker-metrics-url', 'broker-scrape-interval', 'broker-scrape-timeout'],
  },
  {
    name: 'Simulator',
    summary: 'plays the plugin\'s side against a running sidecar',
    flags: [],
    see: 'vmq-otel-sidecar simulate --help (npm run simulate -- --help)',
  },
];

export const SIMULATOR_OPTION_GROUPS: readonly OptionGroup[] = [
  {
    name: 'Target',
    summary: 'the sidecar to send to, and how',
    flags: ['target', 'transport', 'grpc-target', 'grpc-percent', 'grpc-workers', 'grpc-connections', 'grpc-timeout', 'user-type', 'connect-timeout'],
  },
  {
    name: 'Load',
    summary: 'what is sent, how fast and for how long',
    flags: ['connections', 'clients', 'mqtt5-share', 'mqtt5-companion', 'seed', 'rate', 'duration', 'events', 'preencode'],
  },
  {
    name: 'Output',
    summary: 'the summary printed at the end',
    flags: ['json'],
  },
];
