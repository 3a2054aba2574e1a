/**
 * Every broker setting the project ships (docker-compose.yml's x-vernemq-env, the Kubernetes
 * example's env, the vernemq.conf snippets of README.md and docs/) held to gojek/vernemq's rules
 * as the facts file's "Observed on a running broker, second run" records them: the settings are
 * turned into vernemq.conf as the fork's image does, then checked for names its schemas know,
 * values their datatypes accept, Erlang lists that parse, the Redis message store, authorization
 * and MQTT 5. Each broken form the facts file records is shown to fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { PINNED_PLUGIN_VERSION, PLUGIN_VERSIONS } from '../helpers/plugin-versions.js';
import { parseErlangTerm } from '../helpers/erlang-term.js';
import { SCHEMA_KEYS, authorization, brokerConfProblems, confBlocks, confMap, dockerEnvToConf, listenerCollisions, parseConf, schemaKey, settingProblems } from '../helpers/vernemq-conf.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
const TWELVE = PLUGIN_VERSIONS.find((v) => v.hooks.length === 12)!;

type Obj = Record<string, unknown>;
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Obj> };
const k8sDocs = YAML.parseAllDocuments(read('deploy/kubernetes/vernemq-with-sidecar.yaml')).map((d) => d.toJS() as Obj);
type Container = { name: string; image: string; env?: { name: string; value?: string }[]; restartPolicy?: string; volumeMounts?: { name: string; mountPath: string; subPath?: string }[] };
const sts = k8sDocs.find((d) => d.kind === 'StatefulSet') as { spec: { template: { spec: { containers: Container[]; initContainers?: Container[]; terminationGracePeriodSeconds?: number; volumes: { name: string; configMap?: { name: string } }[] } } } };
const pod = sts.spec.template.spec;

/** A service's environment: every value must reach the container as a string. */
function stringEnv(env: Obj, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    // An unquoted [a,b] in YAML is a list, {a: b} a map: compose refuses them or passes
    // something else than the text.
    assert.ok(typeof v === 'string' || typeof v === 'number', `${where}: ${k} is a YAML ${Array.isArray(v) ? 'list' : typeof v}, not a string: quote it`);
    out[k] = String(v);
  }
  return out;
}

function composeConf(node: string): string[] {
  return dockerEnvToConf(stringEnv(compose.services[node]!.environment as Obj, node));
}

