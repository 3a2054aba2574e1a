/**
 * Static checks of the scale-out snippets (docs/scaling.md, deploy/scaling/) and of the
 * compatibility recording rules (CHANGELOG.md, alerts/compat/): no Collector, Kafka, Mimir or
 * VictoriaMetrics binary runs here, so the files are parsed, their Collector pipelines checked as
 * static-config.test.ts checks otel-collector.yaml, the component settings held to the keys the
 * Collector-contrib READMEs document, and the Prometheus-side parts run through promtool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { compatRecordingRules } from '../../scripts/semconv-renames.js';
import { ALL_METRICS, prometheusSeriesOf } from '../../src/metrics/metric-catalog.js';
import { budgetTableMarkdown } from '../../scripts/cardinality-budget.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCALING = path.join(ROOT, 'deploy/scaling');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

type Obj = Record<string, unknown>;
interface Pipeline {
  receivers: string[];
  processors?: string[];
  exporters: string[];
}
interface CollectorConfig {
  extensions?: Obj;
  receivers: Obj;
  processors: Obj;
  exporters: Obj;
  service: { extensions?: string[]; pipelines: Record<string, Pipeline> };
}

function promtool(args: string[], cwd = ROOT): string {
  try {
    return execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    assert.fail(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

const files = readdirSync(SCALING).filter((f) => /\.ya?ml$/.test(f));
const collectorFiles = files.filter((f) => f.startsWith('collector-'));
const collector = (f: string) => YAML.parse(read(`deploy/scaling/${f}`)) as CollectorConfig;

/** Settings keys the contrib READMEs document for the components used here (top level only). */
const DOCUMENTED_KEYS: Record<string, readonly string[]> = {
  'exporters/kafka': [
    'brokers', 'protocol_version', 'client_id', 'logs', 'metrics', 'traces', 'topic_from_attribute', 'include_metadata_keys', 'record_headers',
    'partition_traces_by_id', 'partition_metrics_by_resource_attributes', 'partition_logs_by_resource_attributes', 'partition_logs_by_trace_id',
    'tls', 'auth', 'metadata', 'timeout', 'retry_on_failure', 'sending_queue', 'producer',
  ],
  'receivers/kafka': [
    'brokers', 'protocol_version', 'logs', 'metrics', 'traces', 'group_id', 'client_id', 'initial_offset', 'session_timeout', 'heartbeat_interval',
    'tls', 'auth', 'metadata', 'autocommit', 'message_marking', 'header_extraction', 'error_backoff', 'min_fetch_size', 'max_fetch_size', 'max_fetch_wait',
  ],
  'exporters/loadbalancing': ['routing_key', 'protocol', 'resolver', 'timeout', 'retry_on_failure', 'sending_queue'],
  'exporters/otlp': ['endpoint', 'tls', 'headers', 'compression', 'timeout', 'sending_queue', 'retry_on_failure', 'balancer_name', 'auth'],
  'exporters/otlphttp': ['endpoint', 'metrics_endpoint', 'logs_endpoint', 'traces_endpoint', 'tls', 'headers', 'compression', 'timeout', 'encoding', 'sending_queue', 'retry_on_failure', 'auth'],
};
const KNOWN_TYPES = {
  receivers: ['otlp', 'kafka'],
  processors: ['memory_limiter', 'batch'],
  exporters: ['otlp', 'otlphttp', 'kafka', 'loadbalancing'],
  extensions: ['health_check'],
};

test('every scaling snippet parses as YAML and is referenced from docs/scaling.md', () => {
  const doc = read('docs/scaling.md');
  assert.ok(files.length >= 6);
  for (const f of files) {
    const parsed = YAML.parseAllDocuments(read(`deploy/scaling/${f}`));
    for (const d of parsed) assert.deepEqual(d.errors, [], `${f} parses`);
    assert.ok(doc.includes(`deploy/scaling/${f}`), `docs/scaling.md links ${f}`);
  }
  for (const m of doc.matchAll(/deploy\/scaling\/([\w.-]+)/g)) assert.ok(files.includes(m[1]!), `docs/scaling.md links ${m[1]}, which exists`);
});

