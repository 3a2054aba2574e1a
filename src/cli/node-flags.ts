/**
 * Node/V8 flags the sidecar is started with: by `npm start`, the Dockerfile's ENTRYPOINT and
 * the benchmarks (test/cli/node-flags.test.ts holds the first two and `bench:fuzz` to this list). V8 reads them
 * when the heap is set up, so they cannot be applied from inside the process; an installed
 * `vmq-otel-sidecar` command takes them from NODE_OPTIONS.
 *
 * --max-semi-space-size=2: the young generation's semi-spaces at 2 MiB instead of up to 32 MiB
 * on Node 24 (16 MiB on Node 20; a loop of short-lived objects grows the new space to 64 MiB on
 * 24.22.3, 4 MiB with the flag). Nearly everything the hot path allocates dies young, so scavenges
 * stay as cheap and the heap holds far less garbage between them. Measured on Node 20 with
 * `npm run bench:ingest` (1M events, 100 connections, metrics path, three runs each): peak RSS
 * 134-143 MB with Node's
 * default, 89-109 MB with 2 MiB, and CPU per event 1.49-1.71 us against 1.31-1.49 us. On the
 * gRPC transport it is a trade (`npm run bench:grpc`, three runs each): peak RSS 126-130 MB
 * instead of 177-180 MB, CPU 3.9-4.1 s instead of 3.6-3.7 s per 60,000 calls (grpc-js keeps
 * each call's objects alive across a few callbacks, long enough to be promoted), same calls/s.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
