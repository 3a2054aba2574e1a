import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brokerReadings, type BrokerReading } from '../../src/reconcile/broker-gauges.js';
import { parsePrometheusText } from '../../src/reconcile/prometheus-text.js';
import { ALL_METRICS, BROKER_METRICS, BROKER_METRIC_DEFS } from '../../src/metrics/metric-catalog.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/vernemq/${name}`, import.meta.url)), 'utf8');

/** name -> "attr=value,..." -> value, for readable assertions. */
function table(readings: BrokerReading[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const r of readings) {
    out[r.def.name] = {};
    for (const p of r.points) {
      const key = Object.entries(p.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      out[r.def.name]![key] = p.value;
    }
  }
  return out;
}

test('a gojek/vernemq v5.1.0 page: every broker metric it serves is mapped under vernemq.*', () => {
  const t = table(brokerReadings(parsePrometheusText(fixture('metrics-gojek-v5.1.0.txt'))));
  // The fork serves no netsplit counters: they are absent, not reported as 0.
  assert.ok(!('vernemq.netsplit.detected' in t));
  assert.deepEqual(t, {
    'vernemq.retain.messages': { '': 611 },
    'vernemq.retain.memory': { '': 98304 },
    'vernemq.router.subscriptions': { '': 2841 },
    'vernemq.router.memory': { '': 1204224 },
    'vernemq.queue.processes': { '': 1702 },
    'vernemq.queue.offline_messages': { '': 420 },
    'vernemq.connection.active': { 'vernemq.listener.type=tcp': 1448, 'vernemq.listener.type=websocket': 30 },
    'vernemq.network.io': { 'network.io.direction=receive': 48213377, 'network.io.direction=transmit': 91022310 },
    'vernemq.cluster.network.io': { 'network.io.direction=receive': 5123400, 'network.io.direction=transmit': 4987000 },
    'vernemq.cluster.network.dropped': { '': 0 },
    'vernemq.client.keepalive.expired': { 'network.protocol.version=3.1.1': 37, 'network.protocol.version=5': 2 },
    'vernemq.mqtt.publish.received': { 'network.protocol.version=3.1.1': 183021, 'network.protocol.version=5': 2210 },
    'vernemq.mqtt.publish.sent': { 'network.protocol.version=3.1.1': 350112, 'network.protocol.version=5': 4005 },
    'vernemq.queue.message.in': { '': 352000 },
    'vernemq.queue.message.out': { '': 351980 },
    'vernemq.queue.message.dropped': { '': 14 },
    'vernemq.queue.message.expired': { '': 3 },
  });
});

test('a vernemq/vernemq 2.x page: netsplits detected and resolved', () => {
  const t = table(brokerReadings(parsePrometheusText(fixture('metrics-vernemq-2.x-netsplit.txt'))));
  assert.deepEqual(t['vernemq.netsplit.detected'], { '': 3 });
  assert.deepEqual(t['vernemq.netsplit.resolved'], { '': 2 });
  assert.deepEqual(t['vernemq.connection.active'], { 'vernemq.listener.type=tcp': 5 }, 'only the listener type the page has');
});

test('labels other than the mapped ones are summed away; a version outside the mapping is invalid, never a new series; bad values skipped', () => {
  const page = [
    'retain_messages{node="a"} 2',
    'retain_messages{node="b"} 3',
    'client_keepalive_expired{node="a",mqtt_version="4"} 1',
    'client_keepalive_expired{node="a",mqtt_version="4",listener="x"} 2',
    'client_keepalive_expired{node="a",mqtt_version="7"} 5',
    'client_keepalive_expired{node="a",mqtt_version="constructor"} 1',
    'router_subscriptions{node="a"} NaN',
    'queue_processes{node="a"} -1',
    'bytes_sent_total{node="a"} 10',
    'something_else{node="a"} 99',
  ].join('\n');
  const t = table(brokerReadings(parsePrometheusText(page)));
  assert.deepEqual(t, {
    'vernemq.retain.messages': { '': 5 },
    'vernemq.client.keepalive.expired': { 'network.protocol.version=3.1.1': 3, 'network.protocol.version=invalid': 6 },
    'vernemq.network.io': { 'network.io.direction=transmit': 10 },
  });
});

test('an empty or unrelated page gives no readings', () => {
  assert.deepEqual(brokerReadings([]), []);
  assert.deepEqual(brokerReadings(parsePrometheusText('up 1\n')), []);
});

test('the definitions: vernemq.* names, UCUM units, kinds, no clash with the catalog', () => {
  // The catalog has them (re-exported), beside the metrics derived from events and the sidecar's own.
  const ours = new Set(ALL_METRICS.filter((m) => !m.name.startsWith('vernemq.')).map((m) => m.name));
  for (const d of BROKER_METRIC_DEFS) assert.ok(ALL_METRICS.some((m) => m.name === d.name && m.kind === d.kind && m.unit === d.unit), `${d.name} is in the metric catalog`);
  const names = new Set<string>();
  for (const d of BROKER_METRIC_DEFS) {
    assert.match(d.name, /^vernemq\.[a-z_]+(\.[a-z_]+)*$/, d.name);
    assert.ok(!names.has(d.name), `${d.name} defined once`);
    names.add(d.name);
    assert.ok(!ours.has(d.name), `${d.name} is not an event-derived metric name`);
    assert.match(d.unit, /^(By|\{[a-z_]+\})$/, `${d.name} unit`);
    assert.ok(d.kind === 'counter' || d.kind === 'gauge');
    assert.ok(d.description.length > 10 && d.broker.versions.length > 0);
    // Counts of messages, bytes, connections: whole numbers, sent as asInt over OTLP.
    assert.equal(d.valueType, 'int', `${d.name} value type`);
    // Every attribute the points can carry is declared.
    const declared = new Set(d.attributes.map((a) => a.name));
    for (const s of d.broker.sources) for (const a of Object.keys(s.attributes ?? {})) assert.ok(declared.has(a), `${d.name}: ${a} declared`);
    for (const l of d.broker.labels ?? []) assert.ok(declared.has(l.attribute), `${d.name}: ${l.attribute} declared`);
  }
  assert.equal(BROKER_METRICS.keepaliveExpired.kind, 'counter');
  assert.equal(BROKER_METRICS.retainedMessages.kind, 'gauge');
});
