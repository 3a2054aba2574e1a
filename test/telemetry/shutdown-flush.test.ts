import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulator } from '../../src/simulator/simulator.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { otlpOtel, startTestSidecar } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';

test('stopping exports the metrics and log records still pending, within the shutdown timeout', async () => {
  const receiver = new OtlpReceiver();
  const port = await receiver.start();
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('all'), logLevel: 'warn', shutdownTimeoutMs: 5000 },
    otlpOtel(`http://127.0.0.1:${port}`, {
      // Nothing would be exported before the stop on its own.
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      OTEL_BLRP_SCHEDULE_DELAY: '600000',
      OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '100000',
      OTEL_BLRP_MAX_QUEUE_SIZE: '100000',
    }),
  );
  try {
    const truth = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 10, clients: 200, seed: 2, rate: 0, events: 3000 });
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, truth.total));
    assert.equal(receiver.exports.length, 0);
    const started = Date.now();
    await sidecar.stop();
    assert.ok(Date.now() - started < 5000);
    assert.equal(receiver.logs.length, truth.total);
    assert.equal(receiver.total('vmq_sidecar.event.received'), truth.total);
    for (const [qos, n] of Object.entries(truth.expected.publishedByQos)) assert.equal(receiver.total('mqtt.message.published', { 'mqtt.qos': Number(qos) }), n);
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});

test('stopping with the collector down still ends within the shutdown timeout, counting what was lost', async () => {
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('all'), logLevel: 'warn', shutdownTimeoutMs: 1500 },
    // The discard port: connection refused. Export timing as with no OTEL_* settings.
    otlpOtel('http://127.0.0.1:9', {
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
      OTEL_BLRP_SCHEDULE_DELAY: '1000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
      OTEL_BLRP_EXPORT_TIMEOUT: '500',
    }),
  );
  const truth = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 5, clients: 100, seed: 3, rate: 0, events: 500 });
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, truth.total));
  const started = Date.now();
  await sidecar.stop();
  assert.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms`);
  const q = sidecar.telemetry.logQueue!;
  assert.equal(q.exported, 0);
  assert.equal(q.dropped.queue_full + q.dropped.export_failed + q.dropped.shutdown + q.pending, truth.total);
});

test('headers and gzip compression from OTEL_EXPORTER_OTLP_* reach the collector', async () => {
  const receiver = new OtlpReceiver();
  const port = await receiver.start();
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('all'), logLevel: 'warn' },
    otlpOtel(`http://127.0.0.1:${port}`, {
      OTEL_EXPORTER_OTLP_HEADERS: 'x-scope-orgid=tenant%201,authorization=Bearer abc',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-signal=logs',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    }),
  );
  try {
    const truth = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 4, clients: 50, seed: 4, rate: 0, events: 500 });
    await eventually(() => assert.equal(receiver.logs.length, truth.total));
    await eventually(() => assert.equal(receiver.total('vmq_sidecar.event.received'), truth.total));
    const logs = receiver.exports.find((e) => e.logs)!;
    const metrics = receiver.exports.find((e) => e.points)!;
    for (const e of [logs, metrics]) {
      assert.equal(e.headers['content-encoding'], 'gzip');
      assert.equal(e.headers['x-scope-orgid'], 'tenant 1');
      assert.equal(e.headers.authorization, 'Bearer abc');
    }
    assert.equal(logs.headers['x-signal'], 'logs');
    assert.equal(metrics.headers['x-signal'], undefined);
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});
