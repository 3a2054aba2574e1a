/**
 * Cost of mqtt.client.group per event: ClientGrouper.group() over a population of client ids,
 * with 20 patterns (client id prefixes, globs, username patterns), against no patterns.
 *
 *   npm run build && node dist/bench/client-grouper-bench.js [clients=100000] [calls=5000000]
 *
 * Prints ns per call and heap growth; the steady state (every client seen once) should not
 * allocate, so heap growth after warm-up stays near zero.
 */
import { ClientGrouper, parseClientGroups } from '../src/metrics/client-grouper.js';

const CLIENTS = Number(process.argv[2] ?? 100_000);
const CALLS = Number(process.argv[3] ?? 5_000_000);

const patterns = [
  ...Array.from({ length: 10 }, (_, i) => `client:line${i}-*=line${i}`),
  ...Array.from({ length: 5 }, (_, i) => `client:*-site${i}-??=site${i}`),
  ...Array.from({ length: 5 }, (_, i) => `user:tenant${i}/*=tenant${i}`),
].join(',');

const ids = Array.from({ length: CLIENTS }, (_, i) => (i % 3 === 0 ? `line${i % 12}-${i}` : i % 3 === 1 ? `dev-${i}-site${i % 6}-ab` : `other-${i}`));
const users = Array.from({ length: CLIENTS }, (_, i) => `tenant${i % 7}/u${i}`);

function run(label: string, g: ClientGrouper): void {
  // Warm-up: every client once (fills the table), then measure the steady state.
  for (let i = 0; i < CLIENTS; i++) g.group(ids[i]!, users[i]!);
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let n = 0; n < CALLS; n++) {
    const i = n % CLIENTS;
    // Half the events carry a username (register, publish), half do not (wakeup, drop).
    sink += g.group(ids[i]!, n & 1 ? users[i]! : undefined).length;
  }
  const ns = Number(process.hrtime.bigint() - t0) / CALLS;
  const grew = (process.memoryUsage().heapUsed - heap0) / 1024 / 1024;
  console.log(`${label}: ${ns.toFixed(1)} ns/call, heap +${grew.toFixed(2)} MiB over ${CALLS} calls (checksum ${sink})`);
}

{
  // Memory of the remembered-username table per client (the id and username strings are the
  // events' own and not counted: they exist anyway while the event is processed).
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const g = new ClientGrouper(parseClientGroups(patterns), CLIENTS);
  for (let i = 0; i < CLIENTS; i++) g.group(ids[i]!, users[i]!);
  global.gc?.();
  console.log(`table: ${((process.memoryUsage().heapUsed - before) / CLIENTS).toFixed(0)} bytes per client (${g.group(ids[0]!)})`);
}
run('no patterns', new ClientGrouper([]));
run('20 patterns, steady state', new ClientGrouper(parseClientGroups(patterns), CLIENTS));
run('20 patterns, table of 1000 (every call a miss)', new ClientGrouper(parseClientGroups(patterns), 1000));
