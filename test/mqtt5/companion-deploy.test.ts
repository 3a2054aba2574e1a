/**
 * The compose stack and the Kubernetes example load the companion plugin: the sidecar image
 * compiles it (Dockerfile stage "plugin", build.sh), an init step copies it into a volume, and
 * the broker mounts that volume where plugins.vmq_events_sidecar_m5.path points, with the plugin on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
type Obj = Record<string, unknown>;

const IMAGE_PLUGIN_DIR = '/app/plugin/vmq_events_sidecar_m5';

test('Dockerfile: a stage compiles the plugin with build.sh and the image carries its ebin/', () => {
  const df = read('Dockerfile');
  const stage = /^FROM \S+ AS plugin$([\s\S]*?)^FROM /m.exec(df)?.[1] ?? '';
  assert.match(stage, /COPY plugin\/vmq_events_sidecar_m5 /);
  assert.match(stage, /sh vmq_events_sidecar_m5\/build\.sh/);
  assert.match(stage, /erlang-base/);
  assert.match(df, new RegExp(`^COPY --from=plugin /plugin/vmq_events_sidecar_m5/ebin \\./plugin/vmq_events_sidecar_m5/ebin$`, 'm'));
  // WORKDIR /app in the final stage: the copy lands in IMAGE_PLUGIN_DIR.
  assert.match(df.slice(df.lastIndexOf('\nFROM ')), /^WORKDIR \/app$/m);
});

test('docker-compose.yml: both broker nodes load the plugin the init service copies out of the sidecar image', () => {
  const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Obj>; volumes: Record<string, unknown> };
  const init = compose.services['vmq-m5-plugin']!;
  assert.equal(init.image, compose.services.sidecar1!.image, 'the sidecar image');
  const [volume, target] = (init.volumes as string[])[0]!.split(':') as [string, string];
  assert.ok(volume in compose.volumes);
  assert.match(JSON.stringify(init.entrypoint), new RegExp(`cp -R ${IMAGE_PLUGIN_DIR}/\\. ${target}/`));
  for (const node of ['vernemq1', 'vernemq2']) {
    const svc = compose.services[node]!;
    const env = svc.environment as Obj;
    assert.equal(env.DOCKER_VERNEMQ_PLUGINS__VMQ_EVENTS_SIDECAR_M5, 'on', node);
    const pluginPath = String(env.DOCKER_VERNEMQ_PLUGINS__VMQ_EVENTS_SIDECAR_M5__PATH);
    assert.ok((svc.volumes as string[]).includes(`${volume}:${pluginPath}:ro`), `${node} mounts the plugin at ${pluginPath}`);
    assert.deepEqual((svc.depends_on as Record<string, Obj>)['vmq-m5-plugin'], { condition: 'service_completed_successfully' }, node);
  }
});

test('Kubernetes example: an init container copies the plugin into a volume the broker container loads it from', () => {
  const docs = YAML.parseAllDocuments(read('deploy/kubernetes/vernemq-with-sidecar.yaml')).map((d) => d.toJS() as Obj);
  const pod = (docs.find((d) => d.kind === 'StatefulSet') as { spec: { template: { spec: Obj } } }).spec.template.spec;
  const init = (pod.initContainers as Obj[]).find((c) => c.name === 'vmq-events-sidecar-m5')!;
  const sidecar = (pod.containers as Obj[]).find((c) => c.name === 'vmq-otel-sidecar')!;
  const broker = (pod.containers as Obj[]).find((c) => c.name === 'vernemq')!;
  assert.equal(init.image, sidecar.image);
  const initMount = (init.volumeMounts as { name: string; mountPath: string }[])[0]!;
  assert.match(JSON.stringify(init.command), new RegExp(`cp -R ${IMAGE_PLUGIN_DIR}/\\. ${initMount.mountPath}/`));
  const env = Object.fromEntries((broker.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  assert.equal(env.DOCKER_VERNEMQ_PLUGINS__VMQ_EVENTS_SIDECAR_M5, 'on');
  const brokerMount = (broker.volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[]).find((m) => m.name === initMount.name)!;
  assert.equal(brokerMount.mountPath, env.DOCKER_VERNEMQ_PLUGINS__VMQ_EVENTS_SIDECAR_M5__PATH);
  assert.ok((pod.volumes as { name: string }[]).some((v) => v.name === initMount.name));
});
