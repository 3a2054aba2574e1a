/**
 * --help as a new user reads it: the options in groups (listeners, outputs, logs, limits, state,
 * broker, simulator), one line each, and where the rest is (docs/configuration.md, which has the
 * same groups). Every option is in exactly one group, so none is left out of either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli-process.js';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-config.js';
import { SIMULATOR_OPTIONS } from '../../src/simulator/simulator-config.js';
import { SIDECAR_OPTION_GROUPS, SIMULATOR_OPTION_GROUPS, type OptionGroup } from '../../src/config/option-groups.js';
import type { OptionSpec } from '../../src/config/option-parser.js';

const flagsOf = (table: object) => Object.values(table as Record<string, OptionSpec<unknown>>).map((s) => s.flag);

for (const [command, table, groups] of [
  ['run', SIDECAR_OPTIONS, SIDECAR_OPTION_GROUPS],
  ['simulate', SIMULATOR_OPTIONS, SIMULATOR_OPTION_GROUPS],
] as [string, object, readonly OptionGroup[]][]) {
  test(`${command}: every option is in exactly one --help group, and every grouped flag exists`, () => {
    const grouped = groups.flatMap((g) => g.flags);
    assert.deepEqual([...grouped].sort(), [...flagsOf(table)].sort());
    assert.equal(new Set(grouped).size, grouped.length, 'no option in two groups');
  });
}

test('--help: the groups in order, each with its summary, one line per option, then where the rest is', async () => {
  const p = runCli(['--help']);
  assert.equal((await p.exited).code, 0);
  const out = p.stdout();
  const headings = out.split('\n').filter((l) => /^[A-Z][a-z]+: /.test(l) && !l.startsWith('Usage: ')).map((l) => l.split(':')[0]!.toLowerCase());
  assert.deepEqual(headings, ['listeners', 'outputs', 'logs', 'limits', 'state', 'broker', 'simulator']);
  for (const flag of flagsOf(SIDECAR_OPTIONS)) {
    assert.equal(out.split('\n').filter((l) => l.startsWith(`  --${flag} `) || l === `  --${flag}`).length, 1, `--${flag} on one line`);
  }
  assert.match(out, /^Simulator: .*\n {2}vmq-otel-sidecar simulate --help/m);
  // Defaults in brackets; an empty one is not shown.
  assert.match(out, /^ {2}--listen HOST:PORT +.*\[127\.0\.0\.1:8890\]$/m);
  assert.doesNotMatch(out, /\[\]/);
  // The environment variables by their rule, once; the reference for the rest.
  assert.match(out, /VMQ_SIDECAR_ and its name in capitals\n\(--listen: VMQ_SIDECAR_LISTEN\)/);
  assert.match(out, /docs\/configuration\.md\n$/);
  assert.ok(out.split('\n').length < flagsOf(SIDECAR_OPTIONS).length + 30, `${out.split('\n').length} lines`);
});

test('simulate --help: grouped too; an option whose variable is not named by the rule says which it reads', async () => {
  const p = runCli(['simulate', '--help']);
  assert.equal((await p.exited).code, 0);
  const out = p.stdout();
  for (const flag of flagsOf(SIMULATOR_OPTIONS)) assert.match(out, new RegExp(`^ {2}--${flag}( |$)`, 'm'));
  assert.match(out, /^ {2}--target HOST:PORT .*\(env VMQ_SIDECAR_LISTEN\)$/m);
  assert.match(out, /docs\/configuration\.md#simulator-vmq-otel-sidecar-simulate\n$/);
});

test('docs/configuration.md has a section per group, the options of each in it', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url)), 'utf8');
  for (const g of [...SIDECAR_OPTION_GROUPS, ...SIMULATOR_OPTION_GROUPS].filter((g) => g.see === undefined)) {
    const section = doc.split(`\n### ${g.name}\n`)[1]?.split('\n## ')[0]?.split('\n### ')[0];
    assert.ok(section, `### ${g.name}`);
    for (const flag of g.flags) assert.match(section, new RegExp(`^\\| \`--${flag}\` \\|`, 'm'), `--${flag} under ${g.name}`);
  }
  assert.match(doc, /^## Simulator: `vmq-otel-sidecar simulate`$/m);
});
