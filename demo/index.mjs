// Demo traffic for the docker-compose stack: a publisher and a subscriber on two broker nodes,
// traced with OpenTelemetry. The W3C trace context travels in MQTT 5 user properties (CONNECT
// and PUBLISH) and in the JSON payload's "traceparent" field, which vmq-otel-sidecar puts on the
// broker's log records: a trace in Tempo links to the broker events of the same message in Loki.
import mqtt from 'mqtt';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

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

function connect(url, clientId) {
  // The CONNECT itself is traced: its traceparent lands on the broker's on_register record.
  return tracer.startActiveSpan(`mqtt connect ${clientId}`, { kind: SpanKind.CLIENT }, (span) => {
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: 5,
      clean: false,
      reconnectPeriod: 2000,
      properties: { sessionExpiryInterval: 3600, userProperties: carrier() },
    });
    client.once('connect', () => span.end());
    client.once('error', (err) => {
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    return client;
  });
}

const subscriber = connect(SUBSCRIBE_URL, 'demo-subscriber');
subscriber.on('connect', () => subscriber.subscribe('demo/+/telemetry', { qos: 1 }));
subscriber.on('message', (topic, payload, packet) => {
  const props = packet.properties?.userProperties ?? {};
  const parent = propagation.extract(context.active(), props);
  context.with(parent, () => {
    tracer.startActiveSpan(`process ${topic}`, { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'mqtt', 'messaging.destination.name': topic } }, (span) => {
      span.setAttribute('messaging.message.body.size', payload.length);
      span.end();
    });
  });
});

const publishers = Array.from({ length: DEVICES }, (_, i) => connect(PUBLISH_URL, `demo-device-${i}`));
let seq = 0;
setInterval(() => {
  const i = seq++ % DEVICES;
  const topic = `demo/device-${i}/telemetry`;
  tracer.startActiveSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'mqtt', 'messaging.destination.name': topic } }, (span) => {
    const c = carrier();
    const payload = JSON.stringify({ seq, temperature: 20 + Math.random() * 5, traceparent: c.traceparent });
    publishers[i].publish(topic, payload, { qos: 1, properties: { userProperties: c } }, (err) => {
      if (err) {
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
  });
}, INTERVAL_MS / DEVICES);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    await Promise.allSettled([...publishers, subscriber].map((c) => c.endAsync()));
    await provider.shutdown();
    process.exit(0);
  });
}
