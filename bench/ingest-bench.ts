/**
 * Ingest benchmark: one sidecar process (a child, as deployed) fed by the simulator over
 * loopback with pre-encoded frames, so the simulator's own cost is not in the figures.
 *
 *   npm run bench:ingest -- [events=1000000] [connections=100] [modes=decode,metrics,logs] [warmup=0]
 *
 * Modes (the sidecar's configuration in each):
 *   decode   metrics and log records off (OTEL_*_EXPORTER=none): receive, frame, decode
 *   metrics  every metric, exported over OTLP/http-protobuf every second to a local endpoint
 *            that discards them, no log records; run next to the Go peer (bench/go-peer/, a
 *            sidecar that frames and fully decodes every event and exports nothing) fed the
 *            same way, and the ratio sidecar / Go printed
 *   logs     every metric, plus a log record for every event of every hook, exported over
 *            OTLP/http-protobuf to a local HTTP endpoint in this process that accepts and
 *            discards them; the queue bounded by --log-queue-max-bytes only (default 64 MiB)
 *   logs@N   the same with the events offered at N events/s (e.g. logs@100000)
 *   spans    as metrics (on /metrics, not pushed), plus the broker hop's spans of the traced
 *            messages (the simulator puts a sampled traceparent in 30 % of its JSON payloads)
 *            exported over OTLP/http-protobuf to the discarding endpoint
 * Prints events/s, MB/s, the sidecar's CPU and peak RSS, and the floor: the same frames framed
 * and decoded in a bare loop in this process, with no sockets.
 *
 * warmup > 0: each process (sidecar and Go peer alike) first gets that many events of another
 * seed over other connections, and only the run after is measured: the steady state of a
 * process that has been up a while, JIT compilation done, rather than its first second.
 */
