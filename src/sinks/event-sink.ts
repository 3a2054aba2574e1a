/**
 * The seam between decoding and everything that consumes events.
 *
 * consume() is called on the hot path, synchronously, once per event: it must not await, do
 * I/O or keep a reference to byte fields (payload) past the call without copying them, nor to
 * the event object or its nested objects: on the metrics path the decoder reuses them for the
 * next event of the same hook (event-decoder.ts, reuseEvents). Strings and lists may be kept.
 */
import { HOOKS, type HookName, type SidecarEvent } from '../events/event-types.js';
import type { Component } from '../lifecycle/component.js';

export interface EventSink {
  /**
   * The hooks this sink does anything with; absent: every hook. Read once, when the fan-out is
   * built: the fan-out hands the sink no other hook's events.
   */
  readonly hooks?: readonly HookName[];
  /** `arrivalMs`: when the bytes carrying the event were read (ms since the epoch). */
  consume(event: SidecarEvent, arrivalMs: number): void;
  /** Pushes out anything buffered; called on shutdown, bounded by the caller's deadline. */
  shutdown?(): Promise<void>;
}

/** What deliver() returns when every sink took the event. */
export const DELIVERED: unique symbol = Symbol('delivered');

/**
 * Hands `event` to each of `sinks` in order. A sink that throws does not keep the event from
 * the others; the first failure is returned (the event counts once as sink_error), DELIVERED
 * when there was none. The one loop of the fan-out and the ingest core.
 */
export function deliver(sinks: readonly EventSink[], event: SidecarEvent, arrivalMs: number): unknown {
  let failure: unknown = DELIVERED;
  for (let i = 0; i < sinks.length; i++) {
    try {
      sinks[i]!.consume(event, arrivalMs);
    } catch (err) {
      if (failure === DELIVERED) failure = err;
    }
  }
  return failure;
}

function routeByHook(sinks: readonly EventSink[]): (readonly EventSink[])[] {
  return HOOKS.map((h) => sinks.filter((s) => s.hooks === undefined || s.hooks.includes(h)));
}

/**
 * Hands each event to the sinks that consume its hook, in order. A sink that throws does not
 * keep the event from the others; once all had it, the failure is thrown on to the caller. The
 * receivers do not call consume(): the ingest core walks the same routes (routes()) and counts
 * and logs a failure itself, one error path for every sink and transport.
 */
export class FanoutSink implements EventSink, Component {
  /**
   * The sinks per hook index. Routing here, once, rather than an early return in each sink: on
   * the metrics path a publish or deliver then reaches one sink, not every one, and each sink's reads
   * of the event see the few shapes of its own hooks instead of all thirteen (megamorphic).
   * Indexed by hookIndex, which the decoders' constructors set (proto-schema.ts): an event built
   * by hand needs a right one too (out of range, consume() throws).
   */
  private readonly byHook: (readonly EventSink[])[];

  constructor(private readonly sinks: readonly EventSink[]) {
    this.byHook = routeByHook(sinks);
  }

  /**
   * The sinks per hook index that `sink` stands for: a fan-out's routes, or the one sink for
   * the hooks it names. The ingest core loops over these itself (src/ingest/ingest-core.ts).
   */
  static routes(sink: EventSink): (readonly EventSink[])[] {
    return sink instanceof FanoutSink ? sink.byHook : routeByHook([sink]);
  }

  consume(event: SidecarEvent, arrivalMs: number): void {
    const failure = deliver(this.byHook[event.hookIndex]!, event, arrivalMs);
    if (failure !== DELIVERED) throw failure;
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.shutdown?.()));
  }

  /** Stopped after the receivers: no event arrives any more, buffered output is pushed out. */
  stop(): Promise<void> {
    return this.shutdown();
  }
}
