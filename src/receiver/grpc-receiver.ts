/**
 * The gRPC endpoint of the plugin's direct transport: /webhook.v1beta1.PluginService/Event, one
 * unary call per event, over HTTP/2 without TLS (h2c with prior knowledge, as the plugin
 * speaks it; proto/grpc/plugin_service.proto), and the standard grpc.health.v1.Health service.
 *
 * Served by `node:http2` (nghttp2 does the HTTP/2 framing, flow control and HPACK), with the
 * gRPC layer for these three methods written here: measured against @grpc/grpc-js (as
 * configured before, and tuned), this takes about half the CPU per call (docs/architecture.md,
 * "The gRPC path"). What it keeps of gRPC: the 5-byte message prefix, compressed messages
 * (gzip, deflate), status codes and messages in trailers (trailers-only for errors),
 * `grpc-timeout`, message size limits, content-type checks, UNIMPLEMENTED for any other method.
 *
 * The request is not decoded by a protobuf library: the EventRequest's field 1 is found by
 * hand, and the Any inside goes to the ingest core a TCP frame goes to (decode, count, outputs),
 * in place. The answer is sent once the event has been decoded and handed to the sinks (which
 * never await):
 * an event is answered OK only once it is counted, INVALID_ARGUMENT when it is not an Any with
 * one of our type URLs, so the broker's `grpc_call_result` and our counts agree.
 *
 * What a peer can make it hold is bounded:
 * - a message that arrives in more than one DATA frame is held in one buffer of its declared
 *   length, reserved from --max-buffered-bytes (shared with TCP's partial frames) before a byte
 *   of it is kept; a call that does not fit is answered RESOURCE_EXHAUSTED at once and counted
 *   (the other calls go on). A message that arrives whole is decoded where it lies;
 * - declared lengths above --max-frame-bytes: RESOURCE_EXHAUSTED without reading the message;
 * - --grpc-max-streams concurrent calls per connection (HTTP/2 SETTINGS, which nghttp2 enforces),
 *   --grpc-max-connections connections (more are closed at accept, counted);
 * - nghttp2's own memory per connection (headers, frames not yet read) stays at its defaults:
 *   64 KiB of flow-control window per stream, 10 MB per session.
 */
import { formatHostPort } from '../config/option-parser.js';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import type { AddressInfo, Socket } from 'node:net';
import type { IngestCore, IngestSource } from '../ingest/ingest-core.js';
import { readVarint, type Cursor } from '../protowire/reader.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { RejectReason } from './ingest-stats.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import { BoundedValues } from '../metrics/bounded-values.js';
import { FrameBudget } from '../framing/frame-budget.js';
import { bindOrExplain, listenOn } from '../config/listen-address.js';
import type { Host } from '../host.js';
import { drainTime, type Component, type StatusReport } from '../lifecycle/component.js';

export const EVENT_METHOD_PATH = '/webhook.v1beta1.PluginService/Event';
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const HEALTH_WATCH_PATH = '/grpc.health.v1.Health/Watch';
const PLUGIN_SERVICE_NAME = 'webhook.v1beta1.PluginService';

export interface GrpcReceiverOptions {
  host: string;
  port: number;
  /** Largest request message accepted (the same limit as a TCP frame). */
  maxMessageBytes: number;
  /** Concurrent calls per connection (advertised as SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreams: number;
  /** Connections served at once; further ones are closed at accept. */
  maxConnections: number;
  /** The budget for messages held while they arrive (the TCP receiver's, so that one limit covers both). */
  budget: FrameBudget;
  /** Set the SO_REUSEPORT option (several worker processes on one port; Node >= 22.12). */
  reusePort?: boolean;
}

