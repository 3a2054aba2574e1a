/**
 * The Node flags the sidecar runs with (src/cli/node-flags.ts) are the ones `npm start` and the
 * container image pass, and they take effect on this Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

test('npm start, the Dockerfile and bench:fuzz (the sidecar in the bench process) run with NODE_FLAGS', () => {
  const pkg = JSON.parse(readFileSync(root('package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.start!, new RegExp(`node ${NODE_FLAGS.join(' ')} dist/src/cli/main\\.js$`));
  assert.match(pkg.scripts['bench:fuzz']!, new RegExp(`node ${NODE_FLAGS.join(' ')} dist/bench/fuzz-bench\\.js$`));
  const entrypoint = /^ENTRYPOINT (.*)$/m.exec(readFileSync(root('Dockerfile'), 'utf8'))?.[1];
  assert.deepEqual(JSON.parse(entrypoint ?? 'null'), ['node', ...NODE_FLAGS, 'dist/src/cli/main.js']);
});

test('the young generation is as small as the flags say', () => {
  const out = spawnSync(process.execPath, [...NODE_FLAGS, '-p', "require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size"], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  // Two semi-spaces of --max-semi-space-size MiB at most (Node 24's default: up to two of 32 MiB).
  const semiMiB = Number(/--max-semi-space-size=(\d+)/.exec(NODE_FLAGS.join(' '))![1]);
  assert.ok(Number(out.stdout) <= 2 * semiMiB * 1024 * 1024, `new space ${out.stdout.trim()} bytes`);
});
