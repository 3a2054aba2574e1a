// MQTT 3.1.1 packets built by hand, for the one thing no MQTT library sends: a 3.1.1 CONNECT
// carrying user properties. Gojek's VerneMQ fork reads, after the CONNECT payload (client id,
// will, username, password), a block of MQTT 5 properties and passes its user properties to
// on_register (vmq_parser:variable/2 at gojek/vernemq v5.1.0 hands the rest of the packet to
// vmq_parser_mqtt5:parse_properties/2): a bare property list, without the length prefix an
// MQTT 5 packet has. That is how a CONNECT's trace context reaches the sidecar; an MQTT 5
// CONNECT's user properties never do (MQTT 5 sessions fire no on_register).

const CONNECT = 0x10;
const PUBLISH = 0x30;
const USER_PROPERTY = 0x26;

/** The remaining-length varint of the fixed header. */
export function remainingLength(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** A UTF-8 string with its 2-byte big-endian length. */
export function utf8(s) {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 0xffff) throw new RangeError('string longer than 65535 bytes');
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function packet(firstByte, body) {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

/**
 * An MQTT 3.1.1 CONNECT (protocol level 4) with `userProperties` appended after the payload,
 * as the fork accepts them.
 */
export function connect311({ clientId, username, password, keepAliveSeconds = 30, cleanSession = true, userProperties = {} }) {
  let flags = cleanSession ? 0x02 : 0;
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const keepAlive = Buffer.alloc(2);
  keepAlive.writeUInt16BE(keepAliveSeconds, 0);
  const parts = [utf8('MQTT'), Buffer.from([4, flags]), keepAlive, utf8(clientId)];
  if (username !== undefined) parts.push(utf8(username));
  if (password !== undefined) parts.push(utf8(password));
  for (const [k, v] of Object.entries(userProperties)) {
    if (v === undefined) continue;
    parts.push(Buffer.from([USER_PROPERTY]), utf8(k), utf8(String(v)));
  }
  return packet(CONNECT, Buffer.concat(parts));
}

/** A QoS 0 PUBLISH. */
export function publish311(topic, payload) {
  return packet(PUBLISH, Buffer.concat([utf8(topic), Buffer.from(payload)]));
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** The JSON payload the sidecar finds the trace context in (its --trace-context-field). */
export function tracedPayload(fields, traceparent) {
  return JSON.stringify(traceparent ? { ...fields, traceparent } : fields);
}
