/** The telemetry pipeline as a component, without the rest of the sidecar. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TelemetryPipeline } from '../../src/telemetry/telemetry-pipeline.js';
import { MetricStore } from '../../src/metrics/metric-store.js';
import { MQTT_METRICS, SIDECAR_METRICS } from '../../src/metrics/metric-catalog.js';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';
import { parsePrometheusText } from '../../src/reconcile/prometheus-text.js';
import { BoundedValues } from '../../src/metrics/bounded-values.js';
import { testOtel } from '../helpers/sidecar-fixture.js';

test('counters, up-down counters and gauges reach /metrics with the Prometheus type each should have', async () => {
  const store = new MetricStore();
  const pipeline = await TelemetryPipeline.create({ otel: testOtel(), store, logger: new SidecarLogger('silent'), version: 'test', instanceId: 'i' });
  pipeline.registerMetrics(store);
  const mp = new BoundedValues('mqtt.mountpoint', 10).fold('');
  store.sum(MQTT_METRICS.registrations).get(mp, '', '3.1.1').value = 5;
  store.sum(MQTT_METRICS.connected).get(mp, '').value = 3;
  store.gauge(SIDECAR_METRICS.snapshotAge).get().value = 42;
  try {
    const text = await pipeline.prometheusText();
    assert.match(text, /# TYPE mqtt_client_registrations_total counter/);
    assert.match(text, /# TYPE mqtt_client_connected gauge/);
    assert.match(text, /# TYPE vmq_sidecar_snapshot_age_seconds gauge/);
    const samples = parsePrometheusText(text);
    const value = (name: string) => samples.find((s) => s.name === name)?.value;
    assert.equal(value('mqtt_client_registrations_total'), 5);
    assert.equal(value('mqtt_client_connected'), 3);
    assert.equal(value('vmq_sidecar_snapshot_age_seconds'), 42);
    assert.equal(value('vmq_sidecar_export_failures_total'), 0, 'its own metrics registered');
    assert.deepEqual(pipeline.status(), { logs: null, exporters: { metrics: ['prometheus'], logs: ['none'], embeddedDefault: false } });
  } finally {
    await pipeline.stop(Date.now() + 1000);
  }
});

test('OTLP endpoints show masked in status; stop() accounts for every queued record by the deadline', async () => {
  const store = new MetricStore();
  const otel = testOtel({
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    // Nobody listens on port 9: exports fail fast.
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:secret@127.0.0.1:9',
    // The object path (http/protobuf takes records as bytes written by the log sink).
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  });
  const pipeline = await TelemetryPipeline.create({ otel, store, logger: new SidecarLogger('silent'), version: 'test', instanceId: 'i' });
  pipeline.registerMetrics(store);
  const status = pipeline.status() as { exporters: { metricsEndpoint: string; logsEndpoint: string } };
  assert.doesNotMatch(JSON.stringify(status), /secret/);
  assert.match(status.exporters.logsEndpoint, /127\.0\.0\.1:9/);
  const q = pipeline.logQueue!;
  const output = pipeline.logOutput;
  assert.ok(typeof output === 'function', 'http/json takes record objects');
  for (let i = 0; i < 10; i++) {
    output({
      body: `record ${i}`,
      attributes: {},
      hrTime: [Math.floor(Date.now() / 1000), 0],
      hrTimeObserved: [Math.floor(Date.now() / 1000), 0],
      resource: pipeline.resource,
      instrumentationScope: pipeline.scope,
      droppedAttributesCount: 0,
    } as never);
  }
  await pipeline.stop(Date.now() + 1500);
  assert.equal(q.exported + q.droppedTotal, 10, JSON.stringify(q.dropped));
});
