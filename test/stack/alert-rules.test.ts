import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const ALERTS = fileURLToPath(new URL('../../../alerts/', import.meta.url));

function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { cwd: ALERTS, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    assert.fail(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

test('promtool check rules accepts the alert rules', () => {
  assert.match(promtool('check', 'rules', 'vmq-otel-sidecar.rules.yml'), /SUCCESS: \d+ rules found/);
});

test('promtool test rules: every alert fires on its trouble and stays silent otherwise', () => {
  assert.match(promtool('test', 'rules', 'tests/vmq-otel-sidecar.test.yml'), /SUCCESS/);
});

test('every alert has a test scenario, a summary, a description and a runbook section', () => {
  const rules = YAML.parse(readFileSync(`${ALERTS}vmq-otel-sidecar.rules.yml`, 'utf8')) as { groups: { rules: { alert: string; annotations: Record<string, string> }[] }[] };
  const tests = readFileSync(`${ALERTS}tests/vmq-otel-sidecar.test.yml`, 'utf8');
  const runbook = readFileSync(fileURLToPath(new URL('../../../docs/runbook.md', import.meta.url)), 'utf8').toLowerCase();
  for (const r of rules.groups.flatMap((g) => g.rules)) {
    assert.match(tests, new RegExp(`alertname: ${r.alert}\\b`), `${r.alert} has a promtool test`);
    assert.ok(r.annotations.summary && r.annotations.description, `${r.alert} annotations`);
    const anchor = r.annotations.runbook!.split('#')[1]!;
    assert.equal(anchor, r.alert.toLowerCase());
    assert.ok(runbook.includes(`## ${r.alert.toLowerCase()}`), `${r.alert} has a runbook section`);
  }
});
