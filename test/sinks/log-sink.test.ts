import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { emptyResource } from '@opentelemetry/resources';
import { LogSink, MAX_USER_PROPERTIES, type LogSinkOptions } from '../../src/sinks/log-sink.js';
import { FanoutSink } from '../../src/sinks/event-sink.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { parseTopicGroups } from '../../src/metrics/topic-grouper.js';
import { fakeHost } from '../helpers/fake-host.js';
import type { SimEvent } from '../../src/simulator/client-model.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

const encoder = new FrameEncoder();
const decoder = new EventDecoder();

function decode(e: SimEvent): SidecarEvent {
  const f = encoder.encodeFrame(e);
  return decoder.decode(f, 4, f.length, Date.now())!;
}

function sink(options: Partial<LogSinkOptions>, random = () => 0.5, host = fakeHost({ resource: emptyResource(), scope: { name: 'test' } })) {
  const s = new LogSink(host, { ratios: parseLogHooks('lifecycle'), tracedMessages: false, traceContextField: 'traceparent', payloadMaxBytes: 0, ...options }, random);
  return { s, records: () => host.records as ReadableLogRecord[] };
}

test('by default lifecycle events are logged and high-volume message events are not', () => {
  const { s, records } = sink({});
  for (const e of Object.values(SAMPLE_EVENTS)) s.consume(decode(e), Date.now());
  const names = records().map((r) => r.eventName).sort();
  assert.deepEqual(names, [
    'vernemq.on_client_gone',
    'vernemq.on_client_offline',
    'vernemq.on_client_wakeup',
    'vernemq.on_message_drop',
    'vernemq.on_register',
    'vernemq.on_register_failed',
    'vernemq.on_session_expired',
    'vernemq.on_subscribe',
    'vernemq.on_unsubscribe',
  ]);
});

test('the hooks a log sink names are all it needs: routed by the fan-out, it records and samples as when handed every event', () => {
  const configs: Partial<LogSinkOptions>[] = [{}, { ratios: parseLogHooks('on_publish:0.5,on_register') }, { ratios: parseLogHooks('none'), tracedMessages: true }, { ratios: parseLogHooks('all') }];
  for (const config of configs) {
    let i = 0;
    let j = 0;
    const direct = sink(config, () => (i++ % 10) / 10);
    const routed = sink(config, () => (j++ % 10) / 10);
    const fanout = new FanoutSink([routed.s]);
    for (let n = 0; n < 4; n++) {
      for (const e of Object.values(SAMPLE_EVENTS)) {
        const event = decode(e);
        direct.s.consume(event, 1_764_133_200_000);
        fanout.consume(event, 1_764_133_200_000);
      }
    }
    const names = (r: ReadableLogRecord[]) => r.map((x) => x.eventName);
    assert.ok(direct.records().length > 0);
    assert.deepEqual(names(routed.records()), names(direct.records()), JSON.stringify(config));
    assert.equal(routed.s.sampledOut, direct.s.sampledOut);
  }
});

test('a sampling ratio logs that share of a hook\'s events', () => {
  let i = 0;
  const { s, records } = sink({ ratios: parseLogHooks('on_publish:0.25') }, () => (i++ % 100) / 100);
  const pub = decode({ ...SAMPLE_EVENTS.on_publish, payload: Buffer.from('x') });
  for (let n = 0; n < 1000; n++) s.consume(pub, Date.now());
  assert.equal(records().length, 250);
  assert.equal(s.sampledOut, 750);
});

test('traced messages are logged even when their hook is off, with the trace id', () => {
  const { s, records } = sink({ tracedMessages: true });
  s.consume(decode(SAMPLE_EVENTS.on_deliver), Date.now()); // JSON payload with traceparent
  s.consume(decode({ ...SAMPLE_EVENTS.on_deliver, payload: Buffer.from('{"no":"trace"}') }), Date.now());
  const r = records();
  assert.equal(r.length, 1);
  assert.equal(r[0]!.spanContext?.traceId, '0af7651916cd43dd8448eb211c80319c');
});

