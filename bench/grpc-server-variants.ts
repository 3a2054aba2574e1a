/**
 * The server layers bench/grpc-bench.ts compares, each in a process of its own with the same
 * work behind it (find the EventRequest's field 1, decode the Any with the sidecar's
 * EventDecoder, count it in IngestStats; no sinks, no export), so that only the server layer
 * differs:
 *
 *   grpc-js        @grpc/grpc-js as the sidecar configured it before it moved to node:http2
 *                  (raw pass-through (de)serializers, channelz off, keepalive permitted)
 *   grpc-js-tuned  the same, plus what grpc-js lets one tune: HTTP/2 SETTINGS for 100 streams,
 *                  nghttp2's session memory, and (the bench starts it so) V8's young
 *                  generation at 16 MiB instead of the sidecar's 2 MiB: grpc-js keeps each
 *                  call's objects alive across callbacks, long enough to be promoted
 *   http2          the sidecar's receiver (src/receiver/grpc-receiver.ts) on node:http2
 *
 *   node dist/bench/grpc-server-variants.js <variant>
 *
 * Prints the port on its first line, then serves until SIGTERM; on SIGTERM prints
 * "events <n> rejected <n>" and exits.
 */
import * as grpc from '@grpc/grpc-js';
import { EventDecoder } from '../src/decoding/event-decoder.js';
import { IngestStats } from '../src/receiver/ingest-stats.js';
import { GrpcReceiver } from '../src/receiver/grpc-receiver.js';
import { FrameBudget } from '../src/framing/frame-budget.js';
import { SidecarLogger } from '../src/logging/sidecar-logger.js';
import { fieldsForOutputs } from '../src/decoding/field-selection.js';
import type { EventSink } from '../src/sinks/event-sink.js';
import { IngestCore } from '../src/ingest/ingest-core.js';

const EVENT_METHOD_PATH = '/webhook.v1beta1.PluginService/Event';
const variant = process.argv[2];
const stats = new IngestStats(['grpc']);
const fields = fieldsForOutputs({ topicGroups: false, clientGroups: false, logRatios: null, logTracedMessages: false, readsEverything: false });
const decoder = new EventDecoder(undefined, fields, 'fields', { reuseEvents: true });
const sink: EventSink = { consume: () => {} };
const logger = new SidecarLogger('warn');

let varintEnd = 0;
function readVarint(buf: Buffer, pos: number): number {
  let value = 0;
  let scale = 1;
  while (pos < buf.length && scale < 2 ** 35) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      varintEnd = pos;
      return value;
    }
    scale *= 128;
  }
  return -1;
}

/** The handler of the grpc-js receiver as it was (counts per user-type, field 1, decode in place). */
function grpcJsHandler(userTypes: Map<string, { OK: number; INVALID_ARGUMENT: number }>) {
  return (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    const nowMs = Date.now();
    const v = call.metadata.get('user-type');
    const ut = v.length > 0 ? String(v[0]) : '';
    let counts = userTypes.get(ut);
    if (counts === undefined) userTypes.set(ut, (counts = { OK: 0, INVALID_ARGUMENT: 0 }));
    const req = call.request;
    const g = stats.grpc;
    g.bytesReceived += req.length;
    g.framesReceived++;
    let start = 0;
    let end = 0;
    let pos = 0;
    const bad = () => {
      g.rejected.invalid_envelope++;
      counts!.INVALID_ARGUMENT++;
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'invalid_envelope' });
    };
    while (pos < req.length) {
      const tag = readVarint(req, pos);
      if (tag < 0) return bad();
      pos = varintEnd;
      const wt = tag & 7;
      if (wt === 2) {
        const n = readVarint(req, pos);
        if (n < 0 || varintEnd + n > req.length) return bad();
        if (tag >>> 3 === 1) {
          start = varintEnd;
          end = varintEnd + n;
        }
        pos = varintEnd + n;
      } else if (wt === 0) {
        if (readVarint(req, pos) < 0) return bad();
        pos = varintEnd;
      } else if (wt === 1) pos += 8;
      else if (wt === 5) pos += 4;
      else return bad();
    }
    const event = decoder.decode(req, start, end, nowMs);
    if (event === null) {
      g.rejected[decoder.failure]++;
      counts.INVALID_ARGUMENT++;
      callback({ code: grpc.status.INVALID_ARGUMENT, details: decoder.failure });
      return;
    }
    g.events++;
    g.eventsByHook[event.hookIndex]!++;
    stats.countEvent(event, nowMs);
    sink.consume(event, nowMs);
    counts.OK++;
    callback(null, EMPTY);
  };
}

const EMPTY = Buffer.alloc(0);
const passThrough = (b: Buffer): Buffer => b;
const emptyResponse = (): Buffer => EMPTY;

async function startGrpcJs(tuned: boolean): Promise<number> {
  const options: grpc.ServerOptions = {
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.enable_channelz': 0,
    ...(tuned ? { 'grpc.max_concurrent_streams': 100, 'grpc.http2.max_frame_size': 16384, 'grpc-node.max_session_memory': 10 } : {}),
  };
  const server = new grpc.Server(options);
  server.addService(
    {
      Event: {
        path: EVENT_METHOD_PATH,
        requestStream: false,
        responseStream: false,
        requestDeserialize: passThrough,
        requestSerialize: passThrough,
        responseSerialize: emptyResponse,
        responseDeserialize: emptyResponse,
      },
    },
    { Event: grpcJsHandler(new Map()) },
  );
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

async function startHttp2(): Promise<number> {
  const r = new GrpcReceiver(
    { stats, logger },
    { host: '127.0.0.1', port: 0, maxMessageBytes: 16 * 1024 * 1024, maxStreams: 100, maxConnections: 1024, budget: new FrameBudget(256 * 1024 * 1024) },
    new IngestCore(sink, stats, logger, decoder),
  );
  return (await r.start()).port;
}

const port = variant === 'http2' ? await startHttp2() : variant === 'grpc-js' || variant === 'grpc-js-tuned' ? await startGrpcJs(variant === 'grpc-js-tuned') : NaN;
if (Number.isNaN(port)) {
  process.stderr.write('usage: grpc-server-variants grpc-js|grpc-js-tuned|http2\n');
  process.exit(64);
}
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => {
  process.stdout.write(`events ${stats.eventsTotal} rejected ${stats.rejectedTotal()}\n`);
  process.exit(0);
});
