#!/usr/bin/env node
// `npm run build`, run first by `npm start`, `npm run simulate`, `npm test` and the benches.
//
// The compiler writes into a directory of its own, which then replaces dist in two renames: the
// README's first minutes run `npm start` and `npm run simulate` in two terminals, and a build
// that deleted dist and recompiled in place (6 s) made the other command's `node dist/...` fail
// with "Cannot find module". Nothing is compiled when dist was built from the same files, none
// changed since: the list of inputs is kept with the build, so a deleted test does not live on.
//   node scripts/build.mjs            build unless dist is up to date
//   node scripts/build.mjs --force    build anyway
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const files = inputs();
if (!process.argv.includes('--force') && upToDate(files)) process.exit(0);

// The stamp carries the time the build started: a file saved while it ran is newer.
const startedAt = new Date();
const out = join(root, `dist.build-${process.pid}`);
rmSync(out, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', root, '--outDir', out], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(out, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
writeFileSync(join(out, stampName), JSON.stringify({ files }));
utimesSync(join(out, stampName), startedAt, startedAt);

// The swap. Another build may swap in between; its output is the same, so losing the race is fine.
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
try {
  renameSync(out, dist);
} catch {
  rmSync(out, { recursive: true, force: true });
}
rmSync(old, { recursive: true, force: true });
if (!existsSync(dist)) {
  process.stderr.write(`build: ${relative(process.cwd(), dist)} is missing after the swap\n`);
  process.exit(1);
}
