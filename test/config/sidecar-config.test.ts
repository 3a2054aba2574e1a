import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseOptions } from '../../src/config/option-parser.js';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-config.js';

test('defaults: the plugin\'s default endpoint, 16 MiB frames', () => {
  const { settings } = parseOptions(SIDECAR_OPTIONS, [], {});
  assert.deepEqual(settings.listen, { host: '127.0.0.1', port: 8890 });
  assert.equal(settings.maxFrameBytes, 16 * 1024 * 1024);
  assert.equal(settings.printEvents, false);
  assert.equal(settings.logLevel, 'info');
});

test('flags win over environment variables, which win over defaults', () => {
  const env = { VMQ_SIDECAR_LISTEN: '0.0.0.0:9000', VMQ_SIDECAR_LOG_LEVEL: 'debug' };
  const { settings } = parseOptions(SIDECAR_OPTIONS, ['--listen', '[::1]:7000', '--print-events', '--max-frame-bytes=512KiB'], env);
  assert.deepEqual(settings.listen, { host: '::1', port: 7000 });
  assert.equal(settings.logLevel, 'debug');
  assert.equal(settings.printEvents, true);
  assert.equal(settings.maxFrameBytes, 512 * 1024);
});

test('every invalid setting is reported at once, each naming the setting and what it accepts', () => {
  try {
    parseOptions(SIDECAR_OPTIONS, ['--listen', 'nowhere', '--bogus', '1'], { VMQ_SIDECAR_LOG_LEVEL: 'loud', VMQ_SIDECAR_MAX_FRAME_BYTES: '1TiB' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.equal(err.problems.length, 4, text);
    assert.match(text, /unknown option --bogus/);
    assert.match(text, /--listen: "nowhere" is invalid: not HOST:PORT; accepted: HOST:PORT/);
    assert.match(text, /VMQ_SIDECAR_LOG_LEVEL: "loud" is invalid.*accepted: debug, info, warn, error, silent/);
    assert.match(text, /VMQ_SIDECAR_MAX_FRAME_BYTES: "1TiB" is invalid: not a size/);
  }
});

test('personal data settings: user property allowlist, --redact, their environment variables and errors', async () => {
  const { parseOtelConfig } = await import('../../src/telemetry/otel-config.js');
  const d = parseOptions(SIDECAR_OPTIONS, [], {}).settings;
  assert.deepEqual(d.logUserProperties, ['traceparent', 'tracestate']);
  assert.deepEqual(d.redact, []);
  assert.equal(d.redactMode, 'hash');
  const s = parseOptions(SIDECAR_OPTIONS, ['--log-user-properties', 'device-model,region', '--redact', 'client_id,peer'], {
    VMQ_SIDECAR_REDACT_MODE: 'drop',
    VMQ_SIDECAR_REDACT_KEY: 'a-long-enough-secret',
  }).settings;
  assert.deepEqual(s.logUserProperties, ['traceparent', 'tracestate', 'device-model', 'region']);
  assert.deepEqual(s.redact, ['client_id', 'peer']);
  assert.equal(s.redactMode, 'drop');
  assert.equal(s.redactKey, 'a-long-enough-secret');
  assert.equal(parseOptions(SIDECAR_OPTIONS, [], { VMQ_SIDECAR_LOG_USER_PROPERTIES: '*' }).settings.logUserProperties, '*');
  try {
    parseOptions(SIDECAR_OPTIONS, ['--redact', 'client_id,email', '--redact-key', 'short'], {});
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 2, err.problems.join('\n'));
    assert.match(err.problems.join('\n'), /--redact.*client_id, username, peer/);
    assert.match(err.problems.join('\n'), /--redact-key/);
  }
  // OTEL_LOGRECORD_ATTRIBUTE_* win over OTEL_ATTRIBUTE_*, which win over the defaults.
  assert.deepEqual(parseOtelConfig({}).logRecordLimits, { attributeCountLimit: 128, attributeValueLengthLimit: 8192 });
  assert.deepEqual(parseOtelConfig({ OTEL_ATTRIBUTE_COUNT_LIMIT: '10', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '100', OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '20' }).logRecordLimits, {
    attributeCountLimit: 20,
    attributeValueLengthLimit: 100,
  });
  assert.throws(() => parseOtelConfig({ OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '-1' }), /OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT/);
});

test('--client-groups and VMQ_SIDECAR_CLIENT_GROUPS: named globs; an invalid one names the setting and the accepted form', () => {
  assert.deepEqual(parseOptions(SIDECAR_OPTIONS, [], {}).settings.clientGroups, []);
  const s = parseOptions(SIDECAR_OPTIONS, [], { VMQ_SIDECAR_CLIENT_GROUPS: 'client:sensor-*=sensors,user:fleet-*=fleet' }).settings;
  assert.deepEqual(
    s.clientGroups.map((g) => g.name),
    ['sensors', 'fleet'],
  );
  try {
    parseOptions(SIDECAR_OPTIONS, ['--client-groups', 'sensor-*'], {});
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.problems.join('\n'), /--client-groups: "sensor-\*" is invalid.*accepted: KIND:GLOB=NAME/);
  }
});

