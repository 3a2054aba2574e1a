/**
 * A flood on the plugin connections does not hold the event loop: between two turns of the
 * loop (two check phases) the receiver processes a bounded number of bytes, so the log
 * exporter's responses, /metrics scrapes and health probes are served while 100 connections
 * send as fast as they can (tcp-receiver.ts, process()). Every byte is still processed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TcpReceiver } from '../../src/receiver/tcp-receiver.js';
import { IngestCore } from '../../src/ingest/ingest-core.js';
import { fakeHost } from '../helpers/fake-host.js';
import { ClientModel, type SimEvent } from '../../src/simulator/client-model.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import type { EventSink } from '../../src/sinks/event-sink.js';

/** Writes the file's bytes to `connections` connections at once, as fast as the kernel takes them. */
const SENDER = `
const net = require('node:net');
const data = require('node:fs').readFileSync(process.argv[1]);
const [port, connections] = [Number(process.argv[2]), Number(process.argv[3])];
let open = connections;
for (let i = 0; i < connections; i++) {
  const s = net.connect(port, '127.0.0.1', () => s.end(data));
  s.on('close', () => { if (--open === 0) process.exit(0); });
}
`;

test('a flood from 16 connections is processed a few milliseconds per turn of the event loop, not until the kernel is empty', async () => {
  const model = new ClientModel({ clients: 1000, seed: 3 });
  const encoder = new FrameEncoder();
  const frames: Buffer[] = [];
  let bytes = 0;
  model.step(() => {}); // warm the model
  while (bytes < 2 * 1024 * 1024) {
    model.step((e: SimEvent) => {
      const f = encoder.encodeFrame(e);
      frames.push(f);
      bytes += f.length;
    });
  }
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'read-turns-')), 'frames.bin');
  writeFileSync(file, Buffer.concat(frames));
  const connections = 16;

  let events = 0;
  // 5 us per event, as a sink with log records costs: 5 ms of turn is about 1,000 events.
  const sink: EventSink = {
    consume() {
      events++;
      const until = process.hrtime.bigint() + 5000n;
      while (process.hrtime.bigint() < until);
    },
  };
  const host = fakeHost({ logLevel: 'error' });
  const { stats } = host;
  const receiver = new TcpReceiver(
    host,
    { host: '127.0.0.1', port: 0, maxFrameBytes: 1 << 20, maxConnections: 100, maxBufferedBytes: 1 << 28 },
    new IngestCore(sink, stats, host.logger),
  );
  const address = await receiver.start();

  // Bytes read between two check phases of the loop, the largest seen.
  let last = 0;
  let largestTurn = 0;
  let turns = 0;
  let running = true;
  let blocked = false;
  const onTurn = () => {
    if (!blocked && stats.bytesReceived > (bytes * connections) / 4) {
      // The loop held up once, as by a long GC or a slow export: the senders fill the kernel's
      // buffers meanwhile, and every socket is ready with many reads' worth when it ends.
      blocked = true;
      const until = Date.now() + 300;
      while (Date.now() < until);
      last = stats.bytesReceived;
    }
    const now = stats.bytesReceived;
    largestTurn = Math.max(largestTurn, now - last);
    last = now;
    turns++;
    if (running) setImmediate(onTurn);
  };
  setImmediate(onTurn);

  const child = spawn(process.execPath, ['-e', SENDER, file, String(address.port), String(connections)], { stdio: 'inherit' });
  await new Promise((r) => child.once('exit', r));
  const total = frames.length * connections;
  while (events < total) await new Promise((r) => setTimeout(r, 10));
  running = false;
  await receiver.stop(Date.now() + 2000);

  assert.equal(stats.bytesReceived, bytes * connections);
  // A turn processes plugin data for 5 ms (tcp-receiver.ts, TURN_MS), about 1,000 events of
  // ~240 bytes here, plus what the chunk that crosses the limit holds (64 KiB at most). Without
  // the limit each connection is read until the kernel has nothing left for it: here about
  // 100 KiB each after the hold-up, 1.6 MB in one turn from 16 connections.
  const bound = 768 * 1024;
  assert.ok(largestTurn <= bound, `largest turn ${largestTurn} bytes, over ${bound} (${turns} turns)`);
});
