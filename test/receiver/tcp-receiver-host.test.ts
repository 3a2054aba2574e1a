/**
 * The TCP receiver alone against a fake host (test/helpers/fake-host.ts): real sockets, its own
 * lifecycle (stop safe without start and idempotent, start -> stop -> start on one port, as the
 * Collector's generated lifecycle tests), and what it leaves in the host's counters and log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpReceiver } from '../../src/receiver/tcp-receiver.js';
import { IngestCore } from '../../src/ingest/ingest-core.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { FanoutSink } from '../../src/sinks/event-sink.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { CaptureSink } from '../helpers/capture-sink.js';
import { fakeHost } from '../helpers/fake-host.js';
import { closed, connect, write } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';

const encoder = new FrameEncoder();
const OPTIONS = { host: '127.0.0.1', port: 0, maxFrameBytes: 64 * 1024, maxConnections: 4, maxBufferedBytes: 1 << 20 };

function receiverOn(host = fakeHost()) {
  const capture = new CaptureSink();
  const sessions = host.add(new SessionTracker(host, { maxClients: 100 }));
  const ingest = new IngestCore(new FanoutSink([host.attributes, sessions, capture]), host.stats, host.logger);
  return { host, capture, sessions, receiver: new TcpReceiver(host, OPTIONS, ingest) };
}

test('stop is safe without start and idempotent; start, stop, start again on the same port serves again', async () => {
  const { host, capture, receiver } = receiverOn();
  await receiver.stop(Date.now() + 500);
  const { port } = await receiver.start();
  await receiver.stop(Date.now() + 500);
  await receiver.stop(Date.now() + 500);
  const again = new TcpReceiver(host, { ...OPTIONS, port }, new IngestCore(capture, host.stats, host.logger));
  await again.start();
  try {
    const s = await connect(port);
    await write(s, encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: 'after-restart' }));
    await eventually(() => assert.equal(capture.events.length, 1));
    s.destroy();
  } finally {
    await again.stop(Date.now() + 500);
  }
  assert.equal(receiver.listening, false);
});

test('events reach the outputs and the host\'s counters; a bad frame is counted and logged on the host\'s logger, the connection kept', async () => {
  const { host, capture, sessions, receiver } = receiverOn();
  const { port } = await receiver.start();
  try {
    const s = await connect(port);
    const frames = [
      encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: 'a', mountpoint: 'tenant' }),
      FrameEncoder.frameWithTypeUrl('type.googleapis.com/eventssidecar.v1.OnNewThing', encoder.encodeMessage(SAMPLE_EVENTS.on_client_wakeup)),
      encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: 'b', mountpoint: 'tenant' }),
    ];
    await write(s, Buffer.concat(frames));
    await eventually(() => assert.equal(capture.events.length, 2));
    assert.equal(host.stats.eventsTotal, 2);
    assert.equal(host.stats.rejected.unknown_type, 1);
    assert.equal(host.stats.bytesReceived, frames.reduce((n, f) => n + f.length, 0));
    assert.equal(sessions.connectedCount('tenant'), 2);
    assert.equal(host.logLines.filter((l) => l.msg === 'frame rejected' && l.reason === 'unknown_type').length, 1);
    assert.equal(s.destroyed, false);
    s.end();
    await closed(s);
    const line = await eventually(() => {
      const l = host.logLines.find((x) => x.msg === 'plugin connection closed');
      assert.ok(l);
      return l;
    });
    assert.equal(line.events, 2);
  } finally {
    await receiver.stop(Date.now() + 500);
  }
});
