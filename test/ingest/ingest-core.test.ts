/**
 * The ingest core without a transport: bytes of one event in, the event in the outputs, every
 * count on the transport that carried it, every failure counted and logged the same way for both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestCore, type IngestSource } from '../../src/ingest/ingest-core.js';
import { IngestStats, REJECT_REASONS } from '../../src/receiver/ingest-stats.js';
import { ConnectionHandler } from '../../src/receiver/connection-handler.js';
import { FanoutSink, type EventSink } from '../../src/sinks/event-sink.js';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { MetricStore, type SumFamily, type AttributeValue } from '../../src/metrics/metric-store.js';
import { SIDECAR_METRICS } from '../../src/metrics/metric-catalog.js';
import { CaptureSink } from '../helpers/capture-sink.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';

const encoder = new FrameEncoder();
/** An event as the gRPC receiver hands it on: the Any, without the TCP frame's length prefix. */
const anyOf = (hook: 'on_register' | 'on_client_wakeup') => encoder.encodeFrame(SAMPLE_EVENTS[hook]).subarray(4);

function core(sink: EventSink, transports: ('tcp' | 'grpc')[] = ['tcp', 'grpc']) {
  const lines: Record<string, unknown>[] = [];
  const logger = new SidecarLogger('debug', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const stats = new IngestStats(transports);
  const ingest = new IngestCore(sink, stats, logger);
  const grpc: IngestSource = { counters: stats.grpc, rejectLog: { message: 'gRPC event rejected', keyPrefix: 'grpc-' }, events: 0, rejected: 0 };
  return { ingest, stats, lines, grpc };
}

test('each transport counts on its own counters; the totals are their sums, and the metrics show each share', () => {
  const capture = new CaptureSink();
  const { ingest, stats, grpc } = core(capture);
  const tcp = new ConnectionHandler('10.0.0.1:4000', ingest, 1 << 20);
  tcp.push(Buffer.concat([encoder.encodeFrame(SAMPLE_EVENTS.on_register), encoder.encodeFrame(SAMPLE_EVENTS.on_register), Buffer.from([0, 0, 0, 0])]));
  const any = anyOf('on_client_wakeup');
  assert.ok(ingest.ingest(any, 0, any.length, Date.now(), grpc));
  assert.equal(ingest.ingest(Buffer.from([0xff]), 0, 1, Date.now(), grpc), null);
  assert.equal(ingest.failure, 'invalid_envelope');

  assert.deepEqual(capture.events.map((e) => e.hook), ['on_register', 'on_register', 'on_client_wakeup']);
  assert.equal(stats.tcp.events, 2);
  assert.equal(stats.grpc.events, 1);
  assert.equal(stats.tcp.framesReceived, 3, 'the transport counts its frames');
  assert.equal(stats.grpc.framesReceived, 0, 'the core does not count frames: the gRPC receiver does');
  assert.equal(stats.tcp.rejected.empty_frame, 1);
  assert.equal(stats.grpc.rejected.invalid_envelope, 1);
  assert.equal(stats.eventsTotal, 3);
  assert.equal(stats.eventsOf('on_register'), 2);
  assert.equal(stats.eventsOf('on_client_wakeup'), 1);
  assert.equal(stats.rejectedTotal(), 2);
  assert.deepEqual(
    REJECT_REASONS.filter((r) => stats.rejected[r] > 0),
    ['empty_frame', 'invalid_envelope'],
  );
  assert.equal(tcp.events, 2);
  assert.equal(tcp.rejected, 1);
  assert.equal(grpc.events, 1);
  assert.equal(grpc.rejected, 1);

  const store = new MetricStore();
  stats.registerMetrics(store);
  store.beforeCollect();
  /** The series of a family with these attribute values (an attribute list in the catalog's order). */
  const value = (name: string, values: string[]) => {
    const family = store.family(name) as SumFamily<[AttributeValue, AttributeValue]>;
    const s = family.all().filter((x) => family.def.attributes.every((a, i) => x.attributes[a.name] === values[i]));
    assert.equal(s.length, 1, `${name} ${values.join(',')}`);
    return s[0]!.value;
  };
  const received = SIDECAR_METRICS.eventsReceived.name;
  const rejected = SIDECAR_METRICS.framesRejected.name;
  assert.equal(value(received, ['on_register', 'tcp']), 2);
  assert.equal(value(received, ['on_register', 'grpc']), 0);
  assert.equal(value(received, ['on_client_wakeup', 'grpc']), 1);
  assert.equal(value(rejected, ['empty_frame', 'tcp']), 1);
  assert.equal(value(rejected, ['invalid_envelope', 'grpc']), 1);
  assert.equal(value(rejected, ['invalid_envelope', 'tcp']), 0);
});

test('a sink that throws, on either transport: the other sinks still get the event, counted once as sink_error on that transport, one error line', () => {
  const capture = new CaptureSink();
  const failing: EventSink = {
    consume: () => {
      throw new Error('bug in a sink');
    },
  };
  const alsoFailing: EventSink = {
    consume: () => {
      throw new Error('second bug');
    },
  };
  const { ingest, stats, lines, grpc } = core(new FanoutSink([failing, capture, alsoFailing]));
  const tcp = new ConnectionHandler('10.0.0.1:4000', ingest, 1 << 20);
  tcp.push(encoder.encodeFrame(SAMPLE_EVENTS.on_register));
  const any = anyOf('on_client_wakeup');
  assert.ok(ingest.ingest(any, 0, any.length, Date.now(), grpc), 'the event is still accepted (gRPC answers OK)');
  assert.equal(capture.events.length, 2);
  assert.equal(stats.tcp.rejected.sink_error, 1);
  assert.equal(stats.grpc.rejected.sink_error, 1);
  assert.equal(stats.eventsTotal, 2, 'the events were decoded: they count as received');
  assert.equal(tcp.rejected, 1);
  assert.equal(grpc.rejected, 1);
  // One line per interval for sink failures, whichever transport: the first one's.
  const errors = lines.filter((l) => l.msg === 'event sink failed');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.level, 'error');
  assert.equal(errors[0]!.hook, 'on_register');
  assert.equal(errors[0]!.peer, '10.0.0.1:4000');
  assert.match(String(errors[0]!.detail), /bug in a sink/);
});

