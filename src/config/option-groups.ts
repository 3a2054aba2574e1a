/**
 * How --help and docs/configuration.md present the options: in groups, each option with a value
 * placeholder and a one-line summary. The option tables (sidecar-config.ts,
 * simulator-config.ts) hold what each option accepts and does in full; this is the short form,
 * and the order. test/cli/help.test.ts holds every option to exactly one group.
 */
export interface HelpEntry {
  /** What follows the flag, e.g. HOST:PORT; absent for a boolean flag. */
  value?: string;
  /** One line: what the option is for. */
  summary: string;
}

export interface OptionGroup {
  /** Heading, also the anchor in docs/configuration.md (lowercase). */
  name: string;
  /** One line: what the options of the group are about. */
  summary: string;
  /** By flag (without dashes), in the order shown. */
  options: Readonly<Record<string, HelpEntry>>;
  /** Instead of options: a line pointing elsewhere (the simulator's own --help). */
  see?: string;
}

export const SIDECAR_OPTION_GROUPS: readonly OptionGroup[] = [
  {
    name: 'Listeners',
    summary: 'where the plugin and the operator reach the sidecar',
    options: {
      listen: { value: 'HOST:PORT', summary: 'the plugin\'s TCP connections' },
      'grpc-listen': { value: 'HOST:PORT|off', summary: 'the plugin\'s gRPC transport' },
      workers: { value: 'auto|N', summary: 'processes serving the gRPC listener (central replicas)' },
      'admin-listen': { value: 'HOST:PORT|off', summary: '/healthz, /readyz, /status, /metrics (default 127.0.0.1:9464)' },
    },
  },
  {
    name: 'Outputs',
    summary: 'what the events become; exporters and endpoints are the OTEL_* variables',
    options: {
      'gauge-mode': { value: 'sessions|deltas', summary: 'per-client state, or deltas for replicas behind a balancer' },
      'topic-groups': { value: 'FILTER[=NAME],...', summary: 'topic families for mqtt.topic.group' },
      'client-groups': { value: 'KIND:GLOB=NAME,...', summary: 'client id or username classes for mqtt.client.group' },
      'print-events': { summary: 'print every decoded event as a line on stdout' },
      'trace-service-name': { value: 'NAME', summary: 'service.name of the broker hop\'s spans (default vernemq)' },
      'trace-reorder-window': { value: 'DURATION', summary: 'how long a delivery waits for its publish (spans)' },
      'trace-completion-wait': { value: 'DURATION', summary: 'how long a QoS 1/2 delivery span waits for its completion' },
      'trace-receipt-retention': { value: 'DURATION', summary: 'how long a traced message\'s receipt time is kept for its deliveries' },
    },
  },
  {
    name: 'Logs',
    summary: 'which events become log records, what they carry, and the sidecar\'s own log',
    options: {
      'log-hooks': { value: 'HOOK[:RATIO],...', summary: 'hooks logged, each sampled, e.g. lifecycle,on_publish:0.01' },
      'log-traced-messages': { summary: 'also log message events whose payload carries trace context' },
      'trace-context-field': { value: 'NAME', summary: 'the JSON payload field holding a W3C traceparent' },
      'log-payload-bytes': { value: 'BYTES', summary: 'copy payloads into log records, cut at this size; 0 never' },
      'log-user-properties': { value: 'KEY,...|*', summary: 'CONNECT user properties copied into on_register records' },
      redact: { value: 'none|FIELD,...', summary: 'hash or leave out client_id, username, peer in log records' },
      'redact-mode': { value: 'hash|drop', summary: 'keyed hash (joinable) or left out' },
      'redact-key': { value: 'KEY', summary: 'the hash key; the same on every replica keeps hashes stable' },
      'log-level': { value: 'LEVEL', summary: 'the sidecar\'s own JSON log on stderr (debug ... silent)' },
    },
  },
  {
    name: 'Limits',
    summary: 'bounds on what peers can make the sidecar hold, and on shutdown',
    options: {
      'max-connections': { value: 'N', summary: 'plugin TCP connections served at once' },
      'grpc-max-connections': { value: 'N', summary: 'gRPC connections served at once' },
      'grpc-max-streams': { value: 'N', summary: 'calls in flight at once per gRPC connection' },
      'max-frame-bytes': { value: 'BYTES', summary: 'largest frame decoded; longer ones are skipped, counted' },
      'max-buffered-bytes': { value: 'BYTES', summary: 'memory for partial frames, all connections together' },
      'log-queue-max-bytes': { value: 'BYTES', summary: 'memory for log records waiting to be exported' },
      'max-tracked-clients': { value: 'N', summary: 'clients whose session state is kept' },
      'max-topic-groups': { value: 'N', summary: 'distinct mqtt.topic.group values before "other"' },
      'max-drop-reasons': { value: 'N', summary: 'distinct drop reasons before "other"' },
      'max-mountpoints': { value: 'N', summary: 'distinct mqtt.mountpoint values before "other"' },
      'trace-state-max-entries': { value: 'N', summary: 'receipt times and held deliveries kept for spans, at most' },
      'trace-state-max-bytes': { value: 'BYTES', summary: 'memory for the same, beside the entry bound' },
      'shutdown-timeout': { value: 'DURATION', summary: 'longest drain and flush on SIGTERM/SIGINT' },
    },
  },
  {
    name: 'State',
    summary: 'session state kept across restarts',
    options: {
      'state-file': { value: 'PATH', summary: 'session state written here, read at start; off when not set' },
      'state-interval': { value: 'DURATION', summary: 'how often it is written' },
      'state-max-age': { value: 'DURATION', summary: 'an older file is ignored at start' },
    },
  },
  {
    name: 'Broker',
    summary: 'the broker\'s own metrics, and how far the derived gauges are from them',
    options: {
      'broker-metrics-url': { value: 'URL', summary: 'this broker node\'s Prometheus endpoint; off when not set' },
      'broker-scrape-interval': { value: 'DURATION', summary: 'how often it is scraped' },
      'broker-scrape-timeout': { value: 'DURATION', summary: 'a slower scrape is abandoned and counted' },
    },
  },
  {
    name: 'Simulator',
    summary: 'plays the plugin\'s side against a running sidecar',
    options: {},
    see: 'vmq-otel-sidecar simulate --help (npm run simulate -- --help)',
  },
];

