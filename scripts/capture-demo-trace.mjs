#!/usr/bin/env node
// Captures one trace of the demo's messages through two real sidecar processes, for the picture in
// docs/traces.md (scripts/render-trace.mjs draws it). Run by hand, after `npm run build`:
//
//   node scripts/capture-demo-trace.mjs --demo-dir DIR --aedes-dir DIR [--out docs/images/broker-hop-trace.json]
//
// VerneMQ cannot run on the machines this was made on, so the broker is played by aedes (an MQTT
// broker on npm; install it in a directory of its own: `npm install aedes@1.2.0`), with a shim
// that sends the sidecars what vmq_events_sidecar would: on_publish when a PUBLISH is accepted
// (authorizePublish), on_deliver when it is forwarded to a subscriber (authorizeForward; the
// subscription's QoS, as VerneMQ reports), on_delivery_complete on the subscriber's PUBACK, each
// stamped with the broker's clock. The topology is the compose stack's: the devices publish on
// "node 1", demo-subscriber is on "node 2" and demo-subscriber-local on node 1, each node with its
// own sidecar. The demo application (demo/index.mjs, its dependencies installed in --demo-dir)
// runs unchanged and exports its spans to the same OTLP receiver as the sidecars.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    'demo-dir': { type: 'string' },
    'aedes-dir': { type: 'string' },
    out: { type: 'string', default: path.join(root, 'docs/images/broker-hop-trace.json') },
    seconds: { type: 'string', default: '8' },
  },
});
if (!args['demo-dir'] || !args['aedes-dir']) {
  console.error('usage: capture-demo-trace.mjs --demo-dir DIR --aedes-dir DIR [--out FILE] [--seconds N]');
  process.exit(64);
}

const { Aedes } = await import(pathToFileURL(path.join(args['aedes-dir'], 'node_modules/aedes/aedes.js')).href);
const { FrameEncoder } = await import(pathToFileURL(path.join(root, 'dist/src/simulator/frame-encoder.js')).href);
const { OtlpReceiver } = await import(pathToFileURL(path.join(root, 'dist/test/helpers/otlp-receiver.js')).href);

const receiver = new OtlpReceiver();
const otlpPort = await receiver.start();
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// Two sidecars, one per "node", exporting spans over OTLP/JSON to the receiver.
const nodes = ['vernemq1', 'vernemq2'];
const sidecars = [];
const sidecarPorts = [];
for (const node of nodes) {
  const port = await freePort();
  sidecarPorts.push(port);
  const child = spawn(process.execPath, [path.join(root, 'dist/src/cli/main.js'), '--listen', `127.0.0.1:${port}`, '--admin-listen', 'off', '--log-level', 'warn'], {
    env: {
      ...process.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${node},deployment.environment=demo`,
      VMQ_SIDECAR_TOPIC_GROUPS: 'demo/+/telemetry=demo-telemetry,demo/#=demo',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  sidecars.push(child);
}
// The plugin's connection to each node's sidecar.
const connectTo = (port) =>
  new Promise((resolve, reject) => {
    const tryOnce = (left) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(s));
      s.once('error', () => (left > 0 ? setTimeout(() => tryOnce(left - 1), 100) : reject(new Error(`sidecar on ${port} not up`))));
    };
    tryOnce(50);
  });
const plugin = await Promise.all(sidecarPorts.map(connectTo));

const encoder = new FrameEncoder();
const nodeOf = (clientId) => (clientId === 'demo-subscriber' ? 1 : 0);
const now = () => {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
};
const send = (clientId, event) => plugin[nodeOf(clientId)].write(encoder.encodeFrame({ mountpoint: '', clientId, timestamp: now(), sessionId: `session-${clientId}`, ...event }));
const subscriptionQos = new Map();

const broker = new Aedes({
  authorizePublish(client, packet, done) {
    if (client) send(client.id, { hook: 'on_publish', username: '', topic: packet.topic, qos: packet.qos, payload: Buffer.from(packet.payload), retain: packet.retain });
    done(null);
  },
  authorizeSubscribe(client, sub, done) {
    subscriptionQos.set(client.id, sub.qos);
    done(null, sub);
  },
  authorizeForward(client, packet) {
    if (!packet.topic.startsWith('$SYS')) {
      send(client.id, { hook: 'on_deliver', username: '', topic: packet.topic, qos: subscriptionQos.get(client.id) ?? packet.qos, payload: Buffer.from(packet.payload), isRetain: false, persisted: false });
    }
    return packet;
  },
});
await broker.listen();
broker.on('ack', (packet, client) => {
  if (client && packet.topic) send(client.id, { hook: 'on_delivery_complete', username: '', topic: packet.topic, qos: packet.qos, payload: Buffer.from(packet.payload), isRetain: false, persisted: false });
});
const mqttPort = await freePort();
const server = net.createServer(broker.handle).listen(mqttPort, '127.0.0.1');

// The demo application, unchanged: devices on "node 1", demo-subscriber on "node 2" (another URL
// for the same broker, so that the demo starts both subscribers).
const demo = spawn(process.execPath, [path.join(args['demo-dir'], 'index.mjs')], {
  env: {
    ...process.env,
    MQTT_PUBLISH_URL: `mqtt://127.0.0.1:${mqttPort}`,
    MQTT_SUBSCRIBE_URL: `mqtt://localhost:${mqttPort}`,
    OTEL_SERVICE_NAME: 'mqtt-demo-app',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
    DEMO_DEVICES: '2',
    DEMO_INTERVAL_MS: '1000',
  },
  stdio: ['ignore', 'ignore', 'ignore'],
});
await new Promise((r) => setTimeout(r, Number(args.seconds) * 1000));
const exited = (child) => new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
demo.kill('SIGTERM');
await exited(demo);
for (const s of plugin) s.end();
for (const c of sidecars) c.kill('SIGTERM');
await Promise.all(sidecars.map(exited));
server.close();
await new Promise((r) => broker.close(r));
await receiver.stop();

// The most complete trace: a publisher span, the receipt, and a delivery plus processing per subscriber.
const spans = receiver.spans;
const byTrace = new Map();
for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
const complete = [...byTrace.values()].filter((t) => t.some((s) => s.name.startsWith('receive')) && t.filter((s) => s.name.startsWith('deliver')).length === 2 && t.filter((s) => s.name.startsWith('process')).length === 2);
if (complete.length === 0) {
  console.error(`no complete trace among ${byTrace.size} traces (${spans.length} spans)`);
  process.exit(1);
}
const trace = complete[Math.floor(complete.length / 2)];
writeFileSync(args.out, JSON.stringify({ captured: new Date().toISOString(), spans: trace }, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
console.log(`${spans.length} spans in ${byTrace.size} traces, ${complete.length} complete; wrote trace ${trace[0].traceId} (${trace.length} spans) to ${args.out}`);