test('Collector snippets: pipelines use only defined components, each defined one is used, of known types', () => {
  for (const f of collectorFiles) {
    const c = collector(f);
    const sections = ['receivers', 'processors', 'exporters'] as const;
    const used: Record<string, Set<string>> = { receivers: new Set(), processors: new Set(), exporters: new Set() };
    for (const [name, p] of Object.entries(c.service.pipelines)) {
      assert.match(name, /^(metrics|logs|traces)(\/.+)?$/, `${f}: pipeline ${name}`);
      for (const s of sections) {
        for (const id of p[s] ?? []) {
          assert.ok(id in ((c[s] as Obj | undefined) ?? {}), `${f}: pipeline ${name} uses undefined ${s} ${id}`);
          used[s]!.add(id);
        }
      }
      assert.equal(p.processors?.[0], 'memory_limiter', `${f}: ${name}: memory_limiter comes first`);
      // Batching everywhere, except where it would break at-least-once delivery from Kafka.
      const fromKafka = p.receivers.some((r) => r.split('/')[0] === 'kafka');
      assert.equal(p.processors!.includes('batch'), !fromKafka, `${f}: ${name}: batch ${fromKafka ? 'absent (Kafka marks after export)' : 'present'}`);
    }
    for (const s of sections) {
      for (const id of Object.keys((c[s] as Obj | undefined) ?? {})) {
        assert.ok(used[s]!.has(id), `${f}: ${s} ${id} is defined but unused`);
        assert.ok(KNOWN_TYPES[s].includes(id.split('/')[0]!), `${f}: ${s} ${id} is of a known contrib type`);
        const keys = DOCUMENTED_KEYS[`${s}/${id.split('/')[0]}`];
        if (keys) for (const k of Object.keys((c[s] as Record<string, Obj>)[id] ?? {})) assert.ok(keys.includes(k), `${f}: ${id}.${k} is a documented setting`);
      }
    }
    for (const e of c.service.extensions ?? []) assert.ok(e in (c.extensions ?? {}), `${f}: extension ${e} defined`);
    for (const [id, e] of Object.entries(c.exporters as Record<string, Obj>)) {
      // The loadbalancing exporter takes the OTLP exporter's settings under protocol.otlp.
      const settings = id.startsWith('loadbalancing') ? ((e.protocol as Record<string, Obj>).otlp as Obj) : e;
      const retry = settings.retry_on_failure as Obj | undefined;
      assert.equal(retry?.enabled, true, `${f}: ${id} retries`);
    }
  }
});

test('Kafka: the agent writes what the gateway reads', () => {
  const agent = collector('collector-agent.yaml');
  const gateway = collector('collector-gateway.yaml');
  const out = (agent.exporters as Record<string, Obj>)['kafka/logs']!;
  const inp = (gateway.receivers as Record<string, Obj>)['kafka/logs']!;
  const outLogs = out.logs as { topic: string; encoding: string };
  const inLogs = inp.logs as { topics: string[]; encoding: string };
  assert.deepEqual(inLogs.topics, [outLogs.topic]);
  assert.equal(inLogs.encoding, outLogs.encoding);
  assert.equal(outLogs.encoding, 'otlp_proto');
  assert.deepEqual(inp.brokers, out.brokers);
  assert.equal(out.partition_logs_by_resource_attributes, true, 'one node per partition keeps its order');
  // The agent's batches fit Kafka's message limit at ~410 B per record.
  const batch = (agent.processors as Record<string, Obj>).batch!;
  const producer = out.producer as { max_message_bytes: number };
  assert.ok((batch.send_batch_max_size as number) * 410 * 1.5 < producer.max_message_bytes, 'a batch fits a Kafka message with room');
  // At-least-once on the gateway: marked after the pipeline, not on error, no queue before Loki.
  assert.deepEqual(inp.message_marking, { after: true, on_error: false });
  assert.equal(inp.initial_offset, 'earliest');
  const logsPipeline = Object.values(gateway.service.pipelines).find((p) => p.receivers.includes('kafka/logs'))!;
  for (const e of logsPipeline.exporters) assert.equal(((gateway.exporters as Record<string, Obj>)[e]!.sending_queue as Obj).enabled, false, `${e}: no in-memory queue after Kafka`);
  // Metrics do not go through Kafka.
  for (const [name, p] of Object.entries(agent.service.pipelines)) {
    if (name.startsWith('metrics')) assert.ok(!p.exporters.some((e) => e.startsWith('kafka')), `${name} goes to the gateway over OTLP`);
  }
});