/** gRPC status codes used here (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** The answers the Event method gives; values are the rpc.grpc.status attribute. */
export type GrpcAnswer = 'OK' | 'INVALID_ARGUMENT' | 'RESOURCE_EXHAUSTED' | 'DEADLINE_EXCEEDED' | 'CANCELLED' | 'UNAVAILABLE' | 'UNIMPLEMENTED' | 'INTERNAL';
export const GRPC_ANSWERS: readonly GrpcAnswer[] = ['OK', 'INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'CANCELLED', 'UNAVAILABLE', 'UNIMPLEMENTED', 'INTERNAL'];

/** Distinct user-type values counted apart; the plugin sends one per broker configuration. */
export const MAX_USER_TYPES = 20;

const REJECT_LOG_INTERVAL_MS = 10_000;
/** Trailers-only answers and messages: `grpc-message` is percent-encoded; keep it short. */
const MAX_STATUS_MESSAGE_CHARS = 200;

const {
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_STATUS,
  NGHTTP2_NO_ERROR,
} = http2.constants;

/** The response headers of every answer that carries a message. */
const RESPONSE_HEADERS = Object.freeze({ [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', 'grpc-accept-encoding': 'identity,deflate,gzip' });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
/** No `date` header: nothing reads it, and Node formats one per response otherwise. */
const OK_RESPOND_OPTIONS = Object.freeze({ waitForTrailers: true, sendDate: false }) as http2.ServerStreamResponseOptions;
const END_RESPOND_OPTIONS = Object.freeze({ endStream: true, sendDate: false }) as http2.ServerStreamResponseOptions;
/** google.protobuf.Empty as one length-prefixed, uncompressed gRPC message. */
const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);
/** HealthCheckResponse{status: SERVING} and {status: NOT_SERVING}, as gRPC messages. */
const HEALTH_SERVING = Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]);
const HEALTH_NOT_SERVING = Buffer.from([0, 0, 0, 0, 2, 0x08, 0x02]);

/** Calls answered per user-type, by answer. */
export type CallCounts = Map<string, Record<GrpcAnswer, number>>;

function zeroAnswers(): Record<GrpcAnswer, number> {
  return { OK: 0, INVALID_ARGUMENT: 0, RESOURCE_EXHAUSTED: 0, DEADLINE_EXCEEDED: 0, CANCELLED: 0, UNAVAILABLE: 0, UNIMPLEMENTED: 0, INTERNAL: 0 };
}

/** Connections of the gRPC listener: plain numbers, read at collection time. */
export class GrpcConnectionCounts {
  open = 0;
  accepted = 0;
  /** Closed at accept because --grpc-max-connections were open. */
  refused = 0;
}

/**
 * One Event call while its message arrives. Allocated per call; the fast path (the message in
 * the first DATA frame) only reads it once.
 */
interface EventCall {
  stream: http2.ServerHttp2Stream;
  counts: Record<GrpcAnswer, number>;
  /** The first bytes, while fewer than the 5-byte prefix have arrived. */
  head: Buffer | null;
  /** The message buffer (its declared length, reserved from the budget), once started. */
  body: Buffer | null;
  filled: number;
  compressed: boolean;
  encoding: string;
  answered: boolean;
  timer: NodeJS.Timeout | null;
  timeoutMs: number;
}

/** The plugin's gRPC transport: a second receiver front into the same outputs and counters. */
export class GrpcReceiver implements Component {
  private boundAddress: AddressInfo | null = null;
  readonly calls: CallCounts = new Map();
  /** The user-type metadata values: bounded and checked like any label value from a peer. */
  readonly userTypes = new BoundedValues<'vernemq.user_type'>('vernemq.user_type', MAX_USER_TYPES);
  readonly connections = new GrpcConnectionCounts();
  private server: http2.Http2Server | null = null;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly watchers = new Set<http2.ServerHttp2Stream>();
  private bound = false;
  private shuttingDown = false;
  private readonly budget: FrameBudget;
  /** The gRPC transport as the ingest core sees it: its counters, how its rejects are logged. */
  private readonly source: IngestSource;
  private readonly reader = new RequestReader();
  /** Bytes of messages being received, held now (also in the shared budget). */
  heldBytes = 0;

  private readonly logger: SidecarLogger;

  /** Counts in the host's ingest counters (its gRPC share) and logs on its logger; hands each event's bytes to `ingest`. */
  constructor({ stats, logger }: Pick<Host, 'stats' | 'logger'>, private readonly options: GrpcReceiverOptions, private readonly ingest: IngestCore) {
    this.logger = logger;
    this.budget = options.budget;
    this.source = { counters: stats.grpc, rejectLog: { message: 'gRPC event rejected', keyPrefix: 'grpc-' }, events: 0, rejected: 0 };
    stats.grpcConnections = this.connections;
  }

  get listening(): boolean {
    return this.bound && !this.shuttingDown;
  }

  /** Calls answered, all user-types. */
  answered(answer: GrpcAnswer): number {
    let n = 0;
    for (const c of this.calls.values()) n += c[answer];
    return n;
  }

  /** The bound address, once started. */
  get address(): AddressInfo | null {
    return this.boundAddress;
  }

  /** What /status shows. */
  status(): StatusReport {
    return {
      grpc: {
        listening: this.listening,
        connections: { ...this.connections },
        heldBytes: this.heldBytes,
        // OK and INVALID_ARGUMENT always, the other answers once given.
        calls: Object.fromEntries([...this.calls].map(([userType, c]) => [userType, Object.fromEntries(GRPC_ANSWERS.filter((a) => a === 'OK' || a === 'INVALID_ARGUMENT' || c[a] > 0).map((a) => [a, c[a]]))])),
      },
    };
  }

  /** Exports vmq_sidecar.grpc.calls (read at collection time, like the other ingest counters). */
  registerMetrics(store: MetricStore): void {
    const calls = store.sum(SIDECAR_METRICS.grpcCalls);
    store.onCollect(() => {
      for (const [userType, c] of this.calls) {
        for (const a of GRPC_ANSWERS) if (a === 'OK' || a === 'INVALID_ARGUMENT' || c[a] > 0) calls.get(a, userType).value = c[a];
      }
    });
  }

  /** Binds the listener; an address that cannot be bound is reported as a --grpc-listen problem. */
  start(): Promise<AddressInfo> {
    return bindOrExplain(() => this.listen(), { host: this.options.host, port: this.options.port, setting: '--grpc-listen' });
  }

  private async listen(): Promise<AddressInfo> {
    if (this.server) throw new Error('receiver already started');
    const server = http2.createServer({
      settings: { maxConcurrentStreams: this.options.maxStreams },
      // Streams past the advertised limit are refused by nghttp2; this bounds the ones a peer
      // that ignores SETTINGS can open before the refusals count against it.
      peerMaxConcurrentStreams: this.options.maxStreams,
    });
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    server.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      // A session error (a protocol violation, a reset socket) ends that connection only.
      // A peer that goes away without closing (ECONNRESET) is routine: not worth a warning.
      session.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ECONNRESET') this.logger.limited('warn', 'grpc-session-error', REJECT_LOG_INTERVAL_MS, 'gRPC connection failed', { detail: err.message });
      });
    });
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.server = server;
    try {
      await listenOn(server, { host: this.options.host, port: this.options.port, ...(this.options.reusePort ? { reusePort: true } : {}) });
    } catch (err) {
      this.server = null;
      throw err;
    }
    server.on('error', (err) => this.logger.limited('error', 'grpc-server-error', REJECT_LOG_INTERVAL_MS, 'gRPC listener error', { detail: err.message }));
    this.bound = true;
    const port = (server.address() as AddressInfo).port;
    const address: AddressInfo = { address: this.options.host, port, family: this.options.host.includes(':') ? 'IPv6' : 'IPv4' };
    this.logger.info('listening for plugin gRPC calls', { address: formatHostPort(this.options.host, port), method: EVENT_METHOD_PATH });
    this.boundAddress = address;
    return address;
  }

  private onConnection(socket: Socket): void {
    const c = this.connections;
    if (c.open >= this.options.maxConnections || this.shuttingDown) {
      c.refused++;
      this.logger.limited('warn', 'grpc-connection-refused', REJECT_LOG_INTERVAL_MS, 'gRPC connection refused: --grpc-max-connections are open', {
        maxConnections: this.options.maxConnections,
        refused: c.refused,
      });
      socket.destroy();
      return;
    }
    c.open++;
    c.accepted++;
    socket.once('close', () => c.open--);
  }

  /**
   * Health turns NOT_SERVING (Watch streams are told so), calls in flight get their drain
   * time to be answered, then every connection is closed. Safe to call more than once, and
   * before start().
   */
  async stop(deadline = Date.now() + 800): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const drainMs = drainTime(deadline);
    this.shuttingDown = true;
    for (const w of this.watchers) this.endWatch(w);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.sessions) s.destroy();
        resolve();
      }, drainMs);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // GOAWAY: no new calls on these connections, the ones in flight finish.
      for (const s of this.sessions) s.close();
    });
    this.bound = false;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // A stream torn down under us (the peer's RST_STREAM, a session error) must not become an
    // uncaught 'error': it ends that call only.
    stream.on('error', ignore);
    const path = headers[HTTP2_HEADER_PATH];
    if (headers[HTTP2_HEADER_METHOD] !== 'POST' || !isGrpcContentType(headers[HTTP2_HEADER_CONTENT_TYPE])) {
      // Not gRPC at all (PROTOCOL-HTTP2.md: 415 for a wrong content-type).
      respondHttpError(stream, headers[HTTP2_HEADER_METHOD] !== 'POST' ? 405 : 415);
      return;
    }
    if (path === EVENT_METHOD_PATH) this.onEvent(stream, headers);
    else if (path === HEALTH_CHECK_PATH || path === HEALTH_WATCH_PATH) this.onHealth(stream, path === HEALTH_WATCH_PATH);
    else {
      respondStatus(stream, GRPC_STATUS.UNIMPLEMENTED, `unknown method ${String(path).slice(0, 100)}`);
    }
  }

  private onEvent(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const counts = this.countsFor(headers['user-type']);
    if (this.shuttingDown) {
      counts.UNAVAILABLE++;
      respondStatus(stream, GRPC_STATUS.UNAVAILABLE, 'shutting down');
      return;
    }
    const encoding = headers['grpc-encoding'];
    const call: EventCall = {
      stream,
      counts,
      head: null,
      body: null,
      filled: 0,
      compressed: false,
      encoding: typeof encoding === 'string' ? encoding : 'identity',
      answered: false,
      timer: null,
      timeoutMs: parseTimeout(headers['grpc-timeout']),
    };
    // The message is not read in either case: counted as a call that carried no event.
    if (call.encoding !== 'identity' && call.encoding !== 'gzip' && call.encoding !== 'deflate') {
      this.reject(call, 'invalid_envelope', `grpc-encoding ${call.encoding.slice(0, 40)} is not supported`, 'UNIMPLEMENTED');
      return;
    }
    if (Number.isNaN(call.timeoutMs)) {
      this.reject(call, 'invalid_envelope', 'invalid grpc-timeout', 'INTERNAL');
      return;
    }
    // Shared listener functions (the call rides on the stream): no closures per call.
    (stream as CallStream)[CALL] = call;
    (stream as CallStream)[RECEIVER] = this;
    stream.on('data', onCallData);
    stream.once('end', onCallEnd);
    stream.once('close', onCallClose);
  }

  onEventData(call: EventCall, chunk: Buffer): void {
    if (call.answered) {
      // A second message (or bytes past the first) on a unary call: a client bug. Not kept.
      return;
    }
    if (call.body !== null) {
      const body = call.body;
      const n = Math.min(chunk.length, body.length - call.filled);
      chunk.copy(body, call.filled, 0, n);
      call.filled += n;
      if (call.filled === body.length) this.finishEvent(call, body, 0, body.length);
      return;
    }
    let buf = chunk;
    if (call.head !== null) {
      buf = Buffer.concat([call.head, chunk]);
      call.head = null;
    }
    if (buf.length < 5) {
      call.head = Buffer.from(buf);
      return;
    }
    call.compressed = buf[0] !== 0;
    const length = buf.readUInt32BE(1);
    if (length > this.options.maxMessageBytes) {
      this.refuse(call, 'oversized', `Received message larger than max (${length} vs. ${this.options.maxMessageBytes})`);
      return;
    }
    if (buf.length >= 5 + length) {
      // The whole message in hand: decoded where it lies, nothing held past this call.
      this.finishEvent(call, buf, 5, 5 + length);
      return;
    }
    // Held across reads: the whole declared length is reserved first, so a peer cannot make us
    // hold more than the budget by sending slowly.
    if (!this.budget.tryReserve(length)) {
      this.refuse(call, 'buffer_budget', `request bytes held by calls in progress would pass --max-buffered-bytes (${this.budget.limit})`);
      return;
    }
    this.heldBytes += length;
    const body = Buffer.allocUnsafe(length);
    buf.copy(body, 0, 5);
    call.body = body;
    call.filled = buf.length - 5;
    if (call.timeoutMs > 0) call.timer = setTimeout(() => this.onEventTimeout(call), call.timeoutMs);
  }

  onEventEnd(call: EventCall): void {
    if (call.answered) return;
    // The client finished sending without a whole message.
    this.releaseHeld(call);
    this.reject(call, call.body === null && call.head === null ? 'empty_frame' : 'truncated', 'the request ended before its message was complete');
  }

  onEventClose(call: EventCall): void {
    if (call.answered) return;
    // Reset or connection lost before the message was complete: the event never arrived whole.
    call.answered = true;
    this.releaseHeld(call);
    this.ingest.count(this.source, 'truncated');
    call.counts.CANCELLED++;
  }

  private onEventTimeout(call: EventCall): void {
    call.timer = null;
    if (call.answered) return;
    call.answered = true;
    this.releaseHeld(call);
    this.ingest.count(this.source, 'truncated');
    call.counts.DEADLINE_EXCEEDED++;
    respondStatus(call.stream, GRPC_STATUS.DEADLINE_EXCEEDED, 'deadline exceeded before the message was complete');
  }

  private releaseHeld(call: EventCall): void {
    if (call.timer !== null) {
      clearTimeout(call.timer);
      call.timer = null;
    }
    if (call.body !== null) {
      this.budget.release(call.body.length);
      this.heldBytes -= call.body.length;
      call.body = null;
    }
  }

  /** The message (bytes start..end of buf) is complete: decompressed, its Any to the ingest core, answered. */
  private finishEvent(call: EventCall, buf: Buffer, start: number, end: number): void {
    const nowMs = Date.now();
    const mine = this.source.counters;
    if (call.compressed) {
      if (call.encoding === 'identity') {
        this.releaseHeld(call);
        mine.framesReceived++;
        this.reject(call, 'invalid_envelope', 'compressed message without grpc-encoding', 'INTERNAL');
        return;
      }
      try {
        const input = buf.subarray(start, end);
        const opts = { maxOutputLength: this.options.maxMessageBytes };
        buf = call.encoding === 'gzip' ? zlib.gunzipSync(input, opts) : zlib.inflateSync(input, opts);
        start = 0;
        end = buf.length;
      } catch (err) {
        this.releaseHeld(call);
        const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        if (tooLarge) this.refuse(call, 'oversized', `decompressed message larger than max (${this.options.maxMessageBytes})`);
        else {
          mine.framesReceived++;
          this.reject(call, 'invalid_envelope', `message does not decompress (${call.encoding})`);
        }
        return;
      }
    }
    mine.bytesReceived += end - start;
    mine.framesReceived++;
    const reader = this.reader;
    if (!reader.findAny(buf, start, end)) return this.rejectHeld(call, 'invalid_envelope', 'EventRequest is not valid protobuf');
    const core = this.ingest;
    if (core.ingest(buf, reader.anyStart, reader.anyEnd, nowMs, this.source) === null) {
      // Counted and logged by the core; answered here.
      this.releaseHeld(call);
      this.answerRejected(call, core.failure, core.failureDetail, 'INVALID_ARGUMENT');
      return;
    }
    // OK even when a sink failed: the event was accepted and the other sinks have it; the
    // failure is ours, counted by the core as sink_error.
    this.releaseHeld(call);
    call.answered = true;
    call.counts.OK++;
    const stream = call.stream;
    if (stream.destroyed) return;
    stream.respond(RESPONSE_HEADERS, OK_RESPOND_OPTIONS);
    stream.once('wantTrailers', sendOkTrailers);
    stream.end(EMPTY_MESSAGE);
  }

  private rejectHeld(call: EventCall, reason: RejectReason, detail: string): void {
    this.releaseHeld(call);
    this.reject(call, reason, detail);
  }

  /** Not an event: counted by reason and logged (by the core), answered INVALID_ARGUMENT (or `answer`). */
  private reject(call: EventCall, reason: RejectReason, detail: string, answer: 'INVALID_ARGUMENT' | 'UNIMPLEMENTED' | 'INTERNAL' = 'INVALID_ARGUMENT'): void {
    this.ingest.reject(this.source, reason, detail);
    this.answerRejected(call, reason, detail, answer);
  }

  private answerRejected(call: EventCall, reason: RejectReason, detail: string, answer: 'INVALID_ARGUMENT' | 'UNIMPLEMENTED' | 'INTERNAL'): void {
    call.answered = true;
    call.counts[answer]++;
    respondStatus(call.stream, GRPC_STATUS[answer], `${reason}${detail ? `: ${detail}` : ''}`);
  }

  /** A limit of ours, not the event's fault: RESOURCE_EXHAUSTED, counted; the message is not read. */
  private refuse(call: EventCall, reason: 'oversized' | 'buffer_budget', detail: string): void {
    call.answered = true;
    this.ingest.reject(this.source, reason, detail, 'gRPC call refused');
    call.counts.RESOURCE_EXHAUSTED++;
    respondStatus(call.stream, GRPC_STATUS.RESOURCE_EXHAUSTED, detail);
  }

  private countsFor(value: string | string[] | undefined): Record<GrpcAnswer, number> {
    const raw = value === undefined ? '' : Array.isArray(value) ? (value[0] ?? '') : value;
    const userType = this.userTypes.fold(raw);
    let c = this.calls.get(userType);
    if (c === undefined) {
      c = zeroAnswers();
      this.calls.set(userType, c);
    }
    return c;
  }

  private onHealth(stream: http2.ServerHttp2Stream, watch: boolean): void {
    // HealthCheckRequest { string service = 1; }, a few bytes: read whole (bounded by nghttp2's
    // window, 64 KiB), then answered.
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 65_536) chunks.push(c);
    });
    stream.once('end', () => {
      if (size > 65_536) return respondStatus(stream, GRPC_STATUS.RESOURCE_EXHAUSTED, 'health request too large');
      const msg = Buffer.concat(chunks);
      let service = '';
      if (msg.length >= 5 && msg[0] === 0) {
        const req = msg.subarray(5, 5 + msg.readUInt32BE(1));
        if (req.length >= 2 && req[0] === 0x0a) {
          const reader = this.reader;
          const n = reader.varint(req, 1, req.length);
          if (n >= 0 && reader.pos + n <= req.length) service = req.toString('utf8', reader.pos, reader.pos + n);
        }
      }
      if (service !== '' && service !== PLUGIN_SERVICE_NAME) {
        respondStatus(stream, GRPC_STATUS.NOT_FOUND, `unknown service ${JSON.stringify(service.slice(0, 100))}`);
        return;
      }
      if (stream.destroyed) return;
      stream.respond(RESPONSE_HEADERS, OK_RESPOND_OPTIONS);
      stream.once('wantTrailers', sendOkTrailers);
      if (!watch) {
        stream.end(this.shuttingDown ? HEALTH_NOT_SERVING : HEALTH_SERVING);
        return;
      }
      // Watch: the status now, then NOT_SERVING and the end of the stream at shutdown. Each
      // watcher is a stream, bounded by --grpc-max-streams per connection.
      if (this.shuttingDown) {
        stream.end(HEALTH_NOT_SERVING);
        return;
      }
      stream.write(HEALTH_SERVING);
      this.watchers.add(stream);
      stream.once('close', () => this.watchers.delete(stream));
    });
  }

  private endWatch(stream: http2.ServerHttp2Stream): void {
    this.watchers.delete(stream);
    if (!stream.destroyed) stream.end(HEALTH_NOT_SERVING);
  }
}

