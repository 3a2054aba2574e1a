/**
 * The gRPC endpoint of the plugin's direct transport: /webhook.v1beta1.PluginService/Event, one
 * unary call per event, over HTTP/2 without TLS (proto/grpc/plugin_service.proto).
 *
 * The request is not decoded by a protobuf library: the service is registered with a
 * deserializer that hands the raw request bytes through, the EventRequest's field 1 is found by
 * hand, and the Any inside goes to the same EventDecoder a TCP frame goes to, in place. The
 * answer is sent as soon as the event has been handed to the sinks (which never await), so the
 * plugin's workers (one call in flight each, 500 ms timeout, no retry) are never held up by
 * exporting. Also serves grpc.health.v1.Health/Check for load balancers and probes.
 */
import { formatHostPort } from '../config/option-parser.js';
import * as grpc from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import { EventDecoder } from '../decoding/event-decoder.js';
import type { EventSink } from '../sinks/event-sink.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { IngestStats, RejectReason } from './ingest-stats.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { SIDECAR_METRICS } from '../metrics/metric-catalog.js';
import { bindOrExplain } from '../config/listen-address.js';
import { drainTime, type Component, type StatusReport } from '../lifecycle/component.js';

export const EVENT_METHOD_PATH = '/webhook.v1beta1.PluginService/Event';
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const PLUGIN_SERVICE_NAME = 'webhook.v1beta1.PluginService';

export interface GrpcReceiverOptions {
  host: string;
  port: number;
  /** Largest request accepted (the same limit as a TCP frame). */
  maxMessageBytes: number;
}

/** The answers the receiver gives; values are the rpc.grpc.status attribute. */
export type GrpcAnswer = 'OK' | 'INVALID_ARGUMENT';
export const GRPC_ANSWERS: readonly GrpcAnswer[] = ['OK', 'INVALID_ARGUMENT'];

/** Distinct user-type values counted apart; the plugin sends one per broker configuration. */
export const MAX_USER_TYPES = 20;
const OTHER_USER_TYPE = 'other';

const EMPTY = Buffer.alloc(0);
/** HealthCheckResponse{status: SERVING} and {status: NOT_SERVING}. */
const HEALTH_SERVING = Buffer.from([0x08, 0x01]);
const HEALTH_NOT_SERVING = Buffer.from([0x08, 0x02]);
const REJECT_LOG_INTERVAL_MS = 10_000;

const passThrough = (b: Buffer): Buffer => b;
const emptyResponse = (): Buffer => EMPTY;

/** Calls answered per user-type, by answer. */
export type CallCounts = Map<string, Record<GrpcAnswer, number>>;

/** The plugin's gRPC transport: a second receiver front into the same outputs and counters. */
export class GrpcReceiver implements Component {
  private boundAddress: AddressInfo | null = null;
  readonly calls: CallCounts = new Map();
  private server: grpc.Server | null = null;
  private bound = false;
  private shuttingDown = false;
  private readonly decoder: EventDecoder;