export const SIMULATOR_OPTION_GROUPS: readonly OptionGroup[] = [
  {
    name: 'Target',
    summary: 'the sidecar to send to, and how',
    options: {
      target: { value: 'HOST:PORT', summary: 'the sidecar\'s TCP listener' },
      transport: { value: 'tcp|grpc|both', summary: 'the TCP pool, gRPC Event calls, or both' },
      'grpc-target': { value: 'HOST:PORT,...', summary: 'the sidecar\'s --grpc-listen (several: replicas)' },
      'grpc-percent': { value: 'PERCENT', summary: 'with --transport both, the share sent over gRPC' },
      'grpc-workers': { value: 'N', summary: 'gRPC workers, one call in flight each' },
      'grpc-connections': { value: 'N', summary: 'HTTP/2 connections the workers share' },
      'grpc-timeout': { value: 'DURATION', summary: 'per-call deadline; a late call is a lost event' },
      'user-type': { value: 'TEXT', summary: 'the user-type metadata of every call' },
      'connect-timeout': { value: 'DURATION', summary: 'how long to retry a first connection that fails' },
    },
  },
  {
    name: 'Load',
    summary: 'what is sent, how fast and for how long',
    options: {
      connections: { value: 'N', summary: 'connections in the pool (the plugin\'s pool_size)' },
      clients: { value: 'N', summary: 'virtual MQTT clients living session lifecycles' },
      'mqtt5-share': { value: 'SHARE', summary: 'share of the virtual clients on MQTT 5' },
      'mqtt5-companion': { summary: 'the MQTT 5 clients also send what the companion plugin sends' },
      seed: { value: 'N', summary: 'the same seed gives the same events' },
      rate: { value: 'N|max', summary: 'events per second' },
      duration: { value: 'DURATION', summary: 'stop after this long (10s without --events)' },
      events: { value: 'N', summary: 'stop after this many events' },
      preencode: { summary: 'encode every frame before sending (benchmarks; needs --events)' },
    },
  },
  {
    name: 'Output',
    summary: 'the summary printed at the end',
    options: {
      json: { summary: 'one JSON object instead of a table' },
    },
  },
];