function ignore(): void {}

const CALL = Symbol('call');
const RECEIVER = Symbol('receiver');
type CallStream = http2.ServerHttp2Stream & { [CALL]: EventCall; [RECEIVER]: GrpcReceiver };

function onCallData(this: CallStream, chunk: Buffer): void {
  this[RECEIVER].onEventData(this[CALL], chunk);
}

function onCallEnd(this: CallStream): void {
  this[RECEIVER].onEventEnd(this[CALL]);
}

function onCallClose(this: CallStream): void {
  this[RECEIVER].onEventClose(this[CALL]);
}

function sendOkTrailers(this: http2.ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

function isGrpcContentType(v: string | string[] | undefined): boolean {
  if (typeof v !== 'string') return false;
  return v.startsWith('application/grpc') && (v.length === 16 || v[16] === '+' || v[16] === ';');
}

/** A trailers-only answer: status in the headers, end of stream; the rest of the request is not read. */
function respondStatus(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      [HTTP2_HEADER_STATUS]: 200,
      [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': percentEncode(message.slice(0, MAX_STATUS_MESSAGE_CHARS)),
    },
    END_RESPOND_OPTIONS,
  );
  // The client may still be sending (a refused 15 MiB call): reset our receiving side once the
  // answer is out, so that nothing more is read or buffered for this call.
  closeAfterAnswer(stream);
}

