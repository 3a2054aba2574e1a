/**
 * Renders the reference documents from the catalogs in code, so the docs cannot drift:
 * docs/telemetry.md (metrics, log records and spans) and docs/configuration.md (every setting).
 */
import { ALL_METRICS, BROKER_METRIC_DEFS, MQTT_METRICS, SIDECAR_METRICS, prometheusNameOf, type AttributeDef, type MetricDef } from '../src/metrics/metric-catalog.js';
import { LOG_ATTRIBUTES, LOG_RECORDS } from '../src/sinks/log-catalog.js';
import { SPAN_DOCS } from './span-catalog.js';
import { HOOKS } from '../src/events/event-types.js';
import { SIDECAR_OPTIONS } from '../src/config/sidecar-config.js';
import { SIMULATOR_OPTIONS } from '../src/simulator/simulator-config.js';
import { OTEL_VARIABLES } from '../src/telemetry/otel-config.js';
import type { OptionSpec } from '../src/config/option-parser.js';
import { SIDECAR_OPTION_GROUPS, SIMULATOR_OPTION_GROUPS, type OptionGroup } from '../src/config/option-groups.js';
import { prometheusLabel } from '../src/metrics/prometheus-naming.js';
import { LOG_ATTRIBUTE_RENAMES, LOG_ATTRIBUTES_ADDED, METRIC_ATTRIBUTE_RENAMES, METRIC_RENAMES, renameFor, type MetricRename } from './semconv-renames.js';

/** The convention a metric's name follows, from the rename table, with its 0.1.0 name when it changed. */
function metricConvention(d: MetricDef): string {
  const entry = renameFor(d.name);
  if (entry === undefined) return d.conventionNote ?? '-';
  const was = entry.old !== d.name ? ` (0.1.0: \`${entry.old}\`)` : '';
  return cell(entry.rename.convention) + was;
}

