/**
 * How many series one sidecar (one broker node) can produce, derived from the metric catalog:
 * per metric, the product of its attributes' bounds (the --max-* limits plus the "other" /
 * "invalid" / "unknown" values the sidecar itself adds), capped by the SDK's 2000 attribute
 * combinations per metric (plus the one overflow series), times the Prometheus series per
 * combination (histograms: one per bucket, +Inf, _sum and _count). docs/scaling.md's budget
 * table is this function's output; the test holds the doc to it.
 */
import { ALL_METRICS, type MetricDef } from '../src/metrics/metric-catalog.js';

/** The SDK's cardinality limit per metric (docs/telemetry.md), plus its overflow series. */
export const COMBINATIONS_PER_METRIC = 2000;

export interface BudgetSettings {
  maxMountpoints: number;
  maxTopicGroups: number;
  maxDropReasons: number;
  /** Distinct QoS values seen: 3 normally (0, 1, 2), 4 with refused subscriptions (128). */
  qosValues: number;
  /** --client-groups names (0: off, the attribute is absent). */
  clientGroups: number;
}

/** The defaults of docs/configuration.md, every bound reached. */
export const WORST_CASE: BudgetSettings = { maxMountpoints: 100, maxTopicGroups: 200, maxDropReasons: 50, qosValues: 4, clientGroups: 200 };
/** One mountpoint, 20 topic groups, 5 drop reasons, 5 client groups: a typical single-tenant node. */
export const TYPICAL: BudgetSettings = { maxMountpoints: 1, maxTopicGroups: 20, maxDropReasons: 5, qosValues: 3, clientGroups: 5 };

/** The self-metrics' bare attributes: as many values as the catalog lists for them. */
const SELF_METRIC_VALUES: Record<string, number> = {
  'vmq_sidecar.connection.closed error.type': 2,
  'vmq_sidecar.frame.rejected error.type': 8,
  // Absent (handed to the exporter), queue_full, shutdown.
  'otel.sdk.processor.log.processed error.type': 3,
  // Absent (exported), export_failed, rejected.
  'otel.sdk.exporter.log.exported error.type': 3,
  'otel.sdk.processor.log.processed otel.component.type': 1,
  'otel.sdk.processor.log.processed otel.component.name': 1,
  'otel.sdk.exporter.log.exported otel.component.type': 1,
  'otel.sdk.exporter.log.exported otel.component.name': 1,
  'otel.sdk.processor.log.queue.size otel.component.type': 1,
  'otel.sdk.processor.log.queue.size otel.component.name': 1,
  'otel.sdk.processor.log.queue.capacity otel.component.type': 1,
  'otel.sdk.processor.log.queue.capacity otel.component.name': 1,
  'vmq_sidecar.attribute_value.folded vmq_sidecar.attribute.name': 4,
  'vmq_sidecar.attribute_value.invalid vmq_sidecar.attribute.name': 5,
  // The metric exporter and the log exporter.
  'vmq_sidecar.export.failures otel.component.type': 2,
  // At most 20 classes, then _OTHER (export-error-type.ts), and the zero series without one.
  'vmq_sidecar.export.failures error.type': 22,
  'vmq_sidecar.snapshot.writes error.type': 2,
  'vmq_sidecar.broker.scrapes error.type': 4,
  'vmq_sidecar.hook.missing vmq_sidecar.gauge.name': 2,
  'vmq_sidecar.event.received vmq_sidecar.transport': 2,
  'vmq_sidecar.connection.open vmq_sidecar.transport': 2,
  'vmq_sidecar.connection.accepted vmq_sidecar.transport': 2,
  'vmq_sidecar.connection.refused vmq_sidecar.transport': 2,
  'vmq_sidecar.gauge.mode vmq_sidecar.gauge_mode': 1,
  'vmq_sidecar.frame.rejected vmq_sidecar.transport': 2,
  // The answers of grpc-receiver.ts's GRPC_ANSWERS.
  'vmq_sidecar.grpc.calls rpc.grpc.status': 8,
  // 20 values, then "other", "invalid", and "" when the metadata is absent.
  'vmq_sidecar.grpc.calls vernemq.user_type': 23,
  // Absent for ok, at most 8 of the broker's result names (deadline_exceeded, unavailable,
  // invalid_argument, dropped, no_workers, crashed...), then "other", and "invalid".
  'vmq_sidecar.broker.grpc_calls error.type': 11,
  'process.cpu.time cpu.mode': 2,
  'nodejs.eventloop.time nodejs.eventloop.state': 2,
};

