import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { emptyResource } from '@opentelemetry/resources';
import { LogSink, MAX_USER_PROPERTIES, type LogSinkOptions } from '../../src/sinks/log-sink.js';
import { EventDecoder } from '../../src/decoding/event-decoder.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import type { SimEvent } from '../../src/simulator/client-model.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

const encoder = new FrameEncoder();
const decoder = new EventDecoder();

function decode(e: SimEvent): SidecarEvent {
  const f = encoder.encodeFrame(e);
  return decoder.decode(f, 4, f.length, Date.now())!;
}

function sink(options: Partial<LogSinkOptions>, random = () => 0.5) {
  const out: ReadableLogRecord[] = [];
  const s = new LogSink(
    (r) => out.push(r),
    emptyResource(),
    { name: 'test' },
    { ratios: parseLogHooks('lifecycle'), tracedMessages: false, traceContextField: 'traceparent', payloadMaxBytes: 0, ...options },
    random,
  );
  return { s, records: () => out };
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

test('user properties are copied with bounded count and size', () => {
  const { s, records } = sink({});
  const props: Record<string, string> = {};
  for (let i = 0; i < 40; i++) props[`k${i}`] = 'v'.repeat(1000);
  s.consume(decode({ ...SAMPLE_EVENTS.on_register, userProperties: props }), Date.now());
  const attrs = records()[0]!.attributes;
  const copied = Object.keys(attrs).filter((k) => k.startsWith('mqtt.user_property.'));
  assert.equal(copied.length, MAX_USER_PROPERTIES);
  assert.equal((attrs['mqtt.user_property.k0'] as string).length, 256);
  assert.equal(attrs['mqtt.user_properties.dropped'], 40 - MAX_USER_PROPERTIES);
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
