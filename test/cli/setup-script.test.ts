/**
 * scripts/setup.mjs --run, which every npm script (start, test, simulate, bench:*, docs) goes
 * through: the command runs on the supported Node (the one running setup when it is recent
 * enough, else the one in .runtime/), exits as the command does, and gets a signal once. Run on a
 * one-file project in a temp dir; the Node in .runtime/ is put there beforehand (a link to this
 * Node), so nothing is downloaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { eventually } from '../helpers/eventually.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const { PINNED_NODE } = (await import(pathToFileURL(path.join(repo, 'scripts', 'runtime.mjs')).href)) as { PINNED_NODE: string };

function project(engines: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'setup-script-'));
  mkdirSync(path.join(dir, 'scripts'));
  mkdirSync(path.join(dir, 'src'));
  for (const f of ['setup.mjs', 'runtime.mjs', 'dir-lock.mjs', 'build.mjs']) cpSync(path.join(repo, 'scripts', f), path.join(dir, 'scripts', f));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', engines: { node: engines } }));
  writeFileSync(path.join(dir, 'package-lock.json'), '{}');
  // Installed dependencies, newer than the lockfile: setup runs no npm ci. The compiler is the repo's.
  mkdirSync(path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'node_modules', '.package-lock.json'), '{}');
  symlinkSync(path.join(repo, 'node_modules', 'typescript'), path.join(dir, 'node_modules', 'typescript'));
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', outDir: 'dist', rootDir: '.', types: [] }, include: ['src/**/*.ts'] }));
  writeFileSync(path.join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
  return dir;
}

const setup = (dir: string, command: string[]) => spawnSync(process.execPath, [path.join(dir, 'scripts', 'setup.mjs'), '--run', ...command], { cwd: dir, encoding: 'utf8' });

test('a current Node runs the command itself, PATH as it was; the command\'s exit status is the script\'s', () => {
  const dir = project('>=22.15.0');
  try {
    const r = setup(dir, ['node', '-p', 'JSON.stringify([process.execPath, process.env.PATH])']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing to say');
    assert.deepEqual(JSON.parse(r.stdout), [process.execPath, process.env.PATH]);
    assert.equal(setup(dir, ['node', '-e', 'process.exit(3)']).status, 3);
    assert.equal(setup(dir, ['node', '-e', 'process.kill(process.pid, "SIGKILL")']).signal, 'SIGKILL');
    assert.equal(setup(dir, ['npm', 'start']).status, 64, '--run takes a node command line');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an older Node than engines asks for runs the command on the Node in .runtime/, first on its PATH', () => {
  // This Node is older than 99.0.0; the one in .runtime/ stands in for the registry's.
  const dir = project('>=99.0.0');
  try {
    const bin = path.join(dir, '.runtime', `node-${process.platform}-${process.arch}-${PINNED_NODE}`, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = setup(dir, ['node', '-p', 'process.env.PATH.split(require("node:path").delimiter)[0]']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), bin);
    assert.equal(r.stderr, '', 'installed already: nothing to say');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM to the script, or Ctrl-C to the terminal\'s process group, reaches the command once', async () => {
  const dir = project('>=22.15.0');
  try {
    const log = path.join(dir, 'signals.txt');
    writeFileSync(log, '');
    // A command that notes each signal, says when it listens, and exits 0 a little after the first.
    const command = `const fs = require('node:fs'); for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { fs.appendFileSync(${JSON.stringify(log)}, s + '\\n'); setTimeout(() => process.exit(0), 300); }); console.log('ready'); setInterval(() => {}, 1000);`;
    for (const [signal, toGroup] of [['SIGTERM', false], ['SIGINT', true]] as const) {
      writeFileSync(log, '');
      // Its own process group, as a shell gives a job in a terminal.
      const p = spawn(process.execPath, [path.join(dir, 'scripts', 'setup.mjs'), '--run', 'node', '-e', command], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
      await eventually(() => assert.match(out, /ready/), 30_000);
      process.kill(toGroup ? -p.pid! : p.pid!, signal);
      assert.equal(await exited, 0);
      assert.deepEqual(readFileSync(log, 'utf8').split('\n').filter(Boolean), [signal], `${signal} ${toGroup ? 'to the group' : 'to the script'}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
