/**
 * The fuzz test at scale: 10M seeded mutated and extreme-value frames of all 13 events through
 * every sink (metrics, sessions, log records for every hook, --print-events into a null stream)
 * and the OTLP/http-protobuf log exporter (to an endpoint in this process that accepts and
 * discards), behind the stall watchdog. Prints frames/s, rejects by reason, what became of the
 * log records, the longest event-loop stall and peak RSS.
 *
 *   npm run bench:fuzz -- [frames] [seed]
 *
 * A corpus of 20,000 fuzzed frames is generated first (protobufjs encoding of huge maps is the
 * costly part) and replayed, 1,000 frames per connection: 999 whose length prefix is true (the
 * mutations are inside) and one whose prefix lies, which may make the stream unframeable.
 * Sender and sidecar share this process: frames/s is what one core does with both.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { startSidecar } from '../src/sidecar.js';
import { EventPrinter } from '../src/sinks/event-printer.js';
import { SidecarLogger } from '../src/logging/sidecar-logger.js';
import { SIDECAR_OPTIONS, parseLogHooks } from '../src/config/sidecar-config.js';
import { parseOptions } from '../src/config/option-parser.js';
import { parseOtelConfig } from '../src/telemetry/otel-config.js';
import { FrameFuzzer, StallWatchdog } from '../test/helpers/frame-fuzzer.js';

const FRAMES = Number(process.argv[2] ?? 10_000_000);
const SEED = Number(process.argv[3] ?? 1);
const CORPUS = 20_000;
const PER_CONNECTION = 1000;

const fuzzer = new FrameFuzzer(SEED);
const t0 = performance.now();
const corpus: Buffer[] = [];
for (let i = 0; i < CORPUS; i++) corpus.push(fuzzer.nextFramed());
// Stream-breaking frames (a length prefix that lies): one ends each connection.
const breakers: Buffer[] = [];
while (breakers.length < 100) {
  const f = fuzzer.next();
  if (f.readUInt32BE(0) !== f.length - 4) breakers.push(f);
}
const corpusBytes = corpus.reduce((a, f) => a + f.length, 0);
console.log(`corpus: ${CORPUS} frames, ${(corpusBytes / 1e6).toFixed(1)} MB, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const collector = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
const collectorPort = (collector.address() as AddressInfo).port;

const { settings } = parseOptions(SIDECAR_OPTIONS, [], {});
let warnings = 0;
const sidecar = await startSidecar({
  settings: { ...settings, listen: { host: '127.0.0.1', port: 0 }, adminListen: { host: '127.0.0.1', port: 0 }, logHooks: parseLogHooks('all'), logPayloadBytes: 64, logLevel: 'warn' },
  otel: parseOtelConfig({
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
    OTEL_BLRP_MAX_QUEUE_SIZE: '65536',
    OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '4096',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
  }),
  logger: new SidecarLogger('warn', () => void warnings++),
  sinks: [new EventPrinter(new Writable({ write: (_c, _e, cb) => cb() }))],
});
const port = sidecar.address.port;
const metricsUrl = `http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`;

const watchdog = new StallWatchdog();
let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
let lastReport = performance.now();
const start = performance.now();
let sent = 0;
let next = 0;
while (sent < FRAMES) {
  const n = Math.min(PER_CONNECTION, FRAMES - sent);
  const chunk: Buffer[] = [];
  for (let i = 0; i < n - 1; i++) chunk.push(corpus[next++ % CORPUS]!);
  chunk.push(breakers[next % breakers.length]!);
  await new Promise<void>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    s.on('close', () => resolve());
    s.on('connect', () => s.end(Buffer.concat(chunk)));
  });
  sent += n;
  if (performance.now() - lastReport > 10_000) {
    lastReport = performance.now();
    console.log(`  ${sent} frames, ${Math.round(sent / ((lastReport - start) / 1000))} frames/s, max stall ${Math.round(watchdog.maxStallMs)} ms`);
  }
}
const seconds = (performance.now() - start) / 1000;
// /metrics must still answer after the run.
const scrape = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
const q = sidecar.telemetry.logQueue!;
const s = sidecar.stats;
const stopStarted = performance.now();
await sidecar.stop();
const stopMs = performance.now() - stopStarted;
clearInterval(rssTimer);
watchdog.stop();
collector.close();
peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);

console.log(`frames offered: ${sent} in ${seconds.toFixed(1)} s = ${Math.round(sent / seconds)} frames/s (${((corpusBytes * (sent / CORPUS)) / seconds / 1e6).toFixed(1)} MB/s)`);
console.log(`frames read: ${s.framesReceived}; events decoded: ${s.eventsTotal}; connections: ${s.connectionsAccepted}`);
console.log(`rejected by reason: ${JSON.stringify(s.rejected)}`);
console.log(`log records: exported ${q.exported}, dropped ${JSON.stringify(q.dropped)}; sidecar warnings: ${warnings}`);
console.log(`/metrics after the run: HTTP ${scrape.status}; stop took ${Math.round(stopMs)} ms`);
console.log(`max event-loop stall: ${Math.round(watchdog.maxStallMs)} ms (event loop delay max ${Math.round(watchdog.maxDelayMs)} ms); peak RSS ${Math.round(peakRss / 1024 / 1024)} MiB`);
process.exit(0);