function k8sConf(): string[] {
  const broker = pod.containers.find((c) => c.name === 'vernemq')!;
  const env: Obj = {};
  for (const e of broker.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return dockerEnvToConf(stringEnv(env, 'vernemq container'));
}

const brokerProblems = (lines: string[], build = PINNED_PLUGIN_VERSION) => {
  const { entries, problems } = parseConf(lines);
  return [...problems, ...brokerConfProblems(entries, build)];
};

test('the schema key list: each name once, each with its source; names resolve exactly before patterns', () => {
  assert.equal(new Set(SCHEMA_KEYS.map((k) => k.key)).size, SCHEMA_KEYS.length);
  for (const k of SCHEMA_KEYS) assert.match(k.source, /schema|Dockerfile|vernemq\.sh/, k.key);
  assert.equal(schemaKey('listener.tcp.allowed_protocol_versions')!.datatype, 'protocol-versions');
  assert.equal(schemaKey('listener.tcp.default')!.key, 'listener.tcp.$name');
  assert.equal(schemaKey('plugins.vmq_passwd')!.key, 'plugins.$name');
  assert.equal(schemaKey('accept_eula'), undefined);
  assert.equal(schemaKey('listener.tcp.a.b'), undefined);
});

test('the image\'s mapping: "__" is a dot anywhere in the line, names lower-cased, values kept, some lines left out', () => {
  const lines = dockerEnvToConf({
    DOCKER_VERNEMQ_VMQ_EVENTS_SIDECAR__HOOKS: '[on_register,on_publish]',
    DOCKER_VERNEMQ_MESSAGE_STORE__REDIS__CONNECT_OPTIONS: '[{sentinel, [{endpoints, [{"Redis-A", 26379}]}]}]',
    DOCKER_VERNEMQ_REDIS_SENTINEL_MASTER: 'MyMaster',
    DOCKER_VERNEMQ_LOG__CONSOLE__LEVEL: 'a__b',
    DOCKER_VERNEMQ_KUBERNETES_LABEL_SELECTOR: 'app=vernemq',
    DOCKER_VERNEMQ_NODENAME: 'vernemq1',
    DOCKER_VERNEMQ_LISTENER__HTTP__METRICS: '0.0.0.0:8888',
  });
  assert.ok(lines.includes('vmq_events_sidecar.hooks=[on_register,on_publish]'));
  assert.ok(lines.includes('message_store.redis.connect_options=[{sentinel, [{endpoints, [{"Redis-A", 26379}]}]}]'), 'quotes, braces, spaces and case of the value survive');
  assert.ok(lines.includes('redis_sentinel_master=MyMaster'));
  assert.ok(lines.includes('log.console.level=a.b'), 'a "__" in a value becomes a dot too');
  assert.ok(lines.includes('log.console=console'), 'the image\'s own default');
  assert.ok(lines.includes('nodename=vernemq1'));
  assert.ok(!lines.some((l) => l.includes('label_selector')), 'KUBERNETES lines are the script\'s own');
  assert.ok(lines.includes('listener.http.metrics=0.0.0.0:8888') && !lines.some((l) => l.startsWith('listener.http.metrics = ')), 'set: not appended');
  assert.ok(lines.includes('listener.tcp.default = 10.0.0.2:1883'), 'unset: appended on the container\'s address');
});

test('Erlang terms are read as parse_list reads them: one term, or a crash', () => {
  assert.deepEqual(parseErlangTerm('[on_register,on_publish]'), { type: 'list', items: [{ type: 'atom', name: 'on_register' }, { type: 'atom', name: 'on_publish' }] });
  assert.deepEqual(parseErlangTerm('[{"redis", 26379}].'), { type: 'list', items: [{ type: 'tuple', items: [{ type: 'string', value: 'redis' }, { type: 'integer', value: 26379 }] }] });
  for (const bad of ['on_register,on_publish', '[on_register,on_publish', '[on_register on_publish]', '[{"a", 1}]]', '[On_register]', '']) {
    assert.throws(() => parseErlangTerm(bad), /bad term/, bad);
  }
});

test('a metrics listener on 0.0.0.0:8888 collides with the release\'s listener.http.default = 127.0.0.1:8888 (eaddrinuse at every start on a real broker)', () => {
  const old = dockerEnvToConf({ DOCKER_VERNEMQ_LISTENER__HTTP__METRICS: '0.0.0.0:8888' });
  assert.match(listenerCollisions(confMap(parseConf(old).entries)).join('\n'), /listener\.http\.metrics = 0\.0\.0\.0:8888 and listener\.http\.default = 127\.0\.0\.1:8888 share a port/);
  // Unset, the start script binds it to the container's own address: no collision.
  assert.deepEqual(listenerCollisions(confMap(parseConf(dockerEnvToConf({})).entries)), []);
  assert.deepEqual(listenerCollisions(new Map([['listener.http.default', '127.0.0.1:8888'], ['listener.http.metrics', '127.0.0.2:8888']])), []);
});

for (const node of ['vernemq1', 'vernemq2']) {
  test(`docker-compose.yml ${node}: the vernemq.conf its environment becomes passes every rule of the fork`, () => {
    const lines = composeConf(node);
    assert.deepEqual(brokerProblems(lines), []);
    const conf = confMap(parseConf(lines).entries);
    assert.ok(!conf.has('accept_eula'));
    // The Sentinel the broker asks for is the compose service, monitoring the master it names.
    const sentinelHost = (parseErlangTerm(conf.get('redis_sentinel_endpoints')!) as { items: { items: { value: string }[] }[] }).items[0]!.items[0]!.value;
    assert.ok(compose.services[sentinelHost], `${sentinelHost} is a compose service`);
    assert.match(JSON.stringify(compose.services[sentinelHost]!.entrypoint), new RegExp(`sentinel monitor ${conf.get('redis_sentinel_master')} redis 6379`));
    assert.match(conf.get('message_store.redis.connect_options')!, new RegExp(`\\{"${sentinelHost}", 26379\\}`));
    // Files the settings name are mounted from the repository.
    for (const key of ['vmq_trie.acl_file', 'vmq_enhanced_auth.acl_file']) {
      const file = conf.get(key)!;
      const mount = (compose.services[node]!.volumes as string[]).find((v) => v.split(':')[1] === file);
      assert.ok(mount, `${node}: ${key} ${file} is mounted`);
    }
  });
}

test('Kubernetes example: the vernemq.conf the broker container\'s environment becomes passes every rule of the fork', () => {
  const lines = k8sConf();
  assert.deepEqual(brokerProblems(lines), []);
  const conf = confMap(parseConf(lines).entries);
  // The ACL and trie files come from the ConfigMap, mounted where the settings say.
  const broker = pod.containers.find((c) => c.name === 'vernemq')!;
  const cm = k8sDocs.find((d) => d.kind === 'ConfigMap') as { metadata: { name: string }; data: Record<string, string> };
  for (const key of ['vmq_trie.acl_file', 'vmq_enhanced_auth.acl_file']) {
    const m = broker.volumeMounts!.find((v) => v.mountPath === conf.get(key));
    assert.ok(m?.subPath && cm.data[m.subPath], `${key} mounted from the ConfigMap`);
    assert.equal(pod.volumes.find((v) => v.name === m.name)!.configMap!.name, cm.metadata.name);
  }
  assert.match(cm.data['vmq.acl']!, /^topic \S+ label \S+$/m, 'labelled ACL lines: ACL names reach the events');
});

test('the ACL files: labelled lines, and they allow the demo\'s topics', () => {
  const acl = read('deploy/vernemq/vmq.acl').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  assert.ok(acl.length > 0);
  for (const l of acl) assert.match(l, /^topic (read |write )?\S+ label [A-Za-z0-9_-]+$/, l);
  // The demo's topics: demo/<device>/telemetry, demo/gateway/telemetry; the subscriber's filter.
  assert.ok(acl.some((l) => l.split(' ')[1] === 'demo/#'));
});

test('README and docs: every vernemq.conf line is a setting the schema knows, with a value it accepts; the whole-node block passes every rule', () => {
  const files = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  let blocks = 0;
  let complete = 0;
  for (const file of files) {
    for (const block of confBlocks(read(file))) {
      blocks++;
      const { entries, problems } = parseConf(block);
      assert.deepEqual(problems, [], file);
      // A hook list without on_register_failed is the 12-hook build's; both generations are documented.
      const build = entries.some((e) => e.key === 'vmq_events_sidecar.hooks' && !e.value.includes('on_register_failed')) ? TWELVE : PINNED_PLUGIN_VERSION;
      assert.deepEqual(settingProblems(entries, build), [], `${file}: ${block.join(' | ')}`);
      if (entries.some((e) => e.key === 'message_store.redis.connect_options')) {
        complete++;
        assert.deepEqual(brokerConfProblems(entries, build), [], `${file}: the whole-node block`);
      }
    }
  }
  assert.ok(blocks >= 3, `found ${blocks} vernemq.conf blocks`);
  assert.ok(complete >= 1, 'one block is a whole node\'s configuration (docs/deployment.md)');
  const hookLists = files.flatMap((f) => confBlocks(read(f)).flat()).filter((l) => l.startsWith('vmq_events_sidecar.hooks'));
  assert.ok(hookLists.some((l) => l.includes('on_register_failed')) && hookLists.some((l) => !l.includes('on_register_failed')), 'both generations documented');
});

test('each broken form the facts file records fails the rules', () => {
  const good = composeConf('vernemq1');
  assert.deepEqual(brokerProblems(good), []);
  const without = (key: string) => good.filter((l) => !l.startsWith(`${key}=`));
  const replaced = (key: string, value: string) => [...without(key), `${key}=${value}`];
  const cases: [string, string[], RegExp, typeof PINNED_PLUGIN_VERSION?][] = [
    ['DOCKER_VERNEMQ_ACCEPT_EULA=yes', dockerEnvToConf({ ...stringEnv(compose.services.vernemq1!.environment as Obj, 'vernemq1'), DOCKER_VERNEMQ_ACCEPT_EULA: 'yes' }), /accept_eula: there is no setting with that name/],
    ['the hook list without brackets', replaced('vmq_events_sidecar.hooks', 'on_register,on_publish'), /vmq_events_sidecar\.hooks: bad term/],
    ['the hook list with spaces between names', replaced('vmq_events_sidecar.hooks', 'on_register on_publish'), /vmq_events_sidecar\.hooks: bad term/],
    ['13 hooks on a 12-hook build', good, /refuses on_register_failed/, TWELVE],
    ['no message_store.redis.connect_options', without('message_store.redis.connect_options'), /vmq_server crashes at start/],
    ['connect options without the master group', replaced('message_store.redis.connect_options', '[{sentinel, [{endpoints, [{"redis-sentinel", 26379}]}]}]'), /master_group/],
    ['connect options naming another master', replaced('message_store.redis.connect_options', '[{sentinel, [{endpoints, [{"redis-sentinel", 26379}]}, {master_group, mymaster}]}]'), /is not redis_sentinel_master/],
    ['no Sentinel endpoints (the default is localhost)', without('redis_sentinel_endpoints'), /redis_sentinel_endpoints is not set/],
    ['vmq_acl off and no enhanced_auth ACL hooks', without('vmq_enhanced_auth.enable_acl_hooks'), /routes nothing/],
    ['enhanced_auth plugin off', replaced('plugins.vmq_enhanced_auth', 'off'), /routes nothing/],
    ['MQTT 5 not allowed', replaced('listener.tcp.allowed_protocol_versions', '3,4,131'), /does not allow MQTT 5/],
    ['the default reg view', without('default_reg_view'), /no_matching_subscribers/],
    ['a flag spelt yes', replaced('allow_anonymous', 'yes'), /allow_anonymous: "yes" is not on or off/],
    ['a Sentinel host unquoted', replaced('redis_sentinel_endpoints', '[{redis-sentinel, 26379}]'), /redis_sentinel_endpoints: bad term/],
  ];
  for (const [name, lines, expected, build] of cases) {
    const problems = brokerProblems(lines, build);
    assert.ok(problems.some((p) => expected.test(p)), `${name}: ${JSON.stringify(problems)}`);
  }
  // An unquoted YAML list is not a string.
  const unquoted = YAML.parse('DOCKER_VERNEMQ_VMQ_EVENTS_SIDECAR__HOOKS: [on_register,on_publish]\n') as Obj;
  assert.throws(() => stringEnv(unquoted, 'test'), /YAML list, not a string: quote it/);
});

test('authorization: which plugin the shipped settings use, and the demo\'s MQTT 5 client avoids the operation it crashes', () => {
  for (const lines of [composeConf('vernemq1'), composeConf('vernemq2'), k8sConf()]) {
    const auth = authorization(confMap(parseConf(lines).entries))!;
    assert.deepEqual(auth, { plugins: ['vmq_enhanced_auth'], mqtt5Crashes: ['publish', 'subscribe'] });
  }
  // vmq_acl alone crashes MQTT 5 subscriptions; both on, both crashes.
  assert.deepEqual(authorization(new Map([['plugins.vmq_enhanced_auth', 'off']]))!.mqtt5Crashes, ['subscribe']);
  assert.deepEqual(authorization(new Map([['vmq_enhanced_auth.enable_acl_hooks', 'true']]))!.mqtt5Crashes, ['publish', 'subscribe']);
  const demo = read('demo/index.mjs');
  const mqtt5 = /const (\w+) = connect\([^)]*, 5\)/.exec(demo);
  assert.ok(mqtt5, 'the demo has an MQTT 5 client');
  const ops = [...demo.matchAll(new RegExp(`\\b${mqtt5[1]}\\.(publish|subscribe)\\(`, 'g'))].map((m) => m[1]);
  assert.deepEqual(ops, [], 'the MQTT 5 client neither publishes nor subscribes');
});