function respondHttpError(stream: http2.ServerHttp2Stream, status: number): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ [HTTP2_HEADER_STATUS]: status }, END_RESPOND_OPTIONS);
  closeAfterAnswer(stream);
}

function closeAfterAnswer(stream: http2.ServerHttp2Stream): void {
  if (stream.readableEnded) return;
  // NO_ERROR: "the server does not need the rest of the request" (RFC 9113 8.1); gRPC clients
  // keep the status they already received. After the answer has gone out: Node 26 sends a reset
  // given in the same turn before the HEADERS frame, and the client sees no status at all.
  setImmediate(() => {
    if (!stream.destroyed && !stream.readableEnded) stream.close(NGHTTP2_NO_ERROR);
  });
}

/** grpc-message: percent-encode what is not printable ASCII, and '%' (PROTOCOL-HTTP2.md). */
function percentEncode(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  return out;
}

/** grpc-timeout in milliseconds: 0 when absent, NaN when malformed (PROTOCOL-HTTP2.md: at most 8 digits and a unit). */
export function parseTimeout(v: string | string[] | undefined): number {
  if (v === undefined) return 0;
  if (typeof v !== 'string') return NaN;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (m === null) return NaN;
  const n = Number(m[1]);
  const ms = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }[m[2] as 'H'] * n;
  // At least 1 ms (a timer of 0 would fire before any data), at most what a timer can hold.
  return Math.min(Math.max(ms, 1), 2 ** 31 - 1);
}