test('payloads are logged only when asked, cut at the limit, base64 when not UTF-8', () => {
  const { s, records } = sink({ ratios: parseLogHooks('on_publish,on_delivery_complete'), payloadMaxBytes: 4 });
  s.consume(decode({ ...SAMPLE_EVENTS.on_publish, payload: Buffer.from('hello world') }), Date.now());
  s.consume(decode(SAMPLE_EVENTS.on_delivery_complete), Date.now()); // bytes 00 01 02 ff
  const [text, bin] = records();
  assert.equal(text!.attributes['mqtt.payload'], 'hell');
  assert.equal(text!.attributes['mqtt.payload.encoding'], 'utf8');
  assert.equal(text!.attributes['mqtt.payload.truncated'], true);
  assert.equal(text!.attributes['messaging.message.body.size'], 11);
  assert.equal(bin!.attributes['mqtt.payload'], Buffer.from([0, 1, 2, 255]).toString('base64'));
  assert.equal(bin!.attributes['mqtt.payload.encoding'], 'base64');
});

test('user properties are copied with bounded count and size (with --log-user-properties \'*\')', () => {
  const { s, records } = sink({ userProperties: '*' });
  const props: Record<string, string> = {};
  for (let i = 0; i < 40; i++) props[`k${i}`] = 'v'.repeat(1000);
  s.consume(decode({ ...SAMPLE_EVENTS.on_register, userProperties: props }), Date.now());
  const attrs = records()[0]!.attributes;
  const copied = Object.keys(attrs).filter((k) => k.startsWith('mqtt.user_property.'));
  assert.equal(copied.length, MAX_USER_PROPERTIES);
  assert.equal((attrs['mqtt.user_property.k0'] as string).length, 256);
  assert.equal(attrs['mqtt.user_properties.dropped'], 40 - MAX_USER_PROPERTIES);
  assert.equal(records()[0]!.droppedAttributesCount, 40 - MAX_USER_PROPERTIES);
});

test('severity: WARN for refusals, drops, refused subscriptions and abnormal disconnects', () => {
  const { s, records } = sink({ ratios: parseLogHooks('all') });
  s.consume(decode({ ...SAMPLE_EVENTS.on_client_gone, reason: 2 }), Date.now()); // normal_disconnect
  s.consume(decode({ ...SAMPLE_EVENTS.on_client_gone, reason: 5 }), Date.now()); // keep-alive timeout
  s.consume(decode(SAMPLE_EVENTS.on_register_failed), Date.now());
  s.consume(decode(SAMPLE_EVENTS.on_message_drop), Date.now());
  s.consume(decode(SAMPLE_EVENTS.on_subscribe), Date.now()); // one filter refused
  assert.deepEqual(records().map((r) => r.severityText), ['INFO', 'WARN', 'WARN', 'WARN', 'WARN']);
});

test('records carry only the attributes the log catalog documents for their hook', async () => {
  const { LOG_RECORDS, LOG_ATTRIBUTES } = await import('../../src/sinks/log-catalog.js');
  const { s, records } = sink({ ratios: parseLogHooks('all'), payloadMaxBytes: 8 });
  for (const e of Object.values(SAMPLE_EVENTS)) s.consume(decode(e), Date.now());
  assert.equal(records().length, 13);
  for (const r of records()) {
    const hook = r.eventName!.slice('vernemq.'.length) as keyof typeof LOG_RECORDS;
    const allowed = LOG_RECORDS[hook].attributes;
    for (const k of Object.keys(r.attributes)) {
      const documented = k.startsWith('mqtt.user_property.') ? 'mqtt.user_property.<key>' : k;
      assert.ok(allowed.includes(documented), `${hook}: ${k} is not in the log catalog`);
      assert.ok(documented in LOG_ATTRIBUTES, `${k} has no description`);
    }
  }
});

test('CONNECT user properties: only traceparent and tracestate by default, more keys when allowlisted', () => {
  const props = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'v=1', auth_token: 'secret', 'device-model': 'x1' };
  const byDefault = sink({});
  byDefault.s.consume(decode({ ...SAMPLE_EVENTS.on_register, userProperties: props }), Date.now());
  const a = byDefault.records()[0]!.attributes;
  assert.deepEqual(Object.keys(a).filter((k) => k.startsWith('mqtt.user_property.')).sort(), ['mqtt.user_property.traceparent', 'mqtt.user_property.tracestate']);
  assert.ok(!JSON.stringify(byDefault.records()[0]).includes('secret'), 'the auth token is nowhere in the record');
  // The trace context still comes from the properties.
  assert.equal(byDefault.records()[0]!.spanContext?.traceId, '0af7651916cd43dd8448eb211c80319c');

  const added = sink({ userProperties: ['traceparent', 'tracestate', 'device-model'] });
  added.s.consume(decode({ ...SAMPLE_EVENTS.on_register, userProperties: props }), Date.now());
  assert.equal(added.records()[0]!.attributes['mqtt.user_property.device-model'], 'x1');
  assert.equal(added.records()[0]!.attributes['mqtt.user_property.auth_token'], undefined);
});

