/**
 * W3C Trace Context from what MQTT clients send: `traceparent` in the user properties of an
 * MQTT 3.1.1 CONNECT (Gojek's fork reads a properties block after the CONNECT payload and passes
 * it to on_register; MQTT 5 connects fire no on_register), `traceparent` / `tracestate` user
 * properties of an MQTT 5 PUBLISH (the W3C MQTT carrier; the companion plugin
 * vmq_events_sidecar_m5 sends them with its publish and deliver events), or a `traceparent` field
 * in a JSON payload (message events).
 *
 * Payloads are searched with byte checks only (first non-blank byte is '{', then a native
 * substring search for the quoted field name): no JSON parsing, no string made of the payload.
 */

export interface TraceContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** Parses a traceparent header value; null unless it is valid (version 00 layout, non-zero ids). */
export function parseTraceparent(value: string): TraceContext | null {
  // version-traceid-spanid-flags; later versions may append fields after another '-'.
  if (value.length < 55) return null;
  const v = value.trim().toLowerCase();
  if (v.charCodeAt(2) !== 0x2d || v.charCodeAt(35) !== 0x2d || v.charCodeAt(52) !== 0x2d) return null;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return null;
  if (version === '00' && v.length !== 55) return null;
  if (v.length > 55 && v.charCodeAt(55) !== 0x2d) return null;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 0xff };
}

export function traceFromUserProperties(props: Record<string, string>): TraceContext | null {
  const tp = props.traceparent;
  if (tp === undefined) return null;
  const ctx = parseTraceparent(tp);
  if (ctx !== null && props.tracestate !== undefined && props.tracestate.length <= 512) ctx.traceState = props.tracestate;
  return ctx;
}

function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** A message event as far as its trace context goes (every message event is one). */
export interface TracedMessage {
  payload: Uint8Array;
  /** MQTT 5 user properties (the companion's publish and deliver events); absent otherwise. */
  userProperties?: Record<string, string>;
}

export class PayloadTraceFinder {
  private readonly needle: Buffer;

  constructor(readonly field: string = 'traceparent') {
    this.needle = Buffer.from(JSON.stringify(field), 'utf8');
  }

  /**
   * The trace context of a message: given the event, its MQTT 5 `traceparent` user property
   * when it has a valid one (the protocol's own carrier wins over a payload field), else the
   * payload's JSON field; given only a payload, the payload's field. Null when there is none.
   * Every output that reads trace context (log records, spans) should pass the event.
   */
  find(message: TracedMessage | Uint8Array): TraceContext | null {
    if (message instanceof Uint8Array) return this.findInPayload(message);
    const props = message.userProperties;
    if (props !== undefined && props.traceparent !== undefined) {
      const ctx = traceFromUserProperties(props);
      if (ctx !== null) return ctx;
    }
    return this.findInPayload(message.payload);
  }

  /** The trace context in a JSON object payload's field, or null (cheaply, for non-JSON). */
  findInPayload(payload: Uint8Array): TraceContext | null {
    const len = payload.length;
    let i = 0;
    while (i < len && i < 16 && isBlank(payload[i]!)) i++;
    if (i >= len || payload[i] !== 0x7b /* { */) return null;
    const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const at = buf.indexOf(this.needle, i);
    if (at < 0) return null;
    let p = at + this.needle.length;
    while (p < len && isBlank(buf[p]!)) p++;
    if (buf[p] !== 0x3a /* : */) return null;
    p++;
    while (p < len && isBlank(buf[p]!)) p++;
    if (buf[p] !== 0x22 /* " */) return null;
    const start = p + 1;
    const end = buf.indexOf(0x22, start);
    if (end < 0 || end - start > 128) return null;
    return parseTraceparent(buf.toString('latin1', start, end));
  }
}