test('load balancing: by resource (each sidecar its own service.instance.id), not by service', () => {
  const lb = (collector('collector-loadbalancing.yaml').exporters as Record<string, Obj>)['loadbalancing/metrics']!;
  assert.equal(lb.routing_key, 'resource');
  assert.ok((lb.resolver as Obj).dns, 'a DNS resolver over a headless service');
  // The gateways that push to a backend need none.
  for (const f of ['collector-gateway.yaml', 'collector-gateway-victoriametrics.yaml']) {
    assert.ok(!Object.keys(collector(f).exporters).some((id) => id.startsWith('loadbalancing')), f);
  }
});

test('Mimir and VictoriaMetrics: the settings that give docs/telemetry.md\'s names', () => {
  const mimir = YAML.parse(read('deploy/scaling/mimir-limits.yaml')) as { limits: Obj };
  assert.equal(mimir.limits.otel_metric_suffixes_enabled, true);
  assert.equal(typeof mimir.limits.promote_otel_resource_attributes, 'string', 'a comma-separated string, not a list');
  const mimirExporter = (collector('collector-gateway.yaml').exporters as Record<string, Obj>)['otlphttp/mimir']!;
  assert.match(String(mimirExporter.endpoint), /\/otlp$/);
  const vm = (collector('collector-gateway-victoriametrics.yaml').exporters as Record<string, Obj>)['otlphttp/victoriametrics']!;
  assert.match(String(vm.metrics_endpoint), /\/opentelemetry\/v1\/metrics$/);
  const flags = read('deploy/scaling/collector-gateway-victoriametrics.yaml');
  for (const flag of ['-opentelemetry.usePrometheusNaming', '-opentelemetry.promoteAllResourceAttributes=false', '-relabelConfig=victoriametrics-relabel.yml']) {
    assert.ok(flags.includes(flag) && read('docs/scaling.md').includes(flag.split('=')[0]!), flag);
  }
});

test('VictoriaMetrics relabelling: valid Prometheus relabel_configs (promtool) giving job and instance', () => {
  const rules = YAML.parse(read('deploy/scaling/victoriametrics-relabel.yml')) as { source_labels?: string[]; target_label?: string; action?: string; regex?: string }[];
  assert.deepEqual(
    rules.filter((r) => r.target_label).map((r) => [r.source_labels, r.target_label]),
    [
      [['service_name'], 'job'],
      [['service_instance_id'], 'instance'],
    ],
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'vmq-scaling-'));
  try {
    const config = { scrape_configs: [{ job_name: 'relabel-check', static_configs: [{ targets: ['127.0.0.1:9'] }], metric_relabel_configs: rules }] };
    writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify(config));
    assert.match(promtool(['check', 'config', '--syntax-only', path.join(dir, 'prometheus.yml')]), /SUCCESS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compatibility rules: generated from the rename table, promtool-checked and -tested, recording documented old names', () => {
  const file = YAML.parse(read('alerts/compat/pre-semconv-names.rules.yml')) as { groups: { name: string; rules: { record: string; expr: string }[] }[] };
  assert.deepEqual(file.groups.flatMap((g) => g.rules), compatRecordingRules(), 'alerts/compat/pre-semconv-names.rules.yml matches scripts/semconv-renames.ts');
  // The rules record the old names from the new series: no old name is a current series.
  const current = new Set(ALL_METRICS.flatMap(prometheusSeriesOf));
  for (const r of compatRecordingRules()) {
    assert.ok(!current.has(r.record), `${r.record} is an old name, not a current series`);
    assert.ok([...current].some((s) => r.expr.includes(s)), `${r.record} is recorded from a current series (${r.expr})`);
  }
  assert.match(promtool(['check', 'rules', 'pre-semconv-names.rules.yml'], path.join(ROOT, 'alerts/compat')), /SUCCESS: \d+ rules found/);
  assert.match(promtool(['test', 'rules', 'tests/pre-semconv-names.test.yml'], path.join(ROOT, 'alerts/compat')), /SUCCESS/);
  // The CHANGELOG names every renamed metric with its new name.
  const changelog = read('CHANGELOG.md');
  for (const r of compatRecordingRules()) assert.ok(changelog.includes(`\`${r.record.replace(/_(bucket|sum|count)$/, '_*')}\``) || changelog.includes(`\`${r.record}\``), `CHANGELOG.md lists ${r.record}`);
});

test('docs/scaling.md: the cardinality budget table is the catalog\'s', () => {
  const doc = read('docs/scaling.md');
  const table = doc.slice(doc.indexOf('<!-- budget:start -->') + '<!-- budget:start -->'.length, doc.indexOf('<!-- budget:end -->')).trim();
  assert.equal(table, budgetTableMarkdown(), 'regenerate the table with budgetTableMarkdown()');
});
