/**
 * Span ids that every sidecar derives alike from what the events of one message carry, so that
 * no state is shared: the publish, its deliveries and their completions may reach different
 * sidecars (central gRPC mode, replicas behind a load balancer) or arrive out of order, and a
 * delivery span still names the receipt span exported elsewhere as its parent.
 *
 * The receipt span's id hashes the trace id, the publisher's span id (the traceparent's), the
 * topic and the payload. The payload is what tells apart the messages one application span
 * publishes to one topic (a batch of readings, say): without it they would share an id.
 */
import { createHash } from 'node:crypto';

const ZERO_SPAN = '0000000000000000';
const SEP = Buffer.from([0]);

/** A span id from a SHA-256 over the parts: its first 8 bytes, never all zero. */
function spanIdOf(hash: ReturnType<typeof createHash>): string {
  const id = hash.digest().toString('hex', 0, 8);
  // A zero span id is invalid in OTLP; the odds are 2^-64, the fix is cheap.
  return id === ZERO_SPAN ? '0000000000000001' : id;
}

/** The broker's receipt span of a message: the same on every sidecar that sees one of its events. */
export function receiptSpanId(traceId: string, publisherSpanId: string, topic: string, payload: Uint8Array): string {
  return spanIdOf(createHash('sha256').update(traceId, 'latin1').update(SEP).update(publisherSpanId, 'latin1').update(SEP).update(topic, 'utf8').update(SEP).update(payload));
}

/**
 * A delivery span of a message: per receipt span and subscriber client id, which is all a
 * subscriber knows besides the message itself, so that it can derive the id too and continue the
 * trace under the delivery span (docs/traces.md, demo/index.mjs). A client that gets one message
 * twice (overlapping subscriptions) gets two spans with one id.
 */
export function deliverySpanId(receiptId: string, clientId: string): string {
  return spanIdOf(createHash('sha256').update(receiptId, 'latin1').update(SEP).update(clientId, 'utf8'));
}
