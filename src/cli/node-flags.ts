/**
 * Node/V8 flags the sidecar is started with: by `npm start`, the Dockerfile's ENTRYPOINT and
 * the benchmarks (test/cli/node-flags.test.ts holds the first two and `bench:fuzz` to this list). V8 reads them
 * when the heap is set up, so they cannot be applied from inside the process; an installed
 * `vmq-otel-sidecar` command takes the first from NODE_OPTIONS (docs/deployment.md).
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
 *
 * --no-concurrent-recompilation: V8 compiles optimized code on the main thread instead of on its
 * worker threads. Each worker that compiles gets a malloc arena of its own, and the compiler's
 * zones leave 2-4 MB resident in each (glibc keeps them): on Node 24.22.3 the metrics path of
 * `npm run bench:ingest` held 12-17 MB in thread arenas, 6 MB with the flag, and its peak RSS
 * went from 103-108 MB to 96-100 MB (three runs each), CPU per event unchanged within the
 * machine's noise (the compile work is the same, on another thread). The cost: a compilation
 * now stops the event loop while it runs, at most 35 ms, a few times in the first seconds under
 * load (`--trace-opt`); the sockets' kernel buffers hold the events meanwhile. Not allowed in
 * NODE_OPTIONS: an installed `vmq-otel-sidecar` command gets it only on node's command line.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--no-concurrent-recompilation'];
