/**
 * Static checks of the stack files (no Docker engine or Collector binary can run here): they
 * parse, everything they reference exists, images are pinned, Collector pipelines use defined
 * components, dashboards use data-source variables, and every metric name in dashboards and
 * alert rules is a documented catalog name as Prometheus sees it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ALL_METRICS, prometheusSeriesOf } from '../../src/metrics/metric-catalog.js';
import { prometheusLabel } from '../../src/metrics/prometheus-naming.js';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

type Obj = Record<string, unknown>;
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Obj>; volumes: Record<string, unknown> };
const collector = YAML.parse(read('otel-collector.yaml')) as Obj;

/** Series names of metrics this project exports, plus the broker's and Prometheus' own. */
const KNOWN_SERIES = new Set([...ALL_METRICS.flatMap(prometheusSeriesOf), 'up', 'active_mqtt_connections']);
const LABELS = new Set(ALL_METRICS.flatMap((d) => d.attributes.map((a) => prometheusLabel(a.name))));

function metricNames(promql: string): string[] {
  // Identifiers followed by a selector, range, or the end of an expression; functions, keywords
  // and label names excluded by looking only at our prefixes and the known external names.
  const names = promql.replace(/"[^"]*"/g, '""').match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return names.filter((n) => /^(mqtt_|vmq_sidecar_|nodejs_eventloop_|process_(cpu|memory)_|up$|active_mqtt_connections$)/.test(n) && !LABELS.has(n));
}

