// npm test's runner: every compiled *.test.js under dist/test, four files at a time, each in a
// process of its own, reported as TAP on stdout.
//
// Through node:test's run() rather than `node --test dist/test/`: a directory argument runs every
// file under it (the helpers too) as a test file. Each file runs on the Node running this script
// (process.execPath): `npm test` starts it on the supported Node (scripts/setup.mjs).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';

const root = fileURLToPath(new URL('../dist/test/', import.meta.url));
const files = readdirSync(root, { recursive: true, withFileTypes: false })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join(root, f));
if (files.length === 0) {
  console.error(`run-tests: no *.test.js under ${root}; run the build first`);
  process.exit(1);
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? 4);
const stream = run({ files, concurrency });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