test('OTLP endpoints: the signal path goes on the base endpoint\'s path, before a query string; signal endpoints as given', async () => {
  const { parseOtelConfig } = await import('../../src/telemetry/otel-config.js');
  const urls = (env: Record<string, string>) => {
    const o = parseOtelConfig(env);
    return [o.metrics.url, o.logs.url];
  };
  assert.deepEqual(urls({}), ['http://localhost:4318/v1/metrics', 'http://localhost:4318/v1/logs']);
  assert.deepEqual(urls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }), ['http://c:4318/v1/metrics', 'http://c:4318/v1/logs']);
  assert.deepEqual(urls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c/otlp?token=abc' }), ['https://c/otlp/v1/metrics?token=abc', 'https://c/otlp/v1/logs?token=abc']);
  assert.deepEqual(urls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c/otlp/', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://l/ingest?x=1' }), ['https://c/otlp/v1/metrics', 'https://l/ingest?x=1']);
  assert.deepEqual(urls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317/?x=1', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), ['http://c:4317/?x=1', 'http://c:4317/?x=1']);
});

test('--broker-metrics-url on a port fetch refuses is a configuration error at start, not a failing scrape', () => {
  assert.throws(
    () => parseOptions(SIDECAR_OPTIONS, ['--broker-metrics-url', 'http://127.0.0.1:6666/metrics'], {}),
    (err: unknown) => err instanceof ConfigError && /--broker-metrics-url: .*port 6666 is one Node's fetch refuses/.test(err.problems.join('\n')),
  );
  assert.equal(parseOptions(SIDECAR_OPTIONS, ['--broker-metrics-url', 'http://127.0.0.1:8888/metrics'], {}).settings.brokerMetricsUrl, 'http://127.0.0.1:8888/metrics');
});

test('a VMQ_SIDECAR_ variable no option reads is reported, with the nearest name', async () => {
  const { unknownVariables } = await import('../../src/config/option-parser.js');
  // The Kubernetes service links of a Service named vmq-sidecar are not typos.
  const k8s = { VMQ_SIDECAR_SERVICE_HOST: '10.0.0.1', VMQ_SIDECAR_SERVICE_PORT: '8890', VMQ_SIDECAR_SERVICE_PORT_ADMIN: '9464', VMQ_SIDECAR_PORT: 'tcp://10.0.0.1:8890', VMQ_SIDECAR_PORT_8890_TCP: 'tcp://10.0.0.1:8890', VMQ_SIDECAR_PORT_8890_TCP_ADDR: '10.0.0.1' };
  assert.deepEqual(unknownVariables(SIDECAR_OPTIONS, { ...k8s, VMQ_SIDECAR_LISTN: '1', VMQ_SIDECAR_LISTEN: '127.0.0.1:1', VMQ_SIDECAR_ZZZ: '1', OTHER: '1' }, 'VMQ_SIDECAR_'), [
    { name: 'VMQ_SIDECAR_LISTN', near: 'VMQ_SIDECAR_LISTEN' },
    { name: 'VMQ_SIDECAR_ZZZ', near: undefined },
  ]);
});

test('exporter defaults per signal: a signal without an OTLP endpoint stays on its embedded default', async () => {
  const { parseOtelConfig } = await import('../../src/telemetry/otel-config.js');
  const pick = (env: Record<string, string>) => {
    const o = parseOtelConfig(env);
    return { metrics: o.metricsExporters, logs: o.logsExporters, embeddedDefault: o.embeddedDefault };
  };
  assert.deepEqual(pick({}), { metrics: ['prometheus'], logs: ['console'], embeddedDefault: true });
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), { metrics: ['otlp'], logs: ['otlp'], embeddedDefault: false });
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }), { metrics: ['otlp'], logs: ['console'], embeddedDefault: false });
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/v1/logs' }), { metrics: ['prometheus'], logs: ['otlp'], embeddedDefault: false });
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics', OTEL_LOGS_EXPORTER: 'otlp' }).logs, ['otlp']);
});