/** The convention of a metric attribute: decided for all metrics, else on the metrics that have it. */
function attributeConvention(name: string, own: string | undefined): string {
  if (own !== undefined) return cell(own);
  const all = Object.values(METRIC_ATTRIBUTE_RENAMES).find((a) => a.name === name);
  if (all) return cell(all.convention);
  const found = new Set<string>();
  for (const r of Object.values(METRIC_RENAMES as Record<string, MetricRename>)) {
    for (const c of r.attributes ?? []) if (c.to === name) found.add(c.from === c.to ? c.convention : `${c.convention} (0.1.0: \`${c.from}\`)`);
    for (const a of r.added ?? []) if (a.name === name) found.add(a.convention);
  }
  if (name === 'error.type' && found.size > 0) return cell([...found][0]!.replace(/ \(0\.1\.0.*$/, '') + ' (0.1.0: mqtt.failure.reason, mqtt.drop.reason, mqtt.subscription.outcome, reason, outcome, result)');
  return found.size > 0 ? cell([...found].join('; ')) : '-';
}

function logAttributeConvention(key: string): string {
  const r = Object.entries(LOG_ATTRIBUTE_RENAMES).filter(([, a]) => a.name === key);
  const added = LOG_ATTRIBUTES_ADDED.find((a) => a.name === key);
  const parts = r.map(([old, a]) => (old !== key ? `${a.convention} (0.1.0: \`${old}\`)` : a.convention));
  if (added && parts.length === 0) parts.push(added.convention);
  return parts.length > 0 ? cell(parts.join('; ')) : '-';
}

const KIND: Record<MetricDef['kind'], string> = { counter: 'counter', updown: 'up-down counter (gauge in Prometheus)', gauge: 'gauge', histogram: 'histogram' };

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function metricTable(defs: readonly MetricDef[]): string[] {
  const lines = ['| OpenTelemetry name | Prometheus name | instrument, value type | unit | attributes | from | convention |', '|---|---|---|---|---|---|---|'];
  for (const d of defs) {
    const prom = prometheusNameOf(d) + (d.kind === 'histogram' ? '_{bucket,sum,count}' : '');
    const attrs = d.attributes.map((a) => `\`${a.name}\``).join(', ') || '-';
    lines.push(`| \`${d.name}\` | \`${prom}\` | ${KIND[d.kind]}, ${d.valueType} | \`${d.unit}\` | ${attrs} | ${cell(d.source)} | ${metricConvention(d)} |`);
  }
  return lines;
}

export function renderTelemetryDoc(): string {
  const attrDefs = new Map<string, { type: string; values: string; convention?: string | undefined }>();
  // One attribute name may have several definitions (error.type: a different set of failure
  // classes per metric): each is listed with the metrics it is on.
  const byName = new Map<string, Map<AttributeDef, string[]>>();
  for (const d of ALL_METRICS) {
    for (const a of d.attributes) {
      const defs = byName.get(a.name) ?? new Map<AttributeDef, string[]>();
      byName.set(a.name, defs);
      defs.set(a, [...(defs.get(a) ?? []), d.name]);
    }
  }
  for (const [name, defs] of byName) {
    const list = [...defs.entries()];
    const values = list.length === 1 ? list[0]![0].values : list.map(([a, ms]) => `on ${ms.map((m) => `\`${m}\``).join(', ')}: ${a.values}`).join('; ');
    attrDefs.set(name, { type: list[0]![0].type, values, convention: list[0]![0].convention });
  }
  const out = [
    '# Telemetry reference',
    '',
    '<!-- Generated from src/metrics/metric-catalog.ts, src/sinks/log-catalog.ts and scripts/span-catalog.ts by `npm run docs`; edit those, not this file. -->',
    '',
    'Every metric is exported under its OpenTelemetry name over OTLP. In Prometheus it has the same',
    'name whether it arrives through the OpenTelemetry Collector\'s Prometheus exporter (default',
    'settings), Prometheus\' own OTLP receiver, or the sidecar\'s `/metrics`: dots become underscores,',
    'the unit\'s word is appended (`_seconds`, `_bytes`), and counters end in `_total`. Attribute names',
    'become labels the same way (`mqtt.mountpoint` -> `mqtt_mountpoint`).',
    '',
    'Two kinds of numbers, kept apart by namespace: `mqtt.*` metrics are **derived from events**',
    '(the sidecar counts what the plugin sends), `vernemq.*` metrics come **from the broker** (its',
    'own counters and gauges, read at each `--broker-metrics-url` scrape and exported as they are).',
    'The `convention` column says which OpenTelemetry semantic convention (v1.44) a name follows or',
    'why none applies, and the 0.1.0 name where it changed (CHANGELOG.md).',
    '',
    '## MQTT metrics (derived from events)',
    '',
    ...metricTable(Object.values(MQTT_METRICS)),
    '',
    'The plugin can sample `on_publish`, `on_deliver` and `on_delivery_complete` per ACL',
    '(`vmq_events_sidecar` sampling settings): the counters derived from those hooks then count the',
    'sample, not every message. Use them for rates and shares, or scale by the sampling percentage.',
    '',
    'QoS is reported as the broker reports it, which is not always the message\'s QoS:',
    '',
    '- `on_deliver` carries the QoS of the *subscription* the message went through, so',
    '  `mqtt.message.delivered` (and the `vernemq.on_deliver` log record) has',
    '  `mqtt.subscription.qos`, not `mqtt.qos`: a QoS 0 message delivered to a QoS 2 subscription',
    '  counts under 2. (Against a real VerneMQ 5.1 with clients at mixed QoS: 32,742 deliveries under',
    '  subscription QoS 2 where the clients received 7,277 messages at QoS 2; the totals were equal.)',
    '  `on_delivery_complete` carries the message\'s QoS as delivered: `mqtt.message.delivery_completed`',
    '  keeps `mqtt.qos` (1 or 2; QoS 0 deliveries complete nothing).',
    '- A QoS 0 message for an offline persistent session is reported as `on_offline_message` with',
    '  qos 1, and then as `on_message_drop` with reason `user_offline` (the broker does not keep QoS 0',
    '  messages for offline sessions): it counts in `mqtt.message.queued_offline{mqtt.qos=1}` *and*',
    '  in `mqtt.message.dropped{error.type=user_offline}`, though nothing waits for the session.',
    '',
    'MQTT 5 clients: VerneMQ runs other hooks for MQTT 5 sessions (`on_register_m5`, `on_publish_m5`,',
    '...), which `vmq_events_sidecar` does not implement. With the companion plugin',
    '`vmq_events_sidecar_m5` installed ([mqtt5.md](mqtt5.md)), they arrive as events of the same hooks',
    '(its own messages, `type.googleapis.com/vmq_otel_sidecar.mqtt5.v1.*`, proto/mqtt5/) and count on the',
    'same series, told apart by `network.protocol.version` (`5`; `3.1.1` for `vmq_events_sidecar`\'s',
    'events of hooks that fire for MQTT 3.1/3.1.1 sessions only): `mqtt.client.registrations`,',
    '`mqtt.message.published`, `mqtt.message.delivered` (`mqtt.persisted` always false: `on_deliver_m5`',
    'does not say), `mqtt.subscriptions` (the record of a refused filter has its SUBACK reason code in',
    '`mqtt.subscription.reason_codes`), `mqtt.unsubscriptions`, and in `mqtt.message.dropped` the drops',
    'the MQTT 5 session reports itself (`no_matching_subscribers`, `max_packet_size_exceeded`). The',
    '`traceparent`/`tracestate` user properties of an MQTT 5 PUBLISH (on the companion\'s allowlist) put',
    'the trace on the publish and deliver records, before a JSON payload field. Still not visible for',
    'MQTT 5 clients: registration failures and delivery completions (VerneMQ has no `_m5` hook for',
    'them), CONNECT user properties (`on_register_m5` gets the CONNACK\'s), session ids, usernames on',
    'session events, and the DISCONNECT reason (every one `unspecified`). The broker counts the',
    'companion\'s events in its `sidecar_events{hook}` with the plugin\'s, so the reconciliation',
    '(`vmq_sidecar.upstream.missing`) covers them.',
    '',
    'The gauges are derived from events: after a restart they continue from `--state-file` when one',
    'is configured and fresh, else from zero (clients connected before the restart are counted again',
    'at their next wakeup; their disconnect never takes a gauge below zero). With',
    '`--broker-metrics-url`, `vmq_sidecar.broker.connection.drift` shows how far they are off.',
    '',
    'The drift compares like with like: the sidecar reads its gauge when it sends the scrape request',
    'and when the broker\'s answer arrives, and the broker counted its connections in between; a',
    'count inside that window is drift 0, one outside it is the distance to the nearer end. The',
    'residual of the method, on a healthy pair: (1) events in flight, connections the broker counts',
    'whose `on_register`/`on_client_wakeup` has not reached the sidecar yet (plugin pool queue, TCP,',
    'decoding; milliseconds), and sockets the broker holds before or without a successful CONNECT:',
    'about the connect/disconnect rate times that latency, either sign; (2) the scrape duration: a',
    'gap smaller than the gauge moved during the scrape (milliseconds on loopback) reads as 0. In the',
    'run against a real VerneMQ 5.1 with 600 churning clients (~57 connects/s) reported in issue 15,',
    'the gauge and the broker\'s count sampled at the same moment were never more than 3 apart, where',
    'the gauge now against the last scrape\'s count had shown up to 28 (this method itself has not',
    'yet been run against a real broker; the tests use a broker-format endpoint). `VmqSidecarGaugeDrift`',
    'therefore fires above 10 clients and 1% of the broker\'s count, held for 15 minutes; the',
    'earlier 5% margin only absorbed the staleness of the old method.',
    '',
    '`vmq_sidecar.upstream.missing` is, per hook, what the broker attempted minus what arrived here',
    'since a baseline: the broker\'s failed sends plus what it sent that no sidecar process read. Both',
    'counts are taken at the same scrape (the events received here when the broker\'s answer arrives),',
    'so the value moves only at scrapes, and only when the loss does: a steady loss of 50 at 200',
    'events/s reads 50 at every read between scrapes (comparing with the live received count instead',
    'read 0-50, sawing down between scrapes). Events still in flight at the answer read as missing',
    'until the next scrape. With',
    '`--state-file` the baseline, the broker\'s counters at the last scrape and the events received',
    'since the baseline are kept in the snapshot, so the count goes on across a sidecar restart: what',
    'the broker could not send while the sidecar was down, and what it wrote into the socket of a',
    'process that was killed before reading it, show after the restart. What is exact and what is not:',
    '',
    '- After a clean stop (SIGTERM) the last snapshot is written after the last event: exact.',
    '- After a crash (SIGKILL, OOM kill), events the dead process read after its last snapshot count',
    '  as missing although they arrived: at most one `--state-interval` (default 60 s) of events',
    '  (the persisted received count cannot tell them from lost ones). A shorter `--state-interval`',
    '  narrows the bound at the cost of more snapshot writes.',
    '- A broker restart (its `sidecar_events`/`sidecar_events_error` going back, or its',
    '  `system_wallclock` uptime shorter than the time since our last scrape) starts the count over,',
    '  also when it happened while the sidecar was down: what the broker attempted between our last',
    '  scrape and its restart is not knowable.',
    '- A snapshot older than `--state-max-age`, or taken against another `--broker-metrics-url`,',
    '  starts the count over at the first scrape.',
    '- Events in flight at a scrape (counted by the broker, not yet read here) show as a few missing',
    '  until the next scrape.',
    '',
    '## Sidecar health metrics',
    '',
    ...metricTable(Object.values(SIDECAR_METRICS)),
    '',
    '`vmq_sidecar.broker.connections` and `vmq_sidecar.broker.queues` repeat',
    '`vernemq.connection.active{vernemq.listener.type=tcp}` and `vernemq.queue.processes`. They are',
    'kept for this release: they are what the drift and the 0.1.0 alert rules and dashboards read, and',
    'retiring them in the release that renames everything else would double the migration; they go',
    'with the compatibility rules in the next release. New queries should use the `vernemq.*` names.',
    '',
    '## Broker metrics (from the broker)',
    '',
    'Only with `--broker-metrics-url`: after each successful scrape the sidecar keeps the broker\'s',
    'own values (src/reconcile/broker-gauges.ts maps VerneMQ\'s names; the `node` label is dropped,',
    'one sidecar runs per node) and exports them with the other metrics, over OTLP and on `/metrics`.',
    'A metric the broker does not serve (netsplits on gojek/vernemq v5.1.0) has no series. Counters',
    'are the broker\'s own: they start over when the broker restarts.',
    '',
    ...metricTable(BROKER_METRIC_DEFS),
    '',
    '## Attributes',
    '',
    '| attribute | Prometheus label | type | values | convention |',
    '|---|---|---|---|---|',
    ...[...attrDefs.entries()].map(([name, a]) => `| \`${name}\` | \`${prometheusLabel(name)}\` | ${a.type} | ${cell(a.values)} | ${attributeConvention(name, a.convention)} |`),
    '',
    'A metric keeps at most 2000 attribute combinations; further ones are counted in one series with',
    'the attribute `otel.metric.overflow=true`, as the OpenTelemetry SDK does.',
    '',
    '## Histogram buckets',
    '',
    ...ALL_METRICS.filter((d) => d.buckets).map((d) => `- \`${d.name}\` (${d.unit}): ${d.buckets!.join(', ')}`),
    '',
    '## Log records',
    '',
    'One record per event of the hooks enabled with `--log-hooks` (sampled per hook), plus message',
    'events carrying trace context with `--log-traced-messages`. Every record has:',
    '',
    '- event name `vernemq.<hook>`;',
    '- timestamp = the broker\'s event time (nanoseconds), observed timestamp = arrival at the sidecar;',
    '- severity INFO or WARN (below), a short human body;',
    '- trace id, span id and flags when the client sent W3C trace context.',
    '',
    '| event name | body | severity | trace context from | attributes |',
    '|---|---|---|---|---|',
    ...HOOKS.map((h) => {
      const r = LOG_RECORDS[h];
      return `| \`vernemq.${h}\` | ${cell(r.body)} | ${cell(r.severity)} | ${cell(r.trace)} | ${r.attributes.map((a) => `\`${a}\``).join(', ')} |`;
    }),
    '',
    '| log attribute | meaning | convention |',
    '|---|---|---|',
    ...Object.entries(LOG_ATTRIBUTES).map(([k, v]) => `| \`${k}\` | ${cell(v)} | ${logAttributeConvention(k)} |`),
    '',
    '## Spans',
    '',
    'Only with spans on (`OTEL_TRACES_EXPORTER=otlp`, or an OTLP endpoint for traces or for all',
    'signals), and only for messages whose payload carries a sampled W3C `traceparent`',
    '(`--trace-context-field`): the broker hop in the publisher\'s trace (docs/traces.md). Their',
    'resource is the sidecar\'s (the broker node: `service.instance.id`, host, pod) with',
    '`service.name` from `--trace-service-name` (default `vernemq`); the scope is the sidecar\'s.',
    'Span ids are derived, not drawn: the receipt span\'s from the trace id, the publisher\'s span id,',
    'the topic and the payload, so every sidecar gives a message the same one.',
    '',
    '| span | name | kind | parent | times | events |',
    '|---|---|---|---|---|---|',
    ...SPAN_DOCS.map((d) => `| ${d.span} | ${cell(d.name)} | ${d.kind} | ${cell(d.parent)} | ${cell(d.times)} | ${d.events.length > 0 ? cell(d.events.join('; ')) : '-'} |`),
    '',
    ...SPAN_DOCS.flatMap((d) => [
      `### ${d.span === 'receipt' ? 'Receipt' : 'Delivery'} span attributes`,
      '',
      '| span attribute | type | values | convention |',
      '|---|---|---|---|',
      ...d.attributes.map((a) => `| \`${a.key}\` | ${a.type} | ${cell(a.values)} | ${cell(a.convention)} |`),
      '',
    ]),
    'The delivery duration of every message with trace context (sampled or not) whose receipt time',
    'this sidecar saw is `mqtt.message.delivery.duration` (above), recorded while spans are on.',
    '',
  ];
  return out.join('\n');
}

