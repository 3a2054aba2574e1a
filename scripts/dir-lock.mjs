// A lock between the set-up scripts of concurrent npm commands (the README's first minutes run
// `npm start` and `npm run simulate` in two terminals): a directory, created atomically, with
// the holder's pid inside. A lock whose process is gone is taken over. Plain Node: it runs
// before any dependency is installed.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Runs fn holding the lock at `dir`, waiting for another holder at most `waitMs`. */
export function withDirLock(dir, waitMs, what, fn) {
  const deadline = Date.now() + waitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      // Just created, its pid not written yet.
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      process.stderr.write(`${what}: ${dir} held for ${Math.round(waitMs / 60_000)} minutes by process ${holder}; remove it if none is running\n`);
      process.exit(1);
    }
    Atomics.wait(pause, 0, 0, 100);
  }
  try {
    return fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
