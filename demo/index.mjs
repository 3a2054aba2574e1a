// Demo traffic for the docker-compose stack, traced with OpenTelemetry, shaped by what the
// vmq_events_sidecar plugin can see (README "MQTT 5 clients"):
//
// - MQTT 3.1.1 devices publish JSON payloads with a "traceparent" field, and an MQTT 3.1.1
//   subscriber on the other node continues their traces: the sidecar puts that trace id on the
//   broker's publish, deliver and delivery_complete records.
// - One MQTT 3.1.1 gateway connects with a hand-built CONNECT carrying `traceparent` as user
//   properties after the payload, the way Gojek's fork accepts them: its on_register record
//   carries the trace of the connect.
// - One MQTT 5 client publishes (only: subscribing with MQTT 5 crashes sessions under the fork's
//   ACL plugins, docs/mqtt5.md) with its trace context in the PUBLISH's user properties (the W3C
//   MQTT carrier). The companion plugin vmq_events_sidecar_m5 reports its connects and publishes,
//   with that trace; without the companion the plugin sees only its session events.
import net from 'node:net';
import mqtt from 'mqtt';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { DISCONNECT, PINGREQ, connect311, publish311, tracedPayload } from './mqtt-packets.mjs';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'mqtt-demo-app' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register({ propagator: new W3CTraceContextPropagator() });
const tracer = trace.getTracer('mqtt-demo-app');

const PUBLISH_URL = process.env.MQTT_PUBLISH_URL ?? 'mqtt://localhost:1883';
const SUBSCRIBE_URL = process.env.MQTT_SUBSCRIBE_URL ?? PUBLISH_URL;
const DEVICES = Number(process.env.DEMO_DEVICES ?? 5);
const INTERVAL_MS = Number(process.env.DEMO_INTERVAL_MS ?? 2000);

/** The current trace context as a plain { traceparent, tracestate } carrier. */
function carrier() {
  const c = {};
  propagation.inject(context.active(), c);
  return c;
}

const messaging = (topic) => ({ 'messaging.system': 'mqtt', 'messaging.destination.name': topic });

function connect(url, clientId, protocolVersion) {
  const client = mqtt.connect(url, { clientId, protocolVersion, clean: protocolVersion === 5, reconnectPeriod: 2000 });
  client.on('error', (err) => console.error(`${clientId}: ${err.message}`));
  return client;
}

// MQTT 3.1.1 subscriber: continues the publisher's trace from the JSON payload.
const subscriber = connect(SUBSCRIBE_URL, 'demo-subscriber', 4);
subscriber.on('connect', () => subscriber.subscribe('demo/+/telemetry', { qos: 1 }));
subscriber.on('message', (topic, payload) => {
  let parent = context.active();
  try {
    const body = JSON.parse(payload.toString('utf8'));
    if (typeof body.traceparent === 'string') parent = propagation.extract(context.active(), { traceparent: body.traceparent });
  } catch {
    // Not JSON: no trace context to continue.
  }
  context.with(parent, () => {
    tracer.startActiveSpan(`process ${topic}`, { kind: SpanKind.CONSUMER, attributes: messaging(topic) }, (span) => {
      span.setAttribute('messaging.message.body.size', payload.length);
      span.end();
    });
  });
});

// MQTT 3.1.1 devices: trace context in the JSON payload, the carrier the plugin passes on.
const devices = Array.from({ length: DEVICES }, (_, i) => connect(PUBLISH_URL, `demo-device-${i}`, 4));
let seq = 0;
setInterval(() => {
  const i = seq++ % DEVICES;
  const topic = `demo/device-${i}/telemetry`;
  tracer.startActiveSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER, attributes: messaging(topic) }, (span) => {
    const payload = tracedPayload({ seq, temperature: 20 + Math.random() * 5 }, carrier().traceparent);
    devices[i].publish(topic, payload, { qos: 1 }, (err) => {
      if (err) {
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
  });
}, INTERVAL_MS / DEVICES);

// MQTT 3.1.1 gateway with the connect's trace context as CONNECT user properties (hand-built).
function gateway() {
  const url = new URL(PUBLISH_URL);
  const socket = net.connect({ host: url.hostname, port: Number(url.port || 1883) });
  let timers = [];
  tracer.startActiveSpan('mqtt connect demo-gateway', { kind: SpanKind.CLIENT }, (span) => {
    socket.once('connect', () => {
      socket.write(connect311({ clientId: 'demo-gateway', keepAliveSeconds: 30, userProperties: carrier() }));
      span.end();
    });
    socket.once('error', (err) => {
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  });
  socket.on('data', () => {}); // CONNACK, PINGRESP: nothing to do
  socket.once('connect', () => {
    timers = [
      setInterval(() => socket.write(PINGREQ), 20_000),
      setInterval(() => {
        const topic = 'demo/gateway/telemetry';
        tracer.startActiveSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER, attributes: messaging(topic) }, (span) => {
          socket.write(publish311(topic, tracedPayload({ seq: seq++, load: Math.random() }, carrier().traceparent)));
          span.end();
        });
      }, INTERVAL_MS),
    ];
  });
  socket.once('close', () => {
    for (const t of timers) clearInterval(t);
    setTimeout(gateway, 2000);
  });
  return socket;
}
let gatewaySocket = gateway();

// MQTT 5: publishes only, trace context as PUBLISH user properties (traceparent, tracestate).
const mqtt5 = connect(PUBLISH_URL, 'demo-mqtt5-sensor', 5);
setInterval(() => {
  if (!mqtt5.connected) return;
  const topic = 'demo/mqtt5-sensor/telemetry';
  tracer.startActiveSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER, attributes: messaging(topic) }, (span) => {
    mqtt5.publish(topic, tracedPayload({ seq: seq++ }, undefined), { qos: 0, properties: { userProperties: carrier() } }, (err) => {
      if (err) {
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
  });
}, INTERVAL_MS);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    gatewaySocket.removeAllListeners('close');
    gatewaySocket.end(DISCONNECT);
    await Promise.allSettled([...devices, subscriber, mqtt5].map((c) => c.endAsync()));
    await provider.shutdown();
    process.exit(0);
  });
}
