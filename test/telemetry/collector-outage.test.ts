/**
 * The collector goes away for a while, then comes back. The sidecar must keep reading at full
 * speed (the broker must never see backpressure because of us), keep its memory bounded, count
 * and show (outside OTLP) the log records it could not keep, and export exact metric totals
 * once the collector is back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulator } from '../../src/simulator/simulator.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { otlpOtel, startTestSidecar } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';

test('collector outage: ingest unaffected, drops counted and visible, totals exact after recovery', async () => {
  const receiver = new OtlpReceiver();
  const port = await receiver.start();
  await receiver.stop(); // down from the start: connection refused

  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('all'), logLevel: 'info' },
    otlpOtel(`http://127.0.0.1:${port}`, {
      OTEL_METRICS_EXPORTER: 'otlp,prometheus',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      OTEL_BLRP_MAX_QUEUE_SIZE: '2000',
      OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '500',
    }),
  );
  try {
    const heapBefore = process.memoryUsage().heapUsed;
    const truth = await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 50, clients: 500, seed: 8, rate: 20_000, durationMs: 2000 });
    // Reading kept up: the simulated plugin never found a connection backlog full, and every
    // event was decoded as soon as it was sent.
    assert.equal(truth.droppedBacklog, 0);
    await eventually(() => assert.equal(sidecar.stats.eventsTotal, truth.total), 2000);

    const q = sidecar.telemetry.logQueue!;
    assert.ok(q.queued <= 2000, `queue bounded: ${q.queued}`);
    assert.ok(q.dropped.queue_full > 0, 'records were dropped for lack of room');
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 150 * 1024 * 1024);

    // Visible outside OTLP: the sidecar's own log and its Prometheus endpoint.
    await eventually(() => assert.ok(sidecar.logLines.some((l) => l.msg === 'log export queue full: dropping log records')));
    assert.ok(sidecar.logLines.some((l) => l.msg === 'log export failed; retrying with back-off'));
    assert.ok(sidecar.logLines.filter((l) => l.level === 'warn').length < 20, 'failures are rate-limited, not one line per record');
    const prom = parseExposition(await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text());
    const dropped = prom.find((s) => s.name === 'otel_sdk_processor_log_processed_total' && s.labels.error_type === 'queue_full');
    assert.ok(dropped && dropped.value > 0, 'drops on /metrics');
    const failures = prom.find((s) => s.name === 'vmq_sidecar_export_failures_total' && s.labels.otel_component_type === 'otlp_http_metric_exporter' && s.labels.error_type !== undefined);
    assert.ok(failures && failures.value > 0, 'metric export failures on /metrics');
    assert.match(failures.labels.error_type ?? '', /^(ECONNREFUSED|timeout|503|[A-Za-z]+Error)$/, `error.type of a failed export: ${failures.labels.error_type}`);

    // The collector comes back on the same address.
    await receiver.start(port);
    await eventually(() => {
      for (const [qos, n] of Object.entries(truth.expected.publishedByQos)) {
        assert.equal(receiver.total('mqtt.message.published', { 'mqtt.qos': Number(qos) }), n);
      }
      assert.equal(receiver.total('vmq_sidecar.event.received'), truth.total);
    }, 15_000);
    for (const [mp, n] of Object.entries(truth.expected.connectedClients)) assert.equal(receiver.total('mqtt.client.connected', { 'mqtt.mountpoint': mp }), n);

    // Every record is accounted for: exported, dropped with a reason, or still queued. The queue
    // tries again when its back-off ends, and the back-off grew for as long as the collector was
    // down (longer on a busy machine), up to maxBackoff: the records leave within one of those.
    await eventually(() => assert.equal(q.pending, 0), q.maxBackoff + 15_000);
    const droppedTotal = q.dropped.queue_full + q.dropped.export_failed + q.dropped.shutdown;
    assert.equal(q.exported + droppedTotal, truth.total);
    // At least once: a batch the collector took but answered after the export timeout (on a busy
    // machine) is sent again, whole, so its records may arrive twice. Counted once per distinct
    // batch, the records received are the ones exported.
    const batches = new Map<string, number>();
    const bigints = (_: string, v: unknown) => (typeof v === 'bigint' ? String(v) : v);
    for (const e of receiver.exports) if (e.logs && e.logs.length > 0) batches.set(JSON.stringify(e.logs, bigints), e.logs.length);
    assert.equal([...batches.values()].reduce((a, b) => a + b, 0), q.exported);
    assert.ok(receiver.logs.length >= q.exported);
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});
