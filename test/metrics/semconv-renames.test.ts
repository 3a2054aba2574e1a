import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_METRICS } from '../../src/metrics/metric-catalog.js';
import { LOG_ATTRIBUTES, LOG_RECORDS } from '../../src/sinks/log-catalog.js';
import {
  CLIENT_GROUP_METRICS,
  LOG_ATTRIBUTE_RENAMES,
  LOG_ATTRIBUTES_ADDED,
  METRIC_ATTRIBUTE_RENAMES,
  METRIC_RENAMES,
  attributeOnlyChanges,
  compatRecordingRules,
  prometheusRenames,
  type MetricRename,
} from '../../src/metrics/semconv-renames.js';

const renames = METRIC_RENAMES as Record<string, MetricRename>;

test('every catalog metric has exactly one decision, and no decision names a metric the catalog lacks', () => {
  const catalog = ALL_METRICS.map((m) => m.name).sort();
  assert.deepEqual(Object.keys(renames).sort(), catalog);
  for (const [old, r] of Object.entries(renames)) assert.ok(r.convention.length > 10, `${old}: the convention or why none applies`);
});

test('every metric attribute has a decision, on the metric or for all metrics', () => {
  for (const m of ALL_METRICS) {
    const onMetric = new Set((renames[m.name]!.attributes ?? []).map((a) => a.from));
    for (const a of m.attributes) {
      assert.ok(onMetric.has(a.name) || a.name in METRIC_ATTRIBUTE_RENAMES || renames[m.name]!.split?.by === a.name, `${m.name}: attribute ${a.name} has a decision`);
    }
    for (const from of onMetric) assert.ok(m.attributes.some((a) => a.name === from), `${m.name}: renames ${from}, which it has`);
  }
});

test('every log attribute has a decision; added attributes name real hooks', () => {
  assert.deepEqual(Object.keys(LOG_ATTRIBUTE_RENAMES).sort(), Object.keys(LOG_ATTRIBUTES).sort());
  for (const added of LOG_ATTRIBUTES_ADDED) for (const h of added.hooks) assert.ok(h in LOG_RECORDS, `${added.name}: ${h}`);
});

test('new metric names: singular namespaces, distinct, no clash with another metric\'s old Prometheus name', () => {
  const seen = new Map<string, string>();
  for (const [old, r] of Object.entries(renames)) {
    const segments = r.name.split('.');
    for (const ns of segments.slice(0, -1)) assert.ok(!/(messages|connections|frames|events|sessions|values|records|hooks)$/.test(ns), `${r.name}: namespace ${ns} is not plural`);
    if (r.split === undefined) {
      assert.ok(!seen.has(r.name) || r.name.startsWith('otel.sdk.'), `${r.name} is the new name of ${seen.get(r.name)} and ${old}`);
      seen.set(r.name, old);
    }
  }
  const oldNames = new Map(prometheusRenames().map((r) => [r.from, r.def.name]));
  for (const { to, def } of prometheusRenames()) {
    const owner = oldNames.get(to);
    assert.ok(owner === undefined || owner === def.name, `${def.name}'s new Prometheus name ${to} is ${owner}'s old one`);
  }
});

test('the examples the issue asks for', () => {
  assert.equal(METRIC_RENAMES['mqtt.messages.published'].name, 'mqtt.message.published');
  assert.equal(LOG_ATTRIBUTE_RENAMES['mqtt.acl.pattern'].name, 'messaging.destination.template');
  assert.equal(LOG_ATTRIBUTE_RENAMES['network.peer.address'].name, 'client.address');
  assert.equal(LOG_ATTRIBUTE_RENAMES['network.peer.port'].name, 'client.port');
  assert.equal(LOG_ATTRIBUTE_RENAMES['mqtt.failure.reason'].name, 'error.type');
  assert.equal(METRIC_RENAMES['vmq_sidecar.log_records.exported'].name, 'otel.sdk.exporter.log.exported');
  assert.equal(METRIC_RENAMES['vmq_sidecar.log_records.dropped'].split.into.queue_full.name, 'otel.sdk.processor.log.processed');
  const rules = new Map(compatRecordingRules().map((r) => [r.record, r.expr]));
  assert.equal(rules.get('mqtt_messages_published_total'), 'mqtt_message_published_total');
  assert.equal(rules.get('mqtt_session_duration_seconds_bucket'), undefined, 'unchanged names get no rule');
  // Metrics that only change an attribute are listed for the CHANGELOG's by-hand query changes.
  assert.deepEqual(
    attributeOnlyChanges().map((c) => c.series),
    ['mqtt_client_registration_failures_total', 'mqtt_subscriptions_total', 'vmq_sidecar_export_failures_total', 'vmq_sidecar_snapshot_writes_total', 'vmq_sidecar_broker_scrapes_total', 'vmq_sidecar_broker_grpc_calls_total'],
  );
  for (const m of CLIENT_GROUP_METRICS) assert.ok(m in METRIC_RENAMES);
});