test('--redact hash: client id, username and peer replaced by a keyed hash, stable per key, in attributes and body', () => {
  const redact = { fields: ['client_id', 'username', 'peer'] as const, mode: 'hash' as const, key: 'a-key-of-16-chars-or-more' };
  const one = sink({ ratios: parseLogHooks('all'), redact });
  for (const e of Object.values(SAMPLE_EVENTS)) one.s.consume(decode(e), Date.now());
  // Topics are not redacted (they may hold a client id: docs/operations.md, Personal data).
  const text = JSON.stringify(one.records().map((r) => [r.body, r.attributes])).replace(/devices\/dev-1\/\w+/g, '');
  for (const secret of ['dev-1', 'dev-2', 'alice', 'mallory', '10.0.0.7', '10.0.0.8', '53122']) assert.ok(!text.includes(secret), `${secret} not in any record`);
  const reg = one.records().find((r) => r.eventName === 'vernemq.on_register')!;
  assert.match(String(reg.attributes['messaging.client.id']), /^h:[A-Za-z0-9_-]{22}$/);
  assert.match(String(reg.body), /^client h:\S+ connected from h:\S+$/);
  // Joinable: the same client gives the same hash in every record, and with the same key in another run.
  const wake = one.records().find((r) => r.eventName === 'vernemq.on_client_wakeup')!;
  assert.equal(wake.attributes['messaging.client.id'], reg.attributes['messaging.client.id']);
  const two = sink({ redact });
  two.s.consume(decode(SAMPLE_EVENTS.on_register), Date.now());
  assert.equal(two.records()[0]!.attributes['messaging.client.id'], reg.attributes['messaging.client.id']);
  // Another key: another hash.
  const three = sink({ redact: { ...redact, key: 'another-key-of-16-chars' } });
  three.s.consume(decode(SAMPLE_EVENTS.on_register), Date.now());
  assert.notEqual(three.records()[0]!.attributes['messaging.client.id'], reg.attributes['messaging.client.id']);
});

test('--redact drop: the attributes are left out and the body says redacted', () => {
  const { s, records } = sink({ redact: { fields: ['client_id', 'username', 'peer'], mode: 'drop', key: undefined } });
  s.consume(decode(SAMPLE_EVENTS.on_register), Date.now());
  const r = records()[0]!;
  for (const k of ['messaging.client.id', 'user.name', 'client.address', 'client.port']) assert.equal(r.attributes[k], undefined, k);
  assert.equal(r.body, 'client (redacted) connected from a redacted address');
});

test('OTEL_LOGRECORD_ATTRIBUTE_* limits: values cut, attributes past the count dropped and counted', () => {
  const { s, records } = sink({ ratios: parseLogHooks('all'), userProperties: '*', limits: { attributeCountLimit: 5, attributeValueLengthLimit: 10 } });
  s.consume(decode({ ...SAMPLE_EVENTS.on_register, clientId: 'c'.repeat(100) }), Date.now());
  const r = records()[0]!;
  assert.equal(Object.keys(r.attributes).length, 5);
  assert.ok(r.droppedAttributesCount > 0);
  assert.equal(r.attributes['messaging.client.id'], 'c'.repeat(10));
  assert.ok(String(r.body).length <= 10);
  const topics = Array.from({ length: 1000 }, (_, i) => ({ topic: `t/${i}/${'x'.repeat(50)}`, qos: 1 }));
  s.consume(decode({ ...SAMPLE_EVENTS.on_subscribe, topics }), Date.now());
});

test('a SUBSCRIBE with thousands of filters: the record keeps the first 100 and counts the rest', async () => {
  const { MAX_TOPICS_PER_RECORD } = await import('../../src/sinks/log-sink.js');
  const { s, records } = sink({});
  const topics = Array.from({ length: 5000 }, (_, i) => ({ topic: `t/${i}`, qos: 1 }));
  s.consume(decode({ ...SAMPLE_EVENTS.on_subscribe, topics }), Date.now());
  const a = records()[0]!.attributes;
  assert.equal((a['mqtt.subscription.topics'] as string[]).length, MAX_TOPICS_PER_RECORD);
  assert.equal((a['mqtt.subscription.qos'] as number[]).length, MAX_TOPICS_PER_RECORD);
  assert.equal(a['mqtt.subscription.topics.dropped'], 5000 - MAX_TOPICS_PER_RECORD);
});

