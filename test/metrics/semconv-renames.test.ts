import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_METRICS } from '../../src/metrics/metric-catalog.js';
import { LOG_ATTRIBUTES, LOG_RECORDS } from '../../src/sinks/log-catalog.js';
import {
  CLIENT_GROUP_METRICS,
  CLIENT_GROUP_METRIC_NAMES,
  LOG_ATTRIBUTE_RENAMES,
  LOG_ATTRIBUTES_ADDED,
  METRIC_ATTRIBUTE_RENAMES,
  METRIC_RENAMES,
  attributeOnlyChanges,
  compatRecordingRules,
  prometheusRenames,
  renameFor,
  type MetricRename,
} from '../../scripts/semconv-renames.js';

const renames = METRIC_RENAMES as Record<string, MetricRename>;

/**
 * Metrics new since the rename: no old name, so no entry (the broker's own gauges, and those the
 * catalog gives a conventionNote, which says so).
 */
const isNew = (name: string) => name.startsWith('vernemq.') || ALL_METRICS.find((m) => m.name === name)?.conventionNote !== undefined;

test('the table is the record of the old names: every new name is in the catalog, every catalog metric has its entry', () => {
  const catalog = new Set(ALL_METRICS.map((m) => m.name));
  for (const [old, r] of Object.entries(renames)) {
    assert.ok(catalog.has(r.name), `${old} -> ${r.name}, which the catalog has`);
    for (const t of Object.values(r.split?.into ?? {})) assert.ok(catalog.has(t.name), `${old} splits into ${t.name}, which the catalog has`);
    assert.ok(r.convention.length > 10, `${old}: the convention or why none applies`);
  }
  for (const m of ALL_METRICS) if (!isNew(m.name)) assert.ok(renameFor(m.name), `${m.name} has an entry (its old name)`);
  // The old names are gone from the catalog, except where the name stayed.
  for (const [old, r] of Object.entries(renames)) if (old !== r.name) assert.ok(!catalog.has(old), `${old} is renamed, not kept beside ${r.name}`);
});

test('every metric attribute is the one the table decided, on the metric or for all metrics', () => {
  const everywhere = new Set<string>(Object.values(METRIC_ATTRIBUTE_RENAMES).map((a) => a.name));
  for (const m of ALL_METRICS) {
    const entry = renameFor(m.name);
    if (entry === undefined) continue;
    const r = entry.rename;
    const decided = new Set<string>([
      ...(r.attributes ?? []).map((a) => a.to),
      ...(r.added ?? []).map((a) => a.name),
      ...Object.keys(r.selector ?? {}),
      ...Object.values(r.split?.into ?? {}).flatMap((t) => Object.keys(t.attributes)),
    ]);
    // Attributes added after the pass carry the convention they follow in the catalog instead.
    for (const a of m.attributes) assert.ok(decided.has(a.name) || everywhere.has(a.name) || a.convention !== undefined, `${m.name}: attribute ${a.name} is decided`);
    for (const c of r.attributes ?? []) if (c.from !== c.to) assert.ok(!m.attributes.some((a) => a.name === c.from), `${m.name}: ${c.from} was renamed to ${c.to}`);
  }
});

test('every log attribute is the one the table decided; added attributes name real hooks and are on their records', () => {
  const decided = new Set<string>([...Object.values(LOG_ATTRIBUTE_RENAMES).map((a) => a.name), ...LOG_ATTRIBUTES_ADDED.map((a) => a.name)]);
  assert.deepEqual(Object.keys(LOG_ATTRIBUTES).filter((k) => !decided.has(k)), []);
  for (const [old, r] of Object.entries(LOG_ATTRIBUTE_RENAMES)) assert.ok(r.name in LOG_ATTRIBUTES, `${old} -> ${r.name} is in LOG_ATTRIBUTES`);
  for (const added of LOG_ATTRIBUTES_ADDED) {
    for (const h of added.hooks) {
      assert.ok(h in LOG_RECORDS, `${added.name}: ${h}`);
      assert.ok((LOG_RECORDS[h as keyof typeof LOG_RECORDS].attributes as string[]).includes(added.name), `${added.name} is on ${h} records`);
    }
  }
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

test('mqtt.client.group is on exactly the metrics CLIENT_GROUP_METRICS lists (by their current names)', () => {
  const withGroup = ALL_METRICS.filter((m) => m.attributes.some((a) => a.name === 'mqtt.client.group')).map((m) => m.name);
  assert.deepEqual(withGroup.sort(), [...CLIENT_GROUP_METRIC_NAMES].sort());
});
