import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prometheusName } from '../../src/metrics/prometheus-naming.js';
import { ALL_METRICS, prometheusNameOf } from '../../src/metrics/metric-catalog.js';

test('names follow the Collector\'s OTLP-to-Prometheus rules', () => {
  assert.equal(prometheusName('mqtt.session.duration', 's', 'histogram'), 'mqtt_session_duration_seconds');
  assert.equal(prometheusName('mqtt.publish.payload.size', 'By', 'histogram'), 'mqtt_publish_payload_size_bytes');
  assert.equal(prometheusName('mqtt.message.published', '{message}', 'counter'), 'mqtt_message_published_total');
  assert.equal(prometheusName('mqtt.client.connected', '{client}', 'gauge'), 'mqtt_client_connected');
  assert.equal(prometheusName('vmq_sidecar.received', 'By', 'counter'), 'vmq_sidecar_received_bytes_total');
  // The unit word is not repeated, "total" moves to the end, unit 1 gauges get _ratio.
  assert.equal(prometheusName('http.request.duration.seconds', 's', 'histogram'), 'http_request_duration_seconds');
  assert.equal(prometheusName('requests.total.count', '1', 'counter'), 'requests_count_total');
  assert.equal(prometheusName('cpu.utilization', '1', 'gauge'), 'cpu_utilization_ratio');
  assert.equal(prometheusName('net.io', 'By/s', 'gauge'), 'net_io_bytes_per_second');
});

test('every catalog metric has a distinct Prometheus name', () => {
  const names = ALL_METRICS.map(prometheusNameOf);
  assert.equal(new Set(names).size, names.length);
  for (const n of names) assert.match(n, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
});