test('spans are exported only when an OTLP endpoint for them (or the shared one) or OTEL_TRACES_EXPORTER asks', async () => {
  const { parseOtelConfig } = await import('../../src/telemetry/otel-config.js');
  assert.deepEqual(parseOtelConfig({}).tracesExporters, ['none']);
  assert.deepEqual(parseOtelConfig({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }).tracesExporters, ['none']);
  assert.deepEqual(parseOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracesExporters, ['otlp']);
  assert.deepEqual(parseOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracesExporters, ['none']);
  const traces = parseOtelConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/v1/traces', OTEL_BSP_SCHEDULE_DELAY: '250' });
  assert.deepEqual(traces.tracesExporters, ['otlp']);
  assert.equal(traces.traces.url, 'http://t:4318/v1/traces');
  assert.equal(traces.bsp.scheduledDelayMillis, 250);
  assert.equal(parseOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base' }).traces.url, 'http://c:4318/base/v1/traces');
  assert.throws(() => parseOtelConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER: "zipkin" is invalid; accepted: a comma-separated list of otlp, none/);
  assert.throws(() => parseOtelConfig({ OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' }), /OTEL_BSP_MAX_EXPORT_BATCH_SIZE/);
});

test('each option is one component\'s row: the assembled table is their union, no flag or variable twice', async () => {
  const { COMPONENT_CONFIGS } = await import('../../src/config/sidecar-config.js');
  const rows = COMPONENT_CONFIGS.flatMap((c) => Object.values(c.options as Record<string, { flag: string; env?: string }>));
  assert.equal(rows.length, Object.keys(SIDECAR_OPTIONS).length);
  assert.equal(new Set(rows.map((r) => r.flag)).size, rows.length);
  assert.equal(new Set(rows.map((r) => r.env)).size, rows.length);
});

test('the components\' rules across options: two listeners on one address, workers without deltas mode and gRPC; each problem names its setting', async () => {
  const { validateSettings } = await import('../../src/config/sidecar-config.js');
  const { parseOtelConfig } = await import('../../src/telemetry/otel-config.js');
  const parse = (argv: string[], env: Record<string, string> = {}) => validateSettings(parseOptions(SIDECAR_OPTIONS, argv, env).settings, parseOtelConfig(env));
  assert.deepEqual(parse([]), []);
  assert.deepEqual(parse(['--grpc-listen', '0.0.0.0:8890']), ['--grpc-listen: 0.0.0.0:8890 is also the address of --listen (127.0.0.1:8890); give each listener its own HOST:PORT']);
  assert.deepEqual(parse(['--admin-listen', '127.0.0.1:8890']), ['--admin-listen: 127.0.0.1:8890 is also the address of --listen (127.0.0.1:8890); give each listener its own HOST:PORT']);
  assert.deepEqual(parse(['--grpc-listen', '127.0.0.1:9464']), ['--admin-listen: 127.0.0.1:9464 is also the address of --grpc-listen (127.0.0.1:9464); give each listener its own HOST:PORT']);
  assert.deepEqual(parse(['--grpc-listen', '127.0.0.1:9000'], { OTEL_EXPORTER_PROMETHEUS_PORT: '9000' }), [
    'OTEL_EXPORTER_PROMETHEUS_HOST/_PORT: 127.0.0.1:9000 is also the address of --grpc-listen (127.0.0.1:9000); give each listener its own HOST:PORT',
  ]);
  // Port 0 picks a free port for each; another host is another socket.
  assert.deepEqual(parse(['--listen', '127.0.0.1:0', '--grpc-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.2:8890']), []);
  assert.match(parse(['--workers', '4']).join('\n'), /^--workers 4: needs --gauge-mode deltas/);
  assert.match(parse(['--workers', '4', '--gauge-mode', 'deltas']).join('\n'), /^--workers 4: the workers serve the gRPC listener; set --grpc-listen/);
  assert.deepEqual(parse(['--workers', '4', '--gauge-mode', 'deltas', '--grpc-listen', '127.0.0.1:9000']), []);
});
