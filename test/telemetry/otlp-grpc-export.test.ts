import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulator } from '../../src/simulator/simulator.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { OtlpGrpcReceiver } from '../helpers/otlp-grpc-receiver.js';
import { otlpOtel, startTestSidecar } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';

test('OTLP/gRPC export: metrics and log records arrive in the real wire format', async () => {
  const receiver = new OtlpGrpcReceiver();
  const port = await receiver.start();
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('lifecycle'), logLevel: 'warn' },
    otlpOtel(`http://127.0.0.1:${port}`, {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    }),
  );
  try {
    const truth = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 10, clients: 200, seed: 6, rate: 0, events: 5000 });
    await eventually(() => assert.equal(receiver.total('vmq_sidecar.event.received'), truth.total));
    for (const [qos, n] of Object.entries(truth.expected.publishedByQos)) assert.equal(receiver.total('mqtt.message.published', { 'mqtt.qos': Number(qos) }), n);
    const lifecycle = (truth.sent.on_register ?? 0) + (truth.sent.on_client_wakeup ?? 0) + (truth.sent.on_client_gone ?? 0);
    await eventually(() => assert.ok(receiver.logs.filter((l) => ['vernemq.on_register', 'vernemq.on_client_wakeup', 'vernemq.on_client_gone'].includes(l.eventName)).length === lifecycle));
    assert.equal(receiver.logs.filter((l) => l.eventName === 'vernemq.on_publish').length, 0, 'publish is not a lifecycle hook');
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});
