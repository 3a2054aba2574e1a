/**
 * scripts/build.mjs, which `npm start`, `npm run simulate` and `npm test` run first: dist is
 * swapped in whole, never half-deleted; an unchanged tree is not compiled again; a deleted
 * source does not live on in dist. Run on a two-file project in a temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'build-script-'));
  mkdirSync(path.join(dir, 'scripts'));
  mkdirSync(path.join(dir, 'src'));
  mkdirSync(path.join(dir, 'test'));
  for (const f of ['build.mjs', 'dir-lock.mjs']) cpSync(path.join(repo, 'scripts', f), path.join(dir, 'scripts', f));
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', outDir: 'dist', rootDir: '.', types: [] }, include: ['src/**/*.ts', 'test/**/*.ts'] }));
  writeFileSync(path.join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(path.join(dir, 'test', 'b.test.ts'), 'export const b = 2;\n');
  return dir;
}

function build(dir: string): void {
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts', 'build.mjs')], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
}

test('build: compiles into dist, skips an unchanged tree, rebuilds on a change or a deleted file', () => {
  const dir = project();
  try {
    build(dir);
    const stamp = path.join(dir, 'dist', '.build-inputs.json');
    assert.ok(existsSync(path.join(dir, 'dist', 'src', 'a.js')));
    assert.ok(existsSync(path.join(dir, 'dist', 'test', 'b.test.js')));
    // Back-date the build, so that "newer" below does not depend on the clock's resolution.
    const past = new Date(Date.now() - 60_000);
    utimesSync(stamp, past, past);
    for (const f of ['tsconfig.json', 'src/a.ts', 'test/b.test.ts']) utimesSync(path.join(dir, f), past, past);

    build(dir);
    assert.equal(Math.round(statSync(stamp).mtimeMs), past.getTime(), 'nothing changed: not compiled again');

    writeFileSync(path.join(dir, 'src', 'a.ts'), 'export const a = 3;\n');
    build(dir);
    assert.notEqual(Math.round(statSync(stamp).mtimeMs), past.getTime(), 'a changed source: compiled again');

    rmSync(path.join(dir, 'test', 'b.test.ts'));
    build(dir);
    assert.ok(!existsSync(path.join(dir, 'dist', 'test', 'b.test.js')), 'a deleted test is gone from dist too');
    assert.deepEqual(
      spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n.startsWith('dist')),
      ['dist'],
      'no build or old directories left behind',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