import { spawn } from 'node:child_process';
import { ClientModel, type SimEvent } from '../src/simulator/client-model.js';
import { FrameEncoder } from '../src/simulator/frame-encoder.js';
import { FrameDecoder } from '../src/framing/frame-decoder.js';
import { EventDecoder } from '../src/decoding/event-decoder.js';
import { runSimulator } from '../src/simulator/simulator.js';
import { startBenchSidecar } from './bench-sidecar.js';
import { startGoPeer } from './go-peer.js';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const CONNECTIONS = Number(process.argv[3] ?? 100);
const MODES = (process.argv[4] ?? 'decode,metrics,logs').split(',');
const WARMUP = Number(process.argv[5] ?? 0);
for (const [name, v] of [['events', EVENTS], ['connections', CONNECTIONS], ['warmup', WARMUP]] as const) {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: ${process.argv.slice(2).join(' ')}: expected a whole number`);
}

/** The warm-up's events (another seed, connections of its own); 0 when there is none. */
async function warmUp(port: number): Promise<number> {
  if (WARMUP <= 0) return 0;
  const s = await runSimulator({ target: { host: '127.0.0.1', port }, connections: CONNECTIONS, clients: 10_000, seed: 2, rate: 0, events: WARMUP, preencode: true });
  return s.total;
}

function floor(): { eventsPerSec: number; mbPerSec: number; avgFrame: number } {
  const model = new ClientModel({ clients: 10_000, seed: 1 });
  const encoder = new FrameEncoder();
  const frames: Buffer[] = [];
  const emit = (e: SimEvent) => {
    frames.push(encoder.encodeFrame(e));
  };
  while (frames.length < 300_000) model.step(emit);
  const stream = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
  const decoder = new EventDecoder();
  let decoded = 0;
  const framer = new FrameDecoder({
    onFrame: (buf, s, e) => {
      if (decoder.decode(buf, s, e, 0) !== null) decoded++;
    },
    onOversizedFrame: () => {},
    onUnframeable: () => {},
  });
  let best = 0;
  for (let round = 0; round < 6; round++) {
    decoded = 0;
    const t0 = performance.now();
    for (const c of chunks) framer.push(c);
    const rate = decoded / ((performance.now() - t0) / 1000);
    if (round > 0) best = Math.max(best, rate); // round 0 warms up
  }
  return { eventsPerSec: best, mbPerSec: (best * stream.length) / frames.length / 1e6, avgFrame: stream.length / frames.length };
}

/** The discarding collector, run as its own process: GET /count answers the requests so far. */
const COLLECTOR = `
const http = require('node:http');
let requests = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') return res.end(String(requests));
  req.resume();
  req.on('end', () => { requests++; res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(); });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/**
 * Accepts OTLP exports and throws them away, counting requests. A process of its own, as a
 * collector is: in the benchmark's process it would compete with the simulator for its event
 * loop and answer late when the simulator encodes frames as it sends them (logs@N).
 */
async function discardingCollector(): Promise<{ port: number; requests: () => Promise<number>; close: () => void }> {
  const child = spawn(process.execPath, ['-e', COLLECTOR], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return {
    port,
    requests: async () => Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text()),
    close: () => child.kill(),
  };
}

async function endToEnd(mode: string): Promise<Record<string, number>> {
  const collector = mode !== 'decode' ? await discardingCollector() : null;
  const env: Record<string, string> = {};
  const args: string[] = [];
  if (mode === 'decode') Object.assign(env, { OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' });
  if (mode === 'metrics') {
    Object.assign(env, {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
      // An OTLP endpoint turns spans on too: this mode measures the metrics path alone.
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector!.port}`,
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
    });
  }
  if (mode === 'spans') {
    Object.assign(env, {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector!.port}`,
      OTEL_BSP_MAX_QUEUE_SIZE: '1000000',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
  }
  if (mode.startsWith('logs')) {
    Object.assign(env, {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector!.port}`,
      // Bounded by --log-queue-max-bytes (default 64 MiB), not by a record count.
      OTEL_BLRP_MAX_QUEUE_SIZE: '10000000',
      OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '4096',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
    });
    args.push('--log-hooks', 'all');
  }
  const sidecar = await startBenchSidecar(args, env);
  const warm = await warmUp(sidecar.port);
  // After a warm-up: its log records exported (or dropped) before the run starts, and the
  // counts so far kept, to be taken off the run's.
  let base = { emitted: 0, exported: 0, dropped: 0, requests: 0 };
  if (warm > 0) {
    await sidecar.waitForEvents(warm);
    let w = await sidecar.status();
    while (w.logs && w.logs.queued > 0) {
      await new Promise((r) => setTimeout(r, 20));
      w = await sidecar.status();
    }
    base = { emitted: w.logs?.emitted ?? 0, exported: w.logs?.exported ?? 0, dropped: droppedOf(w), requests: (await collector?.requests()) ?? 0 };
  }
  const before = sidecar.cpu();
  // logs@RATE: the events offered at RATE events/s instead of as fast as possible.
  const rate = mode.includes('@') ? Number(mode.split('@')[1]) : 0;
  // (Paced, frames are encoded as they are sent: the simulator's pacing needs it.)
  const summary = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: CONNECTIONS, clients: 10_000, seed: 1, rate, events: EVENTS, preencode: rate === 0 });
  const sendStart = performance.now() - summary.seconds * 1000;
  const doneAt = await sidecar.waitForEvents(warm + summary.total);
  const after = sidecar.cpu();
  const sec = (doneAt - sendStart) / 1000;
  const rss = sidecar.peakRssMb();
  let s = await sidecar.status();
  // Logs: wait until every record is exported or dropped, and count the time that took too.
  let logSec = 0;
  if (mode.startsWith('logs')) {
    const waitFrom = performance.now();
    while (s.logs && s.logs.queued > 0 && performance.now() - waitFrom < 300_000) {
      await new Promise((r) => setTimeout(r, 20));
      s = await sidecar.status();
    }
    await new Promise((r) => setTimeout(r, 500));
    s = await sidecar.status();
    logSec = (performance.now() - sendStart) / 1000;
  }
  const finalRss = sidecar.peakRssMb();
  await sidecar.stop();
  const collectorRequests = ((await collector?.requests()) ?? 0) - base.requests;
  collector?.close();
  const dropped = droppedOf(s) - base.dropped;
  return {
    sent: summary.total,
    received: s.events.total - warm,
    seconds: sec,
    eventsPerSec: summary.total / sec,
    warm,
    mbPerSec: summary.bytes / sec / 1e6,
    userSec: after.userSec - before.userSec,
    sysSec: after.sysSec - before.sysSec,
    peakRssMb: Math.max(rss, finalRss),
    logsEmitted: (s.logs?.emitted ?? 0) - base.emitted,
    logsExported: (s.logs?.exported ?? 0) - base.exported,
    logsDropped: dropped,
    logSec,
    collectorRequests,
    spansProduced: s.spans?.produced ?? 0,
    spansDropped: s.spans ? Object.values(s.spans.dropped ?? {}).reduce((a, b) => a + b, 0) : 0,
  };
}

function droppedOf(s: { logs: { dropped: Record<string, number> } | null }): number {
  return s.logs ? Object.values(s.logs.dropped).reduce((a, b) => a + b, 0) : 0;
}

/** The Go peer fed exactly like the sidecar; null when Go is not installed. */
async function goPeer(): Promise<Record<string, number> | null> {
  const peer = await startGoPeer(WARMUP > 0 ? [WARMUP, WARMUP + EVENTS] : [EVENTS]);
  if (peer === null) return null;
  // The Go peer reports reaching WARMUP events, then WARMUP + EVENTS (a warm-up's few events
  // past WARMUP are counted in the run: a handful in a million).
  if ((await warmUp(peer.port)) > 0) await peer.waitDone(WARMUP);
  const before = peer.cpu();
  const summary = await runSimulator({ target: { host: '127.0.0.1', port: peer.port }, connections: CONNECTIONS, clients: 10_000, seed: 1, rate: 0, events: EVENTS, preencode: true });
  const sendStart = performance.now() - summary.seconds * 1000;
  const doneAt = await peer.waitDone(WARMUP + EVENTS);
  const after = peer.cpu();
  const sec = (doneAt - sendStart) / 1000;
  const rss = peer.peakRssMb();
  await peer.stop();
  return { sent: summary.total, seconds: sec, eventsPerSec: summary.total / sec, userSec: after.userSec - before.userSec, sysSec: after.sysSec - before.sysSec, peakRssMb: rss };
}

const cpuPerEvent = (e: Record<string, number>) => ((e.userSec! + e.sysSec!) / e.sent!) * 1e6;

const f = floor();
console.log(`floor (frame + decode, one core, no sockets): ${Math.round(f.eventsPerSec).toLocaleString('en')} events/s, ${f.mbPerSec.toFixed(1)} MB/s, mean frame ${f.avgFrame.toFixed(0)} B`);
let go: Record<string, number> | null = null;
if (MODES.includes('metrics')) {
  go = await goPeer();
  if (go === null) console.log('\n[go] Go peer not built (go not installed): no ratio');
  else {
    console.log(`\n[go] Go peer over loopback (frames and fully decodes every event, exports nothing; GOMAXPROCS=${process.env.GOMAXPROCS ?? '1'}), ${CONNECTIONS} connections, ${go.sent!.toLocaleString('en')} events${WARMUP > 0 ? ` after a warm-up of ${WARMUP.toLocaleString('en')}` : ''}:`);
    console.log(`  ${Math.round(go.eventsPerSec!).toLocaleString('en')} events/s, ${go.seconds!.toFixed(2)} s; CPU user ${go.userSec!.toFixed(2)} s + system ${go.sysSec!.toFixed(2)} s = ${cpuPerEvent(go).toFixed(2)} µs/event; peak RSS ${go.peakRssMb!.toFixed(1)} MB`);
  }
}
for (const mode of MODES) {
  const e = await endToEnd(mode);
  console.log(`\n[${mode}] sidecar over loopback, ${CONNECTIONS} connections, ${e.sent!.toLocaleString('en')} events${WARMUP > 0 ? ` after a warm-up of ${WARMUP.toLocaleString('en')}` : ''}:`);
  console.log(`  ${Math.round(e.eventsPerSec!).toLocaleString('en')} events/s, ${e.mbPerSec!.toFixed(1)} MB/s, ${e.seconds!.toFixed(2)} s; ratio to floor ${(e.eventsPerSec! / f.eventsPerSec).toFixed(2)}`);
  console.log(`  received ${e.received} of ${e.sent} (lost ${e.sent! - e.received!})`);
  console.log(`  sidecar CPU user ${e.userSec!.toFixed(2)} s + system ${e.sysSec!.toFixed(2)} s while ingesting = ${cpuPerEvent(e).toFixed(2)} µs/event; peak RSS ${e.peakRssMb!.toFixed(1)} MB`);
  if (mode === 'metrics' && go !== null) {
    console.log(`  ratio sidecar / Go peer: ${(e.eventsPerSec! / go.eventsPerSec!).toFixed(2)} in events/s, ${(cpuPerEvent(go) / cpuPerEvent(e)).toFixed(2)} in CPU per event (> 1: the sidecar is faster)`);
  }
  if (mode === 'spans') {
    console.log(`  spans: ${e.spansProduced} produced (${e.spansDropped} dropped from the export queue)`);
  }
  if (mode.startsWith('logs')) {
    const exportedRate = e.logsExported! / e.logSec!;
    console.log(
      `  log records: ${e.logsEmitted} emitted, ${e.logsExported} exported in ${e.collectorRequests} requests, ${e.logsDropped} dropped; all exported ${e.logSec!.toFixed(2)} s after the first event (${Math.round(exportedRate).toLocaleString('en')} records/s end to end)`,
    );
  }
}
