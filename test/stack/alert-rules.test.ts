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

test('promtool test rules, central deployment: nothing fires while healthy or during a rollout; losing every connection or the clients fires once for the deployment', () => {
  assert.match(promtool('test', 'rules', 'tests/central.test.yml'), /SUCCESS/);
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

test('the runbook states each alert\'s timing as the rule\'s `for` clause', () => {
  const rules = YAML.parse(readFileSync(`${ALERTS}vmq-otel-sidecar.rules.yml`, 'utf8')) as { groups: { rules: { alert: string; for: string }[] }[] };
  const runbook = readFileSync(fileURLToPath(new URL('../../../docs/runbook.md', import.meta.url)), 'utf8');
  const sections = new Map(runbook.split(/^## /m).slice(1).map((s) => [s.slice(0, s.indexOf('\n')).trim(), s]));
  for (const r of rules.groups.flatMap((g) => g.rules)) {
    const section = sections.get(r.alert);
    assert.ok(section, `${r.alert} has a runbook section`);
    const fires = /\*\*Fires\*\*: once the condition has held for (\d+) (minute|hour)s? \(`for: (\w+)`\)/.exec(section);
    assert.ok(fires, `${r.alert}: a **Fires** line`);
    assert.equal(fires[3], r.for, `${r.alert}: runbook says for: ${fires[3]}, the rule ${r.for}`);
    assert.equal(`${fires[1]}${fires[2] === 'hour' ? 'h' : 'm'}`, r.for, `${r.alert}: runbook's words match the rule`);
    // No other "for N minutes" that could be read as the alert's delay.
    const other = /\bfor (\d+) minutes?\b/g;
    for (const m of section.replace(fires[0], '').matchAll(other)) assert.fail(`${r.alert}: the runbook also says "${m[0]}"`);
  }
});