  constructor(
    private readonly options: GrpcReceiverOptions,
    private readonly sink: EventSink,
    private readonly stats: IngestStats,
    private readonly logger: SidecarLogger,
    decoder: EventDecoder = new EventDecoder(),
  ) {
    this.decoder = decoder;
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
        calls: Object.fromEntries([...this.calls].map(([userType, c]) => [userType, { ...c }])),
      },
    };
  }

  /** Exports vmq_sidecar.grpc.calls (read at collection time, like the other ingest counters). */
  registerMetrics(store: MetricStore): void {
    const calls = store.sum(SIDECAR_METRICS.grpcCalls);
    store.onCollect(() => {
      for (const [userType, c] of this.calls) for (const a of GRPC_ANSWERS) calls.get(a, userType).value = c[a];
    });
  }

  /** Binds the listener; an address that cannot be bound is reported as a --grpc-listen problem. */
  start(): Promise<AddressInfo> {
    return bindOrExplain(() => this.listen(), { host: this.options.host, port: this.options.port, setting: '--grpc-listen' });
  }

  private async listen(): Promise<AddressInfo> {
    if (this.server) throw new Error('receiver already started');
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.options.maxMessageBytes,
      // The plugin's connections are long-lived; answer its keepalive pings.
      'grpc.keepalive_permit_without_calls': 1,
      // Channelz (nothing here reads it) tracks every call and stream: work and garbage per event.
      'grpc.enable_channelz': 0,
    });
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
      { Event: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.onEvent(call, callback) },
    );
    server.addService(
      {
        Check: {
          path: HEALTH_CHECK_PATH,
          requestStream: false,
          responseStream: false,
          requestDeserialize: passThrough,
          requestSerialize: passThrough,
          responseSerialize: passThrough,
          responseDeserialize: passThrough,
        },
      },
      { Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.onHealthCheck(call, callback) },
    );
    this.server = server;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(formatHostPort(this.options.host, this.options.port), grpc.ServerCredentials.createInsecure(), (err, p) => {
        if (err) {
          this.server = null;
          // grpc-js folds the socket error into its message ("No address added ... [listen
          // EADDRINUSE: ...]") without a code: give it back, so that a busy port is reported
          // as a --grpc-listen problem (exit 64), like --listen, not as a stack trace.
          const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL|ENOTFOUND)\b/.exec(err.message)?.[1];
          if (code !== undefined) (err as NodeJS.ErrnoException).code = code;
          reject(err);
        } else resolve(p);
      });
    });
    this.bound = true;
    const address: AddressInfo = { address: this.options.host, port, family: this.options.host.includes(':') ? 'IPv6' : 'IPv4' };
    this.logger.info('listening for plugin gRPC calls', { address: formatHostPort(this.options.host, port), method: EVENT_METHOD_PATH });
    this.boundAddress = address;
    return address;
  }

  /**
   * Health turns NOT_SERVING, calls in flight get their drain time to be answered, then every
   * connection is closed. Safe to call more than once, and before start().
   */
  async stop(deadline = Date.now() + 800): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const drainMs = drainTime(deadline);
    this.shuttingDown = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, drainMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.bound = false;
  }

  private onEvent(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    const nowMs = Date.now();
    const counts = this.countsFor(call.metadata);
    const req = call.request;
    const stats = this.stats;
    const mine = stats.grpc;
    stats.bytesReceived += req.length;
    stats.framesReceived++;
    mine.framesReceived++;
    // EventRequest { google.protobuf.Any event = 1; }: find field 1 (a later occurrence wins,
    // as protobuf merges a repeated embedded message); unknown fields are skipped.
    let start = 0;
    let end = 0;
    let pos = 0;
    const len = req.length;
    while (pos < len) {
      const tag = readVarint(req, pos);
      if (tag < 0) return this.reject(callback, counts, 'invalid_envelope', 'EventRequest is not valid protobuf');
      pos = varintEnd;
      const wireType = tag & 7;
      if (wireType === 2) {
        const n = readVarint(req, pos);
        if (n < 0 || varintEnd + n > len) return this.reject(callback, counts, 'invalid_envelope', 'EventRequest is not valid protobuf');
        if (tag >>> 3 === 1) {
          start = varintEnd;
          end = varintEnd + n;
        }
        pos = varintEnd + n;
      } else if (wireType === 0) {
        if (readVarint(req, pos) < 0) return this.reject(callback, counts, 'invalid_envelope', 'EventRequest is not valid protobuf');
        pos = varintEnd;
      } else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else return this.reject(callback, counts, 'invalid_envelope', 'EventRequest is not valid protobuf');
    }
    if (pos > len) return this.reject(callback, counts, 'invalid_envelope', 'EventRequest is not valid protobuf');

    const dec = this.decoder;
    const event = dec.decode(req, start, end, nowMs);
    if (event === null) return this.reject(callback, counts, dec.failure, dec.failureDetail);
    stats.countEvent(event, nowMs);
    mine.eventsByHook[event.hookIndex]!++;
    try {
      this.sink.consume(event, nowMs);
    } catch (err) {
      // The fan-out gave the event to every other sink and threw the failure on: counted here
      // once, as the TCP connection handler does.
      stats.rejected.sink_error++;
      mine.rejected.sink_error++;
      this.logger.limited('error', 'sink_error', REJECT_LOG_INTERVAL_MS, 'event sink failed', { hook: event.hook, detail: (err as Error)?.stack ?? String(err) });
    }
    // Still OK: the event was accepted and the other sinks have it; the failure is ours, counted.
    counts.OK++;
    callback(null, EMPTY);
  }

  private reject(callback: grpc.sendUnaryData<Buffer>, counts: Record<GrpcAnswer, number>, reason: RejectReason, detail: string): void {
    this.stats.rejected[reason]++;
    this.stats.grpc.rejected[reason]++;
    counts.INVALID_ARGUMENT++;
    this.logger.limited('warn', `grpc-${reason}`, REJECT_LOG_INTERVAL_MS, 'gRPC event rejected', { reason, detail });
    callback({ code: grpc.status.INVALID_ARGUMENT, details: `${reason}${detail ? `: ${detail}` : ''}` });
  }

  private countsFor(metadata: grpc.Metadata): Record<GrpcAnswer, number> {
    const values = metadata.get('user-type');
    let userType = values.length > 0 ? String(values[0]) : '';
    let c = this.calls.get(userType);
    if (c !== undefined) return c;
    if (this.calls.size >= MAX_USER_TYPES) userType = OTHER_USER_TYPE;
    c = this.calls.get(userType);
    if (c === undefined) {
      c = { OK: 0, INVALID_ARGUMENT: 0 };
      this.calls.set(userType, c);
    }
    return c;
  }

  private onHealthCheck(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    // HealthCheckRequest { string service = 1; }
    const req = call.request;
    let service = '';
    if (req.length >= 2 && req[0] === 0x0a) {
      const n = readVarint(req, 1);
      if (n >= 0 && varintEnd + n <= req.length) service = req.toString('utf8', varintEnd, varintEnd + n);
    }
    if (service !== '' && service !== PLUGIN_SERVICE_NAME) {
      callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(service)}` });
      return;
    }
    callback(null, this.shuttingDown ? HEALTH_NOT_SERVING : HEALTH_SERVING);
  }
}

/** Where the last readVarint ended (a module-level cursor, to return two values without allocating). */
let varintEnd = 0;

/** A varint of up to 35 bits at buf[pos], or -1 when truncated or longer. */
function readVarint(buf: Buffer, pos: number): number {
  // A running scale, not 2 ** shift: the power is a floating-point call per byte.
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