test('an MQTT 5 disconnect (reason unspecified, no username, no session id) is INFO without error.type', () => {
  const { s, records } = sink({ ratios: parseLogHooks('all') });
  const mqtt5 = { username: '', sessionId: '', reason: 0 } as Partial<SimEvent>; // 0: unspecified
  s.consume(decode({ ...SAMPLE_EVENTS.on_client_gone, ...mqtt5 } as SimEvent), Date.now());
  s.consume(decode({ ...SAMPLE_EVENTS.on_client_offline, ...mqtt5 } as SimEvent), Date.now());
  assert.deepEqual(
    records().map((r) => [r.severityText, r.attributes['mqtt.disconnect.reason'], r.attributes['error.type']]),
    [
      ['INFO', 'unspecified', undefined],
      ['INFO', 'unspecified', undefined],
    ],
  );
});

test('the register record names the peer as HOST:PORT, IPv6 in brackets, and says when the address is unknown', () => {
  const { s, records } = sink({});
  s.consume(decode({ ...SAMPLE_EVENTS.on_register, clientId: 'a', peerAddr: '10.0.0.1', peerPort: 1883 }), Date.now());
  s.consume(decode({ ...SAMPLE_EVENTS.on_register, clientId: 'b', peerAddr: '2001:db8::1', peerPort: 1883 }), Date.now());
  s.consume(decode({ ...SAMPLE_EVENTS.on_register, clientId: 'c', peerAddr: '', peerPort: 20050 }), Date.now());
  assert.deepEqual(
    records().map((r) => r.body),
    ['client a connected from 10.0.0.1:1883', 'client b connected from [2001:db8::1]:1883', 'client c connected from an unknown address (port 20050)'],
  );
});

test('semantic conventions: error.type only on failure records, messaging.destination.template from the ACL or the topic groups', () => {
  const { s, records } = sink({ ratios: parseLogHooks('all'), topicGroups: parseTopicGroups('devices/+/telemetry=telemetry') });
  const now = Date.now();
  s.consume(decode({ ...SAMPLE_EVENTS.on_client_offline, reason: 2 } as SimEvent), now); // normal_disconnect: INFO
  s.consume(decode({ ...SAMPLE_EVENTS.on_client_gone, reason: 17 } as SimEvent), now); // tcp_closed: WARN
  s.consume(decode({ ...SAMPLE_EVENTS.on_publish, topic: 'devices/7/telemetry', matchedAcl: undefined } as SimEvent), now);
  s.consume(decode({ ...SAMPLE_EVENTS.on_publish, topic: 'devices/7/telemetry', matchedAcl: { name: 'acl', pattern: 'devices/%c/#' } } as SimEvent), now);
  s.consume(decode({ ...SAMPLE_EVENTS.on_publish, topic: 'elsewhere', matchedAcl: undefined } as SimEvent), now);
  const [offline, gone, byGroup, byAcl, none] = records();
  assert.equal(offline!.severityText, 'INFO');
  assert.equal(offline!.attributes['error.type'], undefined);
  assert.equal(gone!.severityText, 'WARN');
  assert.equal(gone!.attributes['error.type'], gone!.attributes['mqtt.disconnect.reason']);
  assert.equal(byGroup!.attributes['messaging.destination.template'], 'devices/+/telemetry');
  assert.equal(byAcl!.attributes['messaging.destination.template'], 'devices/%c/#');
  assert.equal(none!.attributes['messaging.destination.template'], undefined);
  for (const r of records()) for (const k of ['mqtt.acl.pattern', 'mqtt.drop.reason', 'mqtt.failure.reason', 'network.peer.address']) assert.equal(r.attributes[k], undefined, k);
});

test('--client-groups: mqtt.client.group on the records that have it on their metrics', () => {
  const { s, records } = sink({ ratios: parseLogHooks('all') }, undefined, fakeHost({ clientGroups: 'user:alice=people' }));
  const now = Date.now();
  for (const h of ['on_register', 'on_client_wakeup', 'on_register_failed'] as const) s.consume(decode(SAMPLE_EVENTS[h]), now);
  const [register, wakeup, failed] = records();
  assert.equal(register!.attributes['mqtt.client.group'], 'people');
  assert.equal(wakeup!.attributes['mqtt.client.group'], undefined, 'not on wakeup records (nor on its metric)');
  assert.equal(failed!.attributes['mqtt.client.group'], 'ungrouped');
});