test('docker-compose.yml: every service is pinned, buildable and wired to things that exist', () => {
  const services = compose.services;
  for (const [name, svc] of Object.entries(services)) {
    const image = svc.image as string | undefined;
    const build = svc.build as string | Obj | undefined;
    assert.ok(image || build, `${name} has an image or a build`);
    if (image) assert.match(image, /:[^:]*\d[^:]*$/, `${name}: image ${image} has a pinned version tag`);
    if (image) assert.doesNotMatch(image, /:latest$/, `${name}: no latest tag`);
    if (build) {
      const ctx = typeof build === 'string' ? build : (build.context as string);
      if (/^https?:\/\//.test(ctx)) {
        assert.match(ctx, /#[0-9a-f]{40}$/, `${name}: remote build context pinned to a commit`);
      } else {
        const dockerfile = typeof build === 'string' ? 'Dockerfile' : ((build.dockerfile as string | undefined) ?? 'Dockerfile');
        assert.ok(existsSync(path.join(ROOT, ctx, dockerfile)), `${name}: ${ctx}/${dockerfile} exists`);
      }
    }
    const deps = svc.depends_on ? Object.keys(svc.depends_on as Obj) : [];
    for (const d of deps) assert.ok(services[d], `${name} depends on ${d}, which exists`);
    const mode = svc.network_mode as string | undefined;
    if (mode?.startsWith('service:')) assert.ok(services[mode.slice(8)], `${name}: network_mode ${mode}`);
    for (const v of (svc.volumes as string[] | undefined) ?? []) {
      const [src] = v.split(':');
      if (src!.startsWith('.')) assert.ok(existsSync(path.join(ROOT, src!)), `${name}: mounted ${src} exists`);
      else assert.ok(src! in compose.volumes, `${name}: named volume ${src} is declared`);
    }
    for (const p of (svc.ports as string[] | undefined) ?? []) assert.match(p, /^\d+:\d+$/, `${name}: port ${p}`);
    const profiles = (svc.profiles as string[] | undefined) ?? [];
    for (const p of profiles) assert.ok(['broker', 'simulator'].includes(p), `${name}: profile ${p}`);
  }
  // Two broker nodes in one cluster, each with its own sidecar over loopback.
  assert.equal(services.vernemq2!.environment && (services.vernemq2!.environment as Obj).DOCKER_VERNEMQ_DISCOVERY_NODE, 'vernemq1');
  for (const [sidecar, node] of [
    ['sidecar1', 'vernemq1'],
    ['sidecar2', 'vernemq2'],
  ] as const) {
    assert.equal(services[sidecar]!.network_mode, `service:${node}`);
    const env = services[sidecar]!.environment as Obj;
    assert.equal(env.VMQ_SIDECAR_LISTEN, '127.0.0.1:8890');
    assert.match(String(env.OTEL_RESOURCE_ATTRIBUTES), new RegExp(`service\\.instance\\.id=${node}`));
    const nodeEnv = services[node]!.environment as Obj;
    assert.equal(nodeEnv.DOCKER_VERNEMQ_PLUGINS__VMQ_EVENTS_SIDECAR, 'on');
    assert.equal(nodeEnv.DOCKER_VERNEMQ_VMQ_EVENTS_SIDECAR__PORT, '8890');
    assert.equal(String(nodeEnv.DOCKER_VERNEMQ_VMQ_EVENTS_SIDECAR__HOOKS).split(',').length, 13, 'all 13 hooks (the pinned v5.1.0 accepts them)');
  }
  for (const name of ['vernemq1', 'vernemq2', 'prometheus', 'loki', 'grafana']) assert.ok(services[name]!.healthcheck, `${name} has a health check`);
  // The sidecar image has its own HEALTHCHECK (Dockerfile).
  assert.match(read('Dockerfile'), /^HEALTHCHECK /m);
  // The simulator profile is self-contained.
  assert.deepEqual(Object.keys(services.simulator!.depends_on as Obj), ['sim-sidecar']);
});

test('Dockerfile: pinned supported LTS base (Node 24 or newer, within engines), non-root, health check', () => {
  const df = read('Dockerfile');
  const froms = [...df.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
  assert.ok(froms.length >= 2);
  const minimum = /^>=(\d+)\.(\d+)\.(\d+)$/.exec((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node)!.slice(1).map(Number);
  for (const f of froms) {
    const version = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(f)?.slice(1).map(Number);
    assert.ok(version, `${f}: node:X.Y.Z-bookworm-slim`);
    assert.ok(version[0]! >= 24 && version[0]! % 2 === 0, `${f}: an LTS line, 24 or newer`);
    const differs = version.findIndex((v, i) => v !== minimum[i]);
    assert.ok(differs < 0 || version[differs]! > minimum[differs]!, `${f}: within package.json engines`);
  }
  assert.match(df, /^USER node$/m);
  assert.match(df, /\/readyz/);
});

test('Dockerfile HEALTHCHECK, run as Docker would: healthy on a ready sidecar, unhealthy on nothing, passes with the admin listener off', async () => {
  const cmd = JSON.parse(/^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(read('Dockerfile'))![1]!) as string[];
  assert.equal(cmd[0], 'node');
  const { startTestSidecar } = await import('../helpers/sidecar-fixture.js');
  const { spawn } = await import('node:child_process');
  // Asynchronous: the sidecar under test answers from this process's event loop.
  const check = (adminListen: string | undefined, extra: Record<string, string> = {}) =>
    new Promise<number | null>((resolve) => {
      const env: Record<string, string | undefined> = { ...process.env, VMQ_SIDECAR_ADMIN_LISTEN: adminListen, ...extra };
      if (adminListen === undefined) delete env.VMQ_SIDECAR_ADMIN_LISTEN;
      const p = spawn(process.execPath, cmd.slice(1), { env, stdio: 'ignore', timeout: 10_000 });
      p.on('exit', (code) => resolve(code));
    });
  const sidecar = await startTestSidecar({ logLevel: 'warn' });
  try {
    // The image sets 0.0.0.0:PORT; the check asks 127.0.0.1 on that port.
    assert.equal(await check(`0.0.0.0:${sidecar.adminAddress!.port}`), 0);
  } finally {
    await sidecar.stop();
  }
  // An admin listener on a specific address is asked there, not on 127.0.0.1.
  const elsewhere = await startTestSidecar({ logLevel: 'warn', adminListen: { host: '127.0.0.2', port: 0 } });
  try {
    const port = elsewhere.adminAddress!.port;
    assert.equal(await check(`127.0.0.2:${port}`), 0);
    assert.equal(await check(undefined, { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.2', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) }), 0);
    assert.equal(await check(`127.0.0.1:${port}`), 1, 'nothing listens on 127.0.0.1 at that port');
  } finally {
    await elsewhere.stop();
  }
  assert.equal(await check('127.0.0.1:1'), 1);
  assert.equal(await check('off'), 0);
  assert.equal(await check(' OFF '), 0, 'spelt as the option parser accepts it');
});

test('otel-collector-central.yaml: the shares pipeline accumulates mqtt.client.connected per slot and keeps a scaled-down slot\'s value; every component defined and used', () => {
  const c = YAML.parse(read('otel-collector-central.yaml')) as Obj;
  const service = c.service as { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  const used = new Set<string>();
  for (const [name, p] of Object.entries(service.pipelines)) {
    for (const s of ['receivers', 'processors', 'exporters'] as const) {
      for (const comp of p[s]) {
        assert.ok(comp in ((c[s] as Obj) ?? {}), `pipeline ${name} uses undefined ${s} ${comp}`);
        used.add(`${s}/${comp}`);
      }
    }
    assert.equal(p.processors[0], 'memory_limiter');
  }
  for (const s of ['receivers', 'processors', 'exporters'] as const) for (const comp of Object.keys(c[s] as Obj)) assert.ok(used.has(`${s}/${comp}`), `${s} ${comp} unused`);
  const shares = service.pipelines['metrics/shares']!;
  const processors = c.processors as Record<string, Obj>;
  const filter = shares.processors.find((p) => p.startsWith('filter'))!;
  assert.deepEqual((processors[filter]!.metrics as { metric: string[] }).metric, ['name != "mqtt.client.connected"']);
  const acc = shares.processors.find((p) => p.startsWith('deltatocumulative'))!;
  assert.ok(shares.processors.indexOf(acc) > shares.processors.indexOf(filter));
  assert.match(String(processors[acc]!.max_stale), /^\d+h$/);
  assert.ok(parseInt(String(processors[acc]!.max_stale), 10) >= 24 * 30, 'a slot away for a month still comes back to its sum');
  const exporter = (c.exporters as Record<string, Obj>)[shares.exporters[0]!]!;
  assert.ok(parseInt(String(exporter.metric_expiration), 10) >= 24 * 30);
  // The other pipeline takes everything but the shares, also accumulated (counters are deltas too).
  const others = service.pipelines.metrics!;
  assert.ok(others.processors.some((p) => p.startsWith('deltatocumulative')));
  assert.deepEqual((processors[others.processors.find((p) => p.startsWith('filter'))!]!.metrics as { metric: string[] }).metric, ['name == "mqtt.client.connected"']);
});

test('otel-collector.yaml: pipelines use only defined components, each defined one is used', () => {
  const sections = ['receivers', 'processors', 'exporters', 'extensions'] as const;
  const defined = Object.fromEntries(sections.map((s) => [s, new Set(Object.keys((collector[s] as Obj) ?? {}))]));
  const service = collector.service as { extensions: string[]; pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>(), extensions: new Set(service.extensions) };
  for (const [name, p] of Object.entries(service.pipelines)) {
    assert.ok(/^(metrics|logs|traces)(\/.+)?$/.test(name), `pipeline ${name}`);
    for (const s of ['receivers', 'processors', 'exporters'] as const) {
      for (const c of p[s]) {
        assert.ok(defined[s]!.has(c), `pipeline ${name} uses undefined ${s} ${c}`);
        used[s].add(c);
      }
    }
    assert.equal(p.processors[0], 'memory_limiter', `${name}: memory_limiter comes first`);
    assert.ok(p.processors.includes('batch'), `${name}: batches`);
  }
  for (const s of sections) for (const c of defined[s]!) assert.ok(used[s].has(c), `${s} ${c} is defined but unused`);
  assert.deepEqual(Object.keys(service.pipelines).sort(), ['logs', 'metrics', 'traces']);
  const exporters = collector.exporters as Record<string, Obj>;
  for (const [name, e] of Object.entries(exporters)) {
    if (name.startsWith('otlp')) {
      assert.equal((e.sending_queue as Obj).enabled, true, `${name} has a sending queue`);
      assert.equal((e.retry_on_failure as Obj).enabled, true, `${name} retries`);
    }
  }
  const otlp = (collector.receivers as Obj).otlp as { protocols: Obj };
  assert.deepEqual(Object.keys(otlp.protocols).sort(), ['grpc', 'http']);
  // Exporter hosts are services of the compose file.
  assert.ok(compose.services.loki && compose.services.tempo);
  assert.match(String(exporters['otlphttp/loki']!.endpoint), /^http:\/\/loki:3100\//);
  assert.match(String(exporters['otlp/tempo']!.endpoint), /^tempo:4317$/);
});

test('Prometheus configuration: rules are mounted, scrape targets are compose services', () => {
  for (const file of ['deploy/prometheus/prometheus.yml', 'deploy/prometheus/prometheus-simulator.yml']) {
    const prom = YAML.parse(read(file)) as { rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    assert.deepEqual(prom.rule_files, ['/etc/prometheus/rules/*.rules.yml']);
    for (const job of prom.scrape_configs) {
      for (const t of job.static_configs.flatMap((s) => s.targets)) {
        const host = t.split(':')[0]!;
        assert.ok(compose.services[host], `${file}: ${job.job_name} target ${t} is a compose service`);
      }
    }
    execFileSync('promtool', ['check', 'config', '--syntax-only', path.join(ROOT, file)], { stdio: 'pipe' });
  }
  const promVolumes = compose.services.prometheus!.volumes as string[];
  assert.ok(promVolumes.includes('./alerts:/etc/prometheus/rules:ro'));
});

test('Grafana provisioning: data sources with trace-to-logs and logs-to-trace links', () => {
  const ds = YAML.parse(read('deploy/grafana/provisioning/datasources/datasources.yml')) as { datasources: Obj[] };
  const byUid = Object.fromEntries(ds.datasources.map((d) => [d.uid as string, d]));
  assert.deepEqual(Object.keys(byUid).sort(), ['loki', 'prometheus', 'tempo']);
  const tempo = byUid.tempo!.jsonData as { tracesToLogsV2: Obj };
  assert.equal(tempo.tracesToLogsV2.datasourceUid, 'loki');
  assert.match(String(tempo.tracesToLogsV2.query), /trace_id="\$\$\{__trace\.traceId\}"/);
  const loki = byUid.loki!.jsonData as { derivedFields: Obj[] };
  assert.equal(loki.derivedFields[0]!.datasourceUid, 'tempo');
  const providers = YAML.parse(read('deploy/grafana/provisioning/dashboards/dashboards.yml')) as { providers: { options: { path: string } }[] };
  assert.equal(providers.providers[0]!.options.path, '/var/lib/grafana/dashboards');
});

test('dashboards: valid JSON, data sources only through variables, documented metric names only', () => {
  const files = readdirSync(path.join(ROOT, 'dashboards')).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const d = JSON.parse(read(`dashboards/${f}`)) as { uid: string; panels: Obj[]; templating: { list: Obj[] } };
    const vars = d.templating.list.map((v) => v.name);
    assert.ok(vars.includes('datasource') && vars.includes('loki') && vars.includes('instance'), `${f} variables`);
    for (const p of d.panels) {
      if (p.type === 'row' || p.type === 'alertlist') continue;
      const uid = (p.datasource as Obj).uid;
      assert.ok(uid === '${datasource}' || uid === '${loki}', `${f}: panel ${String(p.title)} uses a data-source variable`);
      for (const t of (p.targets as Obj[]) ?? []) {
        assert.deepEqual(t.datasource, p.datasource);
        if (uid === '${datasource}') {
          for (const n of metricNames(String(t.expr))) assert.ok(KNOWN_SERIES.has(n), `${f}: ${String(p.title)} uses ${n}, not in the catalog`);
        }
      }
    }
  }
});

test('alert rules use documented metric names only', () => {
  const rules = YAML.parse(read('alerts/vmq-otel-sidecar.rules.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  for (const r of rules.groups.flatMap((g) => g.rules)) {
    const names = metricNames(r.expr);
    assert.ok(names.length > 0, r.alert);
    for (const n of names) assert.ok(KNOWN_SERIES.has(n), `${r.alert} uses ${n}, not in the catalog`);
  }
});

test('docker-compose.yml: the brokers get what the fork needs to route and to accept MQTT 5', () => {
  const services = compose.services;
  for (const node of ['vernemq1', 'vernemq2']) {
    const env = services[node]!.environment as Obj;
    assert.deepEqual(String(env.DOCKER_VERNEMQ_LISTENER__TCP__ALLOWED_PROTOCOL_VERSIONS).split(',').sort(), ['131', '3', '4', '5'], `${node}: MQTT 5 allowed`);
    // vmq_acl crashes MQTT 5 subscriptions in this version.
    assert.equal(env.DOCKER_VERNEMQ_PLUGINS__VMQ_ACL, 'off', node);
    assert.equal(env.DOCKER_VERNEMQ_DEFAULT_REG_VIEW, 'vmq_reg_redis_trie', node);
    // Redis + Sentinel: the endpoints name compose services on their ports.
    const sentinel = /^\[\{"([a-z0-9-]+)", (\d+)\}\]$/.exec(String(env.DOCKER_VERNEMQ_REDIS_SENTINEL_ENDPOINTS));
    assert.ok(sentinel, `${node}: sentinel endpoints ${String(env.DOCKER_VERNEMQ_REDIS_SENTINEL_ENDPOINTS)}`);
    assert.ok(services[sentinel[1]!], `${node}: sentinel service ${sentinel[1]} exists`);
    assert.equal(sentinel[2], '26379');
    const sentinelCmd = JSON.stringify(services[sentinel[1]!]!.entrypoint ?? services[sentinel[1]!]!.command);
    assert.match(sentinelCmd, new RegExp(`sentinel monitor ${String(env.DOCKER_VERNEMQ_REDIS_SENTINEL_MASTER)} redis 6379`), 'the sentinel monitors the master the broker asks for');
    assert.match(String(env.DOCKER_VERNEMQ_MSG_QUEUE_REDIS_SHARDS_CONNECT_OPTIONS), /\{host,"redis"\},\{port,6379\}/);
    assert.ok(services.redis, 'redis service');
    const deps = Object.keys(services[node]!.depends_on as Obj);
    assert.ok(deps.includes(sentinel[1]!), `${node} waits for the sentinel`);
    // The trie file is mounted where vmq_trie.acl_file says, and lists the demo's wildcard filters.
    const trie = String(env.DOCKER_VERNEMQ_VMQ_TRIE__ACL_FILE);
    const mount = ((services[node]!.volumes as string[]) ?? []).find((v) => v.split(':')[1] === trie);
    assert.ok(mount, `${node}: ${trie} mounted`);
    const filters = read(mount.split(':')[0]!).split('\n').filter(Boolean);
    assert.ok(filters.includes('demo/+/telemetry'), 'the demo subscriber\'s filter is in the trie file');
  }
  // No "__" in values: the fork's start script turns every "__" of an env line into ".".
  for (const node of ['vernemq1', 'vernemq2']) {
    for (const [k, v] of Object.entries(services[node]!.environment as Obj)) assert.doesNotMatch(String(v), /__/, k);
  }
});

test('Kubernetes example: the sidecar runs in the broker pod with a state volume, probes that leave the broker\'s readiness alone, and pod-derived resource attributes', () => {
  const docs = YAML.parseAllDocuments(read('deploy/kubernetes/vernemq-with-sidecar.yaml')).map((d) => d.toJS() as Obj);
  const sts = docs.find((d) => d.kind === 'StatefulSet') as { spec: { template: { spec: { containers: Obj[]; serviceAccountName: string } } } };
  const containers = sts.spec.template.spec.containers;
  const sidecar = containers.find((c) => c.name === 'vmq-otel-sidecar')!;
  const broker = containers.find((c) => c.name === 'vernemq')!;
  const env = (c: Obj) => Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  assert.equal(env(sidecar).VMQ_SIDECAR_LISTEN, '127.0.0.1:8890');
  assert.equal(env(broker).DOCKER_VERNEMQ_VMQ_EVENTS_SIDECAR__HOSTNAME, '127.0.0.1');
  assert.match(String(env(sidecar).OTEL_RESOURCE_ATTRIBUTES), /service\.instance\.id=\$\(POD_NAME\)/);
  // Liveness, but no readiness: the broker pod's readiness must not depend on the sidecar's.
  assert.ok(sidecar.livenessProbe && sidecar.startupProbe);
  assert.equal(sidecar.readinessProbe, undefined);
  assert.ok(broker.readinessProbe);
  // A writable volume for the session state file (the root filesystem is read-only).
  const stateFile = String(env(sidecar).VMQ_SIDECAR_STATE_FILE);
  const mount = (sidecar.volumeMounts as { name: string; mountPath: string }[]).find((m) => stateFile.startsWith(`${m.mountPath}/`));
  assert.ok(mount, 'the state file is on a mounted volume');
  assert.ok((sts.spec.template.spec as unknown as { volumes: { name: string }[] }).volumes.some((v) => v.name === mount.name));
  assert.ok(docs.some((d) => d.kind === 'ServiceAccount' && (d.metadata as Obj).name === sts.spec.template.spec.serviceAccountName));
});

test('the demo application is valid JavaScript with pinned dependencies', () => {
  execFileSync(process.execPath, ['--check', path.join(ROOT, 'demo/index.mjs')]);
  const pkg = JSON.parse(read('demo/package.json')) as { dependencies: Record<string, string> };
  for (const [name, v] of Object.entries(pkg.dependencies)) assert.match(v, /^\d+\.\d+\.\d+$/, `${name} pinned`);
  assert.ok(statSync(path.join(ROOT, 'demo/Dockerfile')).isFile());
});

test('Kubernetes central example: gRPC StatefulSet in deltas mode exporting deltas, Service on the plugin\'s port, HPA on CPU', () => {
  const docs = YAML.parseAllDocuments(read('deploy/kubernetes/central-grpc-sidecar.yaml')).map((d) => d.toJS() as Obj);
  const kinds = docs.map((d) => d.kind);
  // A StatefulSet: each replica slot keeps its name (service.instance.id) across restarts, so
  // the Collector's accumulated share of a slot continues (otel-collector-central.yaml).
  for (const k of ['Service', 'StatefulSet', 'HorizontalPodAutoscaler']) assert.ok(kinds.includes(k), k);
  const dep = docs.find((d) => d.kind === 'StatefulSet') as { metadata: { name: string }; spec: { template: { spec: { containers: Obj[] } } } };
  const c = dep.spec.template.spec.containers[0]!;
  const env = Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  assert.equal(env.VMQ_SIDECAR_GAUGE_MODE, 'deltas');
  assert.equal(env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, 'delta');
  assert.equal(env.OTEL_METRICS_EXPORTER, 'otlp', 'metrics only through the accumulating Collector');
  assert.match(String(env.OTEL_RESOURCE_ATTRIBUTES), /service\.instance\.id=\$\(POD_NAME\)/);
  const grpcPort = Number(String(env.VMQ_SIDECAR_GRPC_LISTEN).split(':').pop());
  assert.ok((c.ports as { containerPort: number; name: string }[]).some((p) => p.containerPort === grpcPort && p.name === 'grpc'));
  assert.deepEqual((c.readinessProbe as { grpc: { port: number } }).grpc.port, grpcPort);
  const svc = docs.find((d) => d.kind === 'Service') as { spec: { ports: { name: string; port: number; targetPort: string }[] } };
  // The plugin's grpc_port defaults to 80.
  assert.ok(svc.spec.ports.some((p) => p.port === 80 && p.targetPort === 'grpc'));
  const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler') as { spec: { scaleTargetRef: { name: string }; metrics: { resource: { name: string } }[] } };
  assert.equal(hpa.spec.scaleTargetRef.name, dep.metadata.name);
  assert.equal(hpa.spec.metrics[0]!.resource.name, 'cpu');
  // Every setting it uses is one the sidecar knows.
  for (const name of Object.keys(env).filter((n) => n.startsWith('VMQ_SIDECAR_'))) {
    assert.ok(Object.values(SIDECAR_OPTIONS).some((o) => o.env === name), name);
  }
  // Only broker pods reach the gRPC port: a NetworkPolicy on these pods whose every rule for the
  // gRPC port names the broker pods' label.
  const np = docs.find((d) => d.kind === 'NetworkPolicy') as {
    spec: { podSelector: { matchLabels: Obj }; policyTypes: string[]; ingress: { from: { podSelector?: { matchLabels: Obj } }[]; ports: { port: string | number }[] }[] };
  };
  assert.ok(np, 'a NetworkPolicy');
  assert.deepEqual(np.spec.podSelector.matchLabels, (dep.spec as unknown as { selector: { matchLabels: Obj } }).selector.matchLabels);
  assert.ok(np.spec.policyTypes.includes('Ingress'));
  const grpcRules = np.spec.ingress.filter((r) => r.ports.some((p) => p.port === 'grpc' || p.port === grpcPort));
  assert.equal(grpcRules.length, 1);
  for (const peer of grpcRules[0]!.from) assert.deepEqual(peer.podSelector?.matchLabels, { app: 'vernemq' });
  // The bounds fit the 512Mi limit: at most 64MiB of requests held.
  assert.equal(env.VMQ_SIDECAR_MAX_BUFFERED_BYTES, '64MiB');
});
