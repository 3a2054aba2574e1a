/**
 * The one place an event's bytes become an event in the outputs, whichever transport carried
 * them: decode, count, fan out, and count and log what failed. The transports are thin: TCP
 * frames the stream and keeps connection stats (connection-handler.ts), gRPC finds the Any in
 * the request and answers the call (grpc-receiver.ts); both hand the bytes here.
 *
 * Runs once per event: no allocation on the way to the outputs, no await, no I/O.
 */
import { EventDecoder } from '../decoding/event-decoder.js';
import type { SidecarEvent } from '../events/event-types.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { DELIVERED, FanoutSink, deliver, type EventSink } from '../sinks/event-sink.js';
import type { IngestStats, RejectReason, TransportCounters } from '../receiver/ingest-stats.js';
import type { AttributeFolding } from '../metrics/attribute-folding.js';

/** At most one log line per reject reason and interval, across all connections of a transport. */
export const REJECT_LOG_INTERVAL_MS = 10_000;

/** How a transport's rejects read in the log: the message, the rate-limit key, the peer. */
export interface RejectLog {
  /** The message of a reject's line (e.g. "frame rejected"). */
  readonly message: string;
  /** Put before the reason in the rate-limit key (gRPC's rejects are limited apart from TCP's). */
  readonly keyPrefix: string;
  /** The peer's address, when the transport knows it per source (a TCP connection). */
  readonly peer?: string;
}

/**
 * What sent the bytes: a TCP connection, or the gRPC receiver. The core counts an event and a
 * reject on the source (its own figures) and on its transport's counters (the metrics).
 */
export interface IngestSource {
  /** The counters of the transport that carried the bytes: the core bumps only these. */
  readonly counters: TransportCounters;
  readonly rejectLog: RejectLog;
  /** Events decoded from this source. */
  events: number;
  /** Rejects (decode failures, sink failures, and the transport's own) from this source. */
  rejected: number;
}

/** The decoder, the outputs and the counters behind both transports. */
export class IngestCore {
  /**
   * The outputs per hook index, routed once (FanoutSink.routes): the core hands an event to its
   * hook's sinks itself (deliver()), with no call through the fan-out and no re-throw.
   */
  private readonly byHook: (readonly EventSink[])[];
  /** Why the last ingest() returned null, and how (for a transport that answers: gRPC). */
  failure: RejectReason = 'invalid_event';
  failureDetail = '';

  constructor(
    sink: EventSink,
    readonly stats: IngestStats,
    private readonly logger: SidecarLogger,
    private readonly decoder: EventDecoder = new EventDecoder(),
    /**
     * The host's attribute folding: sights each event's values once, before the outputs read
     * them (a direct call: as a sink in the routes it cost about a tenth of the CPU per event).
     */
    private readonly attributes: AttributeFolding | null = null,
  ) {
    this.byHook = FanoutSink.routes(sink);
  }

  /**
   * The event in bytes start..end of buf (an Any), arrived at `nowMs`: decoded, counted and
   * handed to the outputs. Null when it is not an event: counted and logged as a reject (the
   * reason in `failure`). A sink that throws does not keep the event from the other sinks, and
   * does not make the event rejected for the sender: it counts once as sink_error.
   */
  ingest(buf: Buffer, start: number, end: number, nowMs: number, source: IngestSource): SidecarEvent | null {
    const dec = this.decoder;
    const event = dec.decode(buf, start, end, nowMs);
    if (event === null) {
      this.failure = dec.failure;
      this.failureDetail = dec.failureDetail;
      this.reject(source, dec.failure, dec.failureDetail);
      return null;
    }
    const i = event.hookIndex;
    source.events++;
    const c = source.counters;
    c.events++;
    c.eventsByHook[i]!++;
    this.stats.countEvent(event, nowMs);
    if (this.attributes !== null) this.attributes.consume(event);
    const failure = deliver(this.byHook[i]!, event, nowMs);
    if (failure !== DELIVERED) this.sinkFailed(source, event, failure);
    return event;
  }

  /** Input from `source` that did not become an event: counted by reason, logged (rate-limited). */
  reject(source: IngestSource, reason: RejectReason, detail: string, message = source.rejectLog.message): void {
    this.count(source, reason);
    const log = source.rejectLog;
    this.logger.limited('warn', log.keyPrefix + reason, REJECT_LOG_INTERVAL_MS, message, {
      reason,
      ...(log.peer === undefined ? {} : { peer: log.peer }),
      detail,
    });
  }

  /** Counted by reason, not logged (a call the peer cancelled: nothing for the operator to act on). */
  count(source: IngestSource, reason: RejectReason): void {
    source.rejected++;
    source.counters.rejected[reason]++;
  }

  /** A bug in a sink, not bad input: logged as an error, with the hook that triggered it. */
  private sinkFailed(source: IngestSource, event: SidecarEvent, err: unknown): void {
    this.count(source, 'sink_error');
    const peer = source.rejectLog.peer;
    this.logger.limited('error', 'sink_error', REJECT_LOG_INTERVAL_MS, 'event sink failed', {
      reason: 'sink_error',
      ...(peer === undefined ? {} : { peer }),
      hook: event.hook,
      detail: (err as Error)?.stack ?? String(err),
    });
  }
}
