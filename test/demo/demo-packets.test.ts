/**
 * The packets the demo application builds by hand, read back with an independent parser: the
 * CONNECT is MQTT 3.1.1 followed by the property block Gojek's fork reads (user properties
 * holding the traceparent), the PUBLISH carries a JSON payload with the traceparent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface DemoPackets {
  connect311(o: { clientId: string; username?: string; password?: string; keepAliveSeconds?: number; cleanSession?: boolean; userProperties?: Record<string, string | undefined> }): Buffer;
  publish311(topic: string, payload: string | Buffer): Buffer;
  tracedPayload(fields: Record<string, unknown>, traceparent: string | undefined): string;
  PINGREQ: Buffer;
  DISCONNECT: Buffer;
}

const MODULE = fileURLToPath(new URL('../../../demo/mqtt-packets.mjs', import.meta.url));
const load = async () => (await import(pathToFileURL(MODULE).href)) as DemoPackets;

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

class Reader {
  pos = 0;
  constructor(readonly b: Buffer) {}
  u8(): number {
    assert.ok(this.pos < this.b.length, 'read past the end');
    return this.b[this.pos++]!;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  str(): string {
    const n = this.u16();
    assert.ok(this.pos + n <= this.b.length, 'string past the end');
    const s = this.b.subarray(this.pos, this.pos + n).toString('utf8');
    this.pos += n;
    return s;
  }
  varint(): number {
    let mult = 1;
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const byte = this.u8();
      n += (byte & 0x7f) * mult;
      if ((byte & 0x80) === 0) return n;
      mult *= 128;
    }
    throw new Error('remaining length longer than 4 bytes');
  }
  get left(): number {
    return this.b.length - this.pos;
  }
}

/** Fixed header: packet type and the body, whose length must be the remaining length. */
function body(packet: Buffer): { type: number; flags: number; r: Reader } {
  const r = new Reader(packet);
  const first = r.u8();
  const len = r.varint();
  assert.equal(r.left, len, 'remaining length covers the packet exactly');
  return { type: first >> 4, flags: first & 0x0f, r };
}

test('demo CONNECT: MQTT 3.1.1, then a property block of user properties with the traceparent', async () => {
  const { connect311 } = await load();
  const packet = connect311({ clientId: 'demo-gateway', username: 'gw', password: 'pw', keepAliveSeconds: 30, userProperties: { traceparent: TRACEPARENT, tracestate: undefined, site: 'ä-1' } });
  const { type, flags, r } = body(packet);
  assert.equal(type, 1, 'CONNECT');
  assert.equal(flags, 0);
  assert.equal(r.str(), 'MQTT');
  assert.equal(r.u8(), 4, 'protocol level 4 = MQTT 3.1.1');
  const connectFlags = r.u8();
  assert.equal(connectFlags & 0x01, 0, 'reserved bit');
  assert.equal(connectFlags & 0x04, 0, 'no will');
  assert.equal(connectFlags & 0x80, 0x80, 'username');
  assert.equal(connectFlags & 0x40, 0x40, 'password');
  assert.equal(r.u16(), 30, 'keep alive');
  assert.equal(r.str(), 'demo-gateway');
  assert.equal(r.str(), 'gw');
  assert.equal(r.str(), 'pw');
  // What the fork parses after the password: properties, no length prefix, until the end.
  const props: [string, string][] = [];
  while (r.left > 0) {
    assert.equal(r.u8(), 0x26, 'user property identifier');
    props.push([r.str(), r.str()]);
  }
  assert.deepEqual(props, [
    ['traceparent', TRACEPARENT],
    ['site', 'ä-1'],
  ]);
});

test('demo CONNECT without credentials or properties is a plain 3.1.1 CONNECT', async () => {
  const { connect311 } = await load();
  const { r } = body(connect311({ clientId: 'c', cleanSession: false }));
  assert.equal(r.str(), 'MQTT');
  assert.equal(r.u8(), 4);
  assert.equal(r.u8(), 0, 'no flags: persistent session, no username/password');
  r.u16();
  assert.equal(r.str(), 'c');
  assert.equal(r.left, 0);
});

test('demo PUBLISH: QoS 0, topic, JSON payload whose traceparent the sidecar finds', async () => {
  const { publish311, tracedPayload, PINGREQ, DISCONNECT } = await load();
  const payload = tracedPayload({ seq: 1 }, TRACEPARENT);
  const big = 'x'.repeat(300); // remaining length over 127: two varint bytes
  const { type, flags, r } = body(publish311('demo/gateway/telemetry', payload + big));
  assert.equal(type, 3);
  assert.equal(flags, 0, 'QoS 0, no retain, no dup');
  assert.equal(r.str(), 'demo/gateway/telemetry');
  const rest = r.b.subarray(r.pos).toString('utf8');
  assert.equal(JSON.parse(rest.slice(0, payload.length)).traceparent, TRACEPARENT);
  assert.equal(JSON.parse(tracedPayload({ seq: 2 }, undefined)).traceparent, undefined);
  assert.deepEqual([...PINGREQ], [0xc0, 0]);
  assert.deepEqual([...DISCONNECT], [0xe0, 0]);
});