test('Kubernetes example: the sidecar is a native sidecar that starts before the broker and outlives its drain', () => {
  const init = pod.initContainers ?? [];
  const sidecar = init.find((c) => c.name === 'vmq-otel-sidecar');
  assert.ok(sidecar, 'the sidecar is an init container');
  assert.equal(sidecar.restartPolicy, 'Always', 'restartPolicy: Always makes it a sidecar (Kubernetes 1.29+)');
  assert.ok(!pod.containers.some((c) => c.name === 'vmq-otel-sidecar'), 'not also an ordinary container');
  // Init containers start in order: nothing before it that could hold it up.
  assert.equal(init[0]!.name, 'vmq-otel-sidecar');
  const env = Object.fromEntries((sidecar.env ?? []).map((e) => [e.name, e.value]));
  const shutdownS = Number(/^(\d+)s$/.exec(String(env.VMQ_SIDECAR_SHUTDOWN_TIMEOUT))?.[1]);
  assert.ok(shutdownS > 0, 'the sidecar\'s flush time is stated');
  // The broker drains for up to 60 s, then the sidecar gets SIGTERM and flushes.
  assert.ok(pod.terminationGracePeriodSeconds! >= 60 + shutdownS, `grace ${pod.terminationGracePeriodSeconds} s covers 60 s of drain and ${shutdownS} s of flush`);
  assert.equal(env.VMQ_SIDECAR_BROKER_METRICS_URL, 'http://127.0.0.1:8888/metrics');
});