function optionTable(options: readonly OptionSpec<unknown>[]): string[] {
  const lines = ['| flag | environment variable | default | accepted | meaning |', '|---|---|---|---|---|'];
  for (const o of options) {
    lines.push(`| \`--${o.flag}\` | ${o.env ? `\`${o.env}\`` : '-'} | ${o.default !== undefined && o.default !== '' ? `\`${o.default}\`` : '-'} | ${cell(o.accepted)} | ${cell(o.description)} |`);
  }
  return lines;
}

/** One section per group of --help (src/config/option-groups.ts), in its order; ungrouped options last. */
function groupedOptionTables(table: Record<string, OptionSpec<unknown>>, groups: readonly OptionGroup[]): string[] {
  const specs = Object.values(table);
  const out: string[] = [];
  const listed = new Set<string>();
  for (const g of groups.filter((g) => g.see === undefined)) {
    const options = g.flags.flatMap((flag) => specs.filter((s) => s.flag === flag));
    for (const o of options) listed.add(o.flag);
    const summary = `${g.summary[0]!.toUpperCase()}${g.summary.slice(1)}.`.replace('the OTEL_* variables', 'the [`OTEL_*` variables](#opentelemetry-environment-variables)');
    out.push(`### ${g.name}`, '', summary, '', ...optionTable(options), '');
  }
  const other = specs.filter((s) => !listed.has(s.flag));
  if (other.length > 0) out.push('### Other', '', ...optionTable(other), '');
  return out;
}