/** Distinct values an attribute can take on a metric, under the settings. */
export function attributeBound(metric: MetricDef, attribute: string, s: BudgetSettings): number {
  switch (attribute) {
    case 'mqtt.mountpoint':
      // "other" and "invalid" only appear once a limit is passed or garbage arrives.
      return s.maxMountpoints === 1 ? 1 : s.maxMountpoints + 2;
    case 'mqtt.qos':
      return metric.name === 'mqtt.subscriptions' ? s.qosValues : Math.min(s.qosValues, 3);
    case 'mqtt.subscription.qos':
      return 3;
    case 'mqtt.retain':
    case 'mqtt.persisted':
    case 'mqtt.session.persistent':
      return 2;
    case 'mqtt.topic.group':
      // The names, "unmatched", and past the limit "other".
      return s.maxTopicGroups + (s.maxTopicGroups === WORST_CASE.maxTopicGroups ? 3 : 1);
    case 'error.type':
      if (metric.name === 'mqtt.message.dropped') return s.maxDropReasons + (s.maxDropReasons === WORST_CASE.maxDropReasons ? 2 : 0);
      if (metric.name === 'mqtt.client.registration.failures') return 8; // 7 known + unknown
      if (metric.name === 'mqtt.subscriptions') return 2; // absent (granted), refused
      return selfMetricBound(metric, attribute);
    case 'mqtt.disconnect.reason':
      return 19; // 18 known + unknown
    case 'mqtt.client.group':
      // The configured names and "ungrouped"; absent (one value) without --client-groups.
      return s.clientGroups === 0 ? 1 : s.clientGroups + 1;
    case 'vernemq.listener.type':
    case 'network.io.direction':
      return 2;
    case 'network.protocol.version':
      // 3.1.1 and 5, and "invalid" for a value the broker should not send.
      return 3;
    case 'vernemq.hook':
      return 13;
    default:
      return selfMetricBound(metric, attribute);
  }
}

function selfMetricBound(metric: MetricDef, attribute: string): number {
  const n = SELF_METRIC_VALUES[`${metric.name} ${attribute}`];
  if (n === undefined) throw new Error(`no bound for ${metric.name}'s attribute ${attribute}`);
  return n;
}

export interface MetricBudget {
  metric: MetricDef;
  /** Attribute combinations before the SDK's limit. */
  combinations: number;
  /** After the limit (with the overflow series). */
  capped: number;
  /** Prometheus series for those combinations. */
  series: number;
}

export function seriesPerCombination(metric: MetricDef): number {
  return metric.kind === 'histogram' ? (metric.buckets?.length ?? 0) + 3 : 1;
}

export function cardinalityBudget(s: BudgetSettings, metrics: readonly MetricDef[] = ALL_METRICS): MetricBudget[] {
  return metrics.map((metric) => {
    let combinations = 1;
    for (const a of metric.attributes) combinations *= attributeBound(metric, a.name, s);
    const capped = combinations > COMBINATIONS_PER_METRIC ? COMBINATIONS_PER_METRIC + 1 : combinations;
    return { metric, combinations, capped, series: capped * seriesPerCombination(metric) };
  });
}

export function totalSeries(budget: readonly MetricBudget[]): number {
  return budget.reduce((n, b) => n + b.series, 0);
}

/** The budget as the Markdown table docs/scaling.md shows (metrics with more than one series). */
export function budgetTableMarkdown(): string {
  const typical = cardinalityBudget(TYPICAL);
  const worst = cardinalityBudget(WORST_CASE);
  const lines = ['| metric | attributes | typical combinations | typical series | worst-case combinations | worst-case series |', '|---|---|---|---|---|---|'];
  let singles = 0;
  for (let i = 0; i < worst.length; i++) {
    const t = typical[i]!;
    const w = worst[i]!;
    if (w.series === 1) {
      singles++;
      continue;
    }
    const attrs = w.metric.attributes.map((a) => `\`${a.name}\``).join(', ') || '-';
    const combos = (b: MetricBudget) => (b.combinations > COMBINATIONS_PER_METRIC ? `${b.combinations.toLocaleString('en-US')} -> ${b.capped.toLocaleString('en-US')}` : b.combinations.toLocaleString('en-US'));
    lines.push(`| \`${w.metric.name}\` | ${attrs} | ${combos(t)} | ${t.series.toLocaleString('en-US')} | ${combos(w)} | ${w.series.toLocaleString('en-US')} |`);
  }
  lines.push(`| ${singles} metrics without attributes | - | 1 each | ${singles} | 1 each | ${singles} |`);
  lines.push(`| **total per node** | | | **${totalSeries(typical).toLocaleString('en-US')}** | | **${totalSeries(worst).toLocaleString('en-US')}** |`);
  return lines.join('\n');
}