test('rejects are logged as the transport logs them: TCP with the peer, gRPC apart from TCP under its own message', () => {
  const { ingest, lines, grpc } = core(new CaptureSink());
  const tcp = new ConnectionHandler('10.0.0.1:4000', ingest, 1 << 20);
  tcp.push(Buffer.from([0, 0, 0, 0]));
  ingest.ingest(Buffer.alloc(0), 0, 0, Date.now(), grpc);
  const tcpLine = lines.find((l) => l.msg === 'frame rejected');
  const grpcLine = lines.find((l) => l.msg === 'gRPC event rejected');
  assert.equal(tcpLine?.reason, 'empty_frame');
  assert.equal(tcpLine?.peer, '10.0.0.1:4000');
  assert.equal(grpcLine?.reason, 'empty_frame', 'not held back by the TCP line of the same reason');
  assert.equal(grpcLine?.peer, undefined);
});

test('a sink that names its hooks gets only those, also when it is the only output', () => {
  const heard: string[] = [];
  const { ingest, grpc } = core({ hooks: ['on_client_wakeup'], consume: (e) => heard.push(e.hook) });
  for (const h of ['on_register', 'on_client_wakeup'] as const) {
    const any = anyOf(h);
    ingest.ingest(any, 0, any.length, Date.now(), grpc);
  }
  assert.deepEqual(heard, ['on_client_wakeup']);
  assert.equal(grpc.events, 2, 'both were events');
});
