#!/usr/bin/env node
// Set-up that every npm script (start, test, simulate, bench:*, docs) runs first, so that each
// works as the first command on a fresh clone. Plain Node (no TypeScript) that runs on Node 20:
// it runs before the compiler is installed, on whatever Node the system has.
//   node scripts/setup.mjs              a supported Node (runtime.mjs), dependencies installed
//                                       and matching package-lock.json
//   node scripts/setup.mjs --tools      also the programs the tests run (protoc, prometheus, promtool,
//                                       erlc and EUnit for the MQTT 5 companion plugin)
//   node scripts/setup.mjs [--tools] --run node ARGS...
//                                       then build (scripts/build.mjs) and run `node ARGS...` on
//                                       the supported Node; exits as that process does
// With a current Node on PATH, the supported Node is that one and nothing changes. With an older
// one, a Node from the npm registry runs the build, the command and whatever that command starts
// by name (its directory goes first on the command's PATH).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDirLock } from './dir-lock.mjs';
import { supportedNode } from './runtime.mjs';

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
function dependencies(node) {
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
    // npm itself on the supported Node, so that it does not warn about every package's engines;
    // errors only, the line above says what is happening.
    const npm = process.env.npm_execpath;
    if (npm && /\.[cm]?js$/.test(npm) && existsSync(npm)) run(node.execPath, [npm, 'ci', '--no-audit', '--no-fund', '--loglevel=error']);
    else run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { env: node.env });
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

/** Builds, then runs `node ARGS...` on the supported Node and exits as it does. */
function buildAndRun(node, command) {
  if (command[0] !== 'node') {
    say(`--run takes a node command line (node ARGS...), not: ${command.join(' ')}`);
    process.exit(64);
  }
  const build = spawnSync(node.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit', env: node.env });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const child = spawn(node.execPath, command.slice(1), { stdio: 'inherit', env: node.env });
  // Ctrl-C and a closed terminal reach the command directly (one process group): passing SIGINT
  // or SIGHUP on as well would be a second signal, which makes the sidecar stop without
  // draining. SIGTERM is sent to this process alone (kill PID), so it is passed on.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGHUP', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (err) => {
    say(`could not start ${node.execPath}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

const runAt = process.argv.indexOf('--run');
const options = runAt < 0 ? process.argv.slice(2) : process.argv.slice(2, runAt);
const node = supportedNode(root, say);
node.env = node.installed
  ? { ...process.env, PATH: `${dirname(node.execPath)}${delimiter}${process.env.PATH ?? ''}` }
  : process.env;
dependencies(node);
if (options.includes('--tools')) tools();
if (runAt >= 0) buildAndRun(node, process.argv.slice(runAt + 1));