/**
 * Reads the few protobuf fields the receiver needs itself (EventRequest's Any, a health
 * check's service name). One per receiver: its results are fields, not module state.
 */
class RequestReader implements Cursor {
  /** Where the last varint() ended. */
  pos = 0;
  /** The Any found by the last findAny() (bytes anyStart..anyEnd; empty when absent). */
  anyStart = 0;
  anyEnd = 0;

  /**
   * EventRequest { google.protobuf.Any event = 1; }: finds field 1 (a later occurrence wins, as
   * protobuf merges a repeated embedded message); unknown fields are skipped. False when the
   * bytes are not valid protobuf.
   */
  findAny(buf: Buffer, start: number, end: number): boolean {
    this.anyStart = 0;
    this.anyEnd = 0;
    let pos = start;
    while (pos < end) {
      const tag = this.varint(buf, pos, end);
      if (tag < 0) return false;
      pos = this.pos;
      const wireType = tag & 7;
      if (wireType === 2) {
        const n = this.varint(buf, pos, end);
        if (n < 0 || this.pos + n > end) return false;
        if (tag >>> 3 === 1) {
          this.anyStart = this.pos;
          this.anyEnd = this.pos + n;
        }
        pos = this.pos + n;
      } else if (wireType === 0) {
        if (this.varint(buf, pos, end) < 0) return false;
        pos = this.pos;
      } else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else return false;
    }
    return pos <= end;
  }

  /** A varint of up to 35 bits at buf[pos] (before `end`), or -1 when truncated or longer; its end in `pos`. */
  varint(buf: Buffer, pos: number, end: number): number {
    return readVarint(buf, pos, end, this);
  }

}