export function renderConfigurationDoc(): string {
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from the option tables in src/ by `npm run docs`; edit those, not this file. -->',
    '',
    'Our own settings are command-line flags, each with an environment variable; a flag wins over',
    'its variable. OpenTelemetry settings are the standard `OTEL_*` variables. Any invalid value',
    'stops the sidecar with exit status 64 and one line per problem naming the setting and what it',
    'accepts (an unknown flag gets a "did you mean"; a duration needs its unit: `10s`, not `10`); so',
    'does a listen address already in use or given to two of the listeners, naming `--listen`,',
    '`--admin-listen` or `--grpc-listen`, and a combination of settings that cannot work together',
    '(`--workers` above 1 without `--gauge-mode deltas` and `--grpc-listen`). A',
    '`VMQ_SIDECAR_*` variable that no setting reads (a misspelt name) is not an error, as a removed',
    'setting must not stop a deployment, but it gets a WARN line at start with the nearest name.',
    'Boolean flags take `--flag`, `--flag=false` or `--flag no` alike. `vmq-otel-sidecar --help` (or',
    '`-h`) lists the options in the groups below, one line each; `--version` prints the version.',
    '',
    '## `vmq-otel-sidecar` (run)',
    '',
    'In the groups of `--help`: ' + SIDECAR_OPTION_GROUPS.map((g) => (g.see === undefined ? `[${g.name.toLowerCase()}](#${g.name.toLowerCase()})` : `[${g.name.toLowerCase()}](#${g.name.toLowerCase()}-vmq-otel-sidecar-simulate)`)).join(', ') + '.',
    '',
    ...groupedOptionTables(SIDECAR_OPTIONS as unknown as Record<string, OptionSpec<unknown>>, SIDECAR_OPTION_GROUPS),
    '## OpenTelemetry environment variables',
    '',
    '| variable | default | meaning |',
    '|---|---|---|',
    ...OTEL_VARIABLES.map((v) => `| \`${v.name}\` | ${v.default ? cell(v.default) : '-'} | ${cell(v.meaning)} |`),
    '',
    'With no exporter and no OTLP endpoint configured, the sidecar assumes no collector: metrics on',
    '`/metrics`, log records as readable lines on stdout, no spans. Setting `OTEL_EXPORTER_OTLP_ENDPOINT`',
    'switches metrics and log records to OTLP and turns spans on. The sidecar\'s own JSON log stays on',
    'stderr either way.',
    '',
    '## Simulator: `vmq-otel-sidecar simulate`',
    '',
    ...groupedOptionTables(SIMULATOR_OPTIONS as unknown as Record<string, OptionSpec<unknown>>, SIMULATOR_OPTION_GROUPS),
  ].join('\n');
}
