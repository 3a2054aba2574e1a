// The ids of the spans vmq-otel-sidecar exports for the broker's hop of a traced message
// (docs/traces.md), derived here the way the sidecar derives them, from what a subscriber has:
// the message (topic, payload bytes, the payload's traceparent) and its own client id. A
// subscriber that makes its processing span a child of its delivery span gets one trace that
// reads publisher span -> broker receipt -> delivery to this subscriber -> processing.
import { createHash } from 'node:crypto';

const SEP = Buffer.from([0]);

function spanIdOf(parts) {
  const h = createHash('sha256');
  parts.forEach((p, i) => {
    if (i > 0) h.update(SEP);
    h.update(p);
  });
  const id = h.digest().toString('hex', 0, 8);
  return id === '0000000000000000' ? '0000000000000001' : id;
}

/** The broker's receipt span id: SHA-256 of trace id, publisher span id, topic, payload (0-separated), first 8 bytes. */
export function receiptSpanId(traceId, publisherSpanId, topic, payload) {
  return spanIdOf([traceId, publisherSpanId, topic, payload]);
}

/** The delivery span id: SHA-256 of the receipt span id and the subscriber client id, first 8 bytes. */
export function deliverySpanId(receiptId, clientId) {
  return spanIdOf([receiptId, clientId]);
}

/**
 * The span context of the broker's delivery of this message to `clientId`, or null when the
 * payload carries no valid traceparent (version 00).
 */
export function deliverySpanContext(traceparent, topic, payload, clientId) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(traceparent).trim().toLowerCase());
  if (m === null) return null;
  const [, traceId, spanId, flags] = m;
  return { traceId, spanId: deliverySpanId(receiptSpanId(traceId, spanId, topic, payload), clientId), traceFlags: parseInt(flags, 16), isRemote: true };
}
