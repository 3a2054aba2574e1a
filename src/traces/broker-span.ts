/**
 * A span of the broker's hop, as the span sink builds it and the span serializers
 * (telemetry/otlp/span-encoder.ts) write it: ids, times and attributes given, not measured, so
 * the OpenTelemetry Tracer (which draws ids and reads the clock) is not involved.
 */

/** OTLP Span.SpanKind: the receipt consumes the publisher's message, a delivery produces one for a subscriber. */
export const SPAN_KIND_PRODUCER = 4;
export const SPAN_KIND_CONSUMER = 5;

/** OTLP Span.flags: bits 0-7 the W3C trace flags, bit 8 "has is_remote", bit 9 "parent is remote". */
export const FLAG_HAS_IS_REMOTE = 0x100;
export const FLAG_PARENT_REMOTE = 0x200;

export type SpanAttributeValue = string | number | boolean;

export interface SpanEvent {
  name: string;
  timeSec: number;
  timeNanos: number;
  attributes: Record<string, SpanAttributeValue>;
}

export class BrokerSpan {
  /** Events recorded on the span (the delivery's completion). */
  events: SpanEvent[] | null = null;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly parentSpanId: string,
    /** W3C tracestate of the publisher's context ('' when none). */
    readonly traceState: string,
    readonly flags: number,
    /** Not readonly: a delivery span takes its publish's destination template once the receipt is known. */
    public name: string,
    readonly kind: number,
    public startSec: number,
    public startNanos: number,
    public endSec: number,
    public endNanos: number,
    readonly attributes: Record<string, SpanAttributeValue>,
  ) {}
}

/** Milliseconds from (aSec, aNanos) to (bSec, bNanos). */
export function millisBetween(aSec: number, aNanos: number, bSec: number, bNanos: number): number {
  return (bSec - aSec) * 1000 + (bNanos - aNanos) / 1e6;
}
