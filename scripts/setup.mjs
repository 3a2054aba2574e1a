#!/usr/bin/env node
// Set-up that `npm start` and `npm test` run first, so that they work as the first command on a
// fresh clone. Plain Node (no TypeScript): it runs before the compiler is installed.
//   node scripts/setup.mjs          dependencies installed and matching package-lock.json
//   node scripts/setup.mjs --tools  also the programs the tests run (protoc, prometheus, promtool,
//                                   erlc and EUnit for the MQTT 5 companion plugin)
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDirLock } from './dir-lock.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`setup: ${line}\n`);

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (r.status !== 0) {
    say(`${cmd} ${args.join(' ')} failed${r.error ? `: ${r.error.message}` : ''}`);
    process.exit(1);
  }
}

// npm writes node_modules/.package-lock.json on every install: missing, or older than the
// lockfile (a fresh clone, a pull that changed dependencies), means node_modules is stale.
function dependencies() {
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  const current = () => existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs;
  if (current()) return;
  // One npm ci at a time: a second one started meanwhile (npm start and npm run simulate typed
  // together on a fresh clone) would delete node_modules under the first. It waits, then finds
  // the dependencies installed.
  withDirLock(join(root, 'node_modules.lock'), 600_000, 'setup', () => {
    if (current()) return;
    say(existsSync(installed) ? 'package-lock.json changed: npm ci' : 'no dependencies installed yet: npm ci');
    run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund']);
  });
}

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** erl, erlc and EUnit with its header (test/mqtt5/ compiles plugin/vmq_events_sidecar_m5 and runs its EUnit tests). */
function erlangReady() {
  if (!onPath('erl') || !onPath('erlc')) return false;
  const check = 'halt(case filelib:is_file(filename:join(code:lib_dir(eunit), "include/eunit.hrl")) of true -> 0; false -> 1 end).';
  return spawnSync('erl', ['-noshell', '-eval', check], { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/**
 * Debian packages the tests need, for what is missing: protoc with the well-known .proto files,
 * Prometheus with promtool, Erlang/OTP with EUnit.
 */
function missingPackages() {
  const need = [];
  if (!onPath('protoc')) need.push('protobuf-compiler');
  if (!existsSync('/usr/include/google/protobuf/any.proto')) need.push('libprotobuf-dev');
  if (!onPath('prometheus') || !onPath('promtool')) need.push('prometheus');
  if (!erlangReady()) need.push('erlang-nox', 'erlang-dev', 'erlang-eunit');
  return need;
}

function tools() {
  const need = missingPackages();
  if (need.length === 0) return;
  const canInstall = existsSync('/etc/debian_version') && process.getuid?.() === 0 && onPath('apt-get');
  if (!canInstall) {
    say(`the tests need programs that are missing; install the packages: ${need.join(' ')} (Debian/Ubuntu: sudo apt-get install ${need.join(' ')})`);
    process.exit(1);
  }
  say(`installing: ${need.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

dependencies();
if (process.argv.includes('--tools')) tools();
