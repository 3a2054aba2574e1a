/**
 * Every vmq_events_sidecar.hooks list the project ships (compose, Kubernetes example, README,
 * docs) must be one the broker it is meant for accepts: a single unknown name makes the node
 * refuse its configuration and not start. Checked against the table of plugin versions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { PINNED_PLUGIN_VERSION, PLUGIN_VERSIONS, refusedHooks } from '../helpers/plugin-versions.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

/** Comma-separated lists of three or more hook-like names, wherever they appear in a file. */
function hookLists(text: string): string[][] {
  return [...text.matchAll(/\bon_[a-z_]+(?:\s*,\s*on_[a-z_]+){2,}/g)].map((m) => m[0].split(',').map((h) => h.trim()));
}

const SHIPPED = [
  'docker-compose.yml',
  'deploy/kubernetes/vernemq-with-sidecar.yaml',
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
];

test('the version table holds the facts the README states', () => {
  const thirteen = PLUGIN_VERSIONS.filter((v) => v.hooks.includes('on_register_failed')).map((v) => v.name);
  assert.deepEqual(thirteen, ['gojek/vernemq v5.0.0', 'gojek/vernemq v5.1.0']);
  for (const v of PLUGIN_VERSIONS) {
    assert.match(v.commit, /^[0-9a-f]{40}$/, v.name);
    assert.equal(new Set(v.hooks).size, v.hooks.length, `${v.name}: no duplicates`);
    assert.ok(v.source.length > 0);
  }
  assert.equal(PLUGIN_VERSIONS.find((v) => v.repository === 'gojekfarm/vernemq')!.hooks.length, 12);
});

test('every shipped hook list is accepted by the pinned broker (gojek/vernemq v5.1.0)', () => {
  let lists = 0;
  for (const file of SHIPPED) {
    for (const list of hookLists(read(file))) {
      lists++;
      assert.deepEqual(refusedHooks(PINNED_PLUGIN_VERSION, list), [], `${file}: ${list.join(',')}`);
    }
  }
  assert.ok(lists >= 4, `found ${lists} hook lists`);
});

test('README gives a hook list that every known build accepts (for 12-hook builds)', () => {
  const lists = hookLists(read('README.md'));
  const everywhere = lists.filter((l) => PLUGIN_VERSIONS.every((v) => refusedHooks(v, l).length === 0));
  assert.ok(everywhere.length >= 1, 'a list without on_register_failed');
  assert.ok(everywhere.some((l) => l.length === 12), 'with all twelve hooks');
});

test('compose and Kubernetes example build the pinned broker by its tagged commit', () => {
  const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { build?: { context: string }; image?: string; environment?: Record<string, string> }> };
  const brokers = Object.entries(compose.services).filter(([, s]) => s.environment?.DOCKER_VERNEMQ_VMQ_EVENTS_SIDECAR__HOOKS);
  assert.equal(brokers.length, 2);
  for (const [name, svc] of brokers) {
    assert.equal(svc.build!.context, `https://github.com/${PINNED_PLUGIN_VERSION.repository}.git#${PINNED_PLUGIN_VERSION.commit}`, name);
    assert.ok(svc.image!.endsWith(`:${PINNED_PLUGIN_VERSION.tag}`), `${name}: image tag names the version`);
  }
  const k8s = read('deploy/kubernetes/vernemq-with-sidecar.yaml');
  assert.match(k8s, new RegExp(`vernemq-gojek:${PINNED_PLUGIN_VERSION.tag!.replace(/\./g, '\\.')}\\b`));
  assert.ok(k8s.includes(PINNED_PLUGIN_VERSION.commit), 'the example names the commit to build');
});
