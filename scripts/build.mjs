#!/usr/bin/env node
// `npm run build`, run first by `npm start`, `npm run simulate`, `npm test` and the benches.
//
// The compiler writes into a directory of its own, which then replaces dist in two renames: the
// README's first minutes run `npm start` and `npm run simulate` in two terminals, and a build
// that deleted dist and recompiled in place (6 s) made the other command's `node dist/...` fail
// with "Cannot find module". One build at a time (dist.lock); the one that waited finds dist up
// to date and compiles nothing. Nothing is compiled when dist was built from the same files,
// none changed since: the list of inputs is kept with the build, so a deleted test does not
// live on. (proto/ is read at run time from the package root, not from dist: not an input.)
//   node scripts/build.mjs            build unless dist is up to date
//   node scripts/build.mjs --force    build anyway
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDirLock } from './dir-lock.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stampName = '.build-inputs.json';

/** What tsconfig.json compiles, plus the files that change how. */
function inputs() {
  const files = ['tsconfig.json', 'package.json', 'package-lock.json'].filter((f) => existsSync(join(root, f)));
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(path);
    }
  };
  for (const dir of ['src', 'test', 'bench', 'scripts']) if (existsSync(join(root, dir))) walk(dir);
  return files.sort();
}

function upToDate(files) {
  const stamp = join(dist, stampName);
  if (!existsSync(stamp)) return false;
  let built;
  try {
    built = JSON.parse(readFileSync(stamp, 'utf8'));
  } catch {
    return false;
  }
  if (JSON.stringify(built.files) !== JSON.stringify(files)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  return files.every((f) => statSync(join(root, f)).mtimeMs <= builtAt);
}

function build(files) {
  // The stamp carries the time the build started: a file saved while it ran is newer.
  const startedAt = new Date();
  const out = join(root, `dist.build-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', root, '--outDir', out], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    return r.status ?? 1;
  }
  writeFileSync(join(out, stampName), JSON.stringify({ files }));
  utimesSync(join(out, stampName), startedAt, startedAt);
  const old = join(root, `dist.old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  try {
    renameSync(out, dist);
  } catch (err) {
    // Put the previous build back rather than leave no dist.
    if (existsSync(old) && !existsSync(dist)) renameSync(old, dist);
    rmSync(out, { recursive: true, force: true });
    process.stderr.write(`build: could not move the new build into place: ${err.message}\n`);
    return 1;
  }
  rmSync(old, { recursive: true, force: true });
  return 0;
}

const force = process.argv.includes('--force');
if (!force && upToDate(inputs())) process.exit(0);
const status = withDirLock(join(root, 'dist.lock'), 180_000, 'build', () => {
  // Another build may have finished while this one waited.
  const files = inputs();
  return force || !upToDate(files) ? build(files) : 0;
});
process.exit(status);
