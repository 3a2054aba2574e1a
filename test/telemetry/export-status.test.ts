/**
 * What an on-call engineer reads in the sidecar's log during and after a collector outage: one
 * readable WARN line per interval (no stack), and one INFO line when exports recover, saying
 * what was lost meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';
import { ExportOutage } from '../../src/telemetry/export-outage.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { runSimulator } from '../../src/simulator/simulator.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { otlpOtel, startTestSidecar } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';

test('an outage is one rate-limited WARN line with the error\'s first line, then one recovery line with what was lost', () => {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const logger = new SidecarLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>), () => now);
  let dropped = 5;
  const outage = new ExportOutage(logger, { signal: 'logs', endpoint: 'http://c:4318/v1/logs', warn: true, lost: () => ({ droppedRecords: dropped }) }, () => now);
  outage.succeeded();
  assert.equal(lines.length, 0, 'no recovery line without an outage');
  for (let i = 0; i < 10; i++) {
    now += 1000;
    outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:4318\n    at TCPConnectWrap.afterConnect'));
    dropped += 10;
  }
  now += 1000;
  outage.succeeded();
  outage.succeeded();
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [
    ['warn', 'logs export failed; retrying'],
    ['info', 'logs exports recovered'],
  ]);
  assert.equal(lines[0]!.error, 'connect ECONNREFUSED 127.0.0.1:4318');
  assert.deepEqual({ ...lines[1], time: undefined }, {
    time: undefined,
    level: 'info',
    msg: 'logs exports recovered',
    endpoint: 'http://c:4318/v1/logs',
    outageSeconds: 10,
    failedExports: 10,
    droppedRecords: 100,
  });
});

test('the recovery line counts the records dropped before the first failed export too (the exporter retries inside its timeout first)', () => {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const logger = new SidecarLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>), () => now);
  let dropped = 7; // before the last success: not this outage's
  const outage = new ExportOutage(logger, { signal: 'logs', endpoint: 'http://c:4318/v1/logs', warn: true, lost: () => ({ droppedRecords: dropped }) }, () => now);
  outage.succeeded();
  // The collector goes away; the queue fills while the exporter is still retrying its batch.
  dropped += 300;
  now += 10_000;
  outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
  dropped += 20;
  now += 1000;
  outage.succeeded();
  assert.equal(lines.find((l) => l.msg === 'logs exports recovered')!.droppedRecords, 320);
  // The next outage starts from what the recovery left.
  dropped += 4;
  outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
  outage.succeeded();
  assert.equal(lines.filter((l) => l.msg === 'logs exports recovered')[1]!.droppedRecords, 4);
});

test('a timed-out export and failed ones in the same outage make one WARN line per interval', () => {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const logger = new SidecarLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>), () => now);
  const outage = new ExportOutage(logger, { signal: 'metrics', endpoint: 'http://c:4318/v1/metrics', warn: true, warnIntervalMs: 30_000 }, () => now);
  outage.timedOut('PeriodicExportingMetricReader: metrics export timed out after 1000 ms\nmore');
  now += 3000;
  outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
  now += 3000;
  outage.timedOut('PeriodicExportingMetricReader: metrics export timed out after 1000 ms');
  assert.deepEqual(lines.map((l) => [l.level, l.msg, l.error, l.failedExports]), [
    ['warn', 'metrics export failed; retrying', 'PeriodicExportingMetricReader: metrics export timed out after 1000 ms', 0],
  ]);
  now += 30_000;
  outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
  assert.deepEqual(lines.slice(1).map((l) => [l.msg, l.error, l.failedExports]), [
    ['metrics export failed; retrying', 'connect ECONNREFUSED 127.0.0.1:4318', 2],
  ]);
  assert.equal(outage.failures, 2, 'a timeout is not counted as a failed export: its own result is');
  now += 1000;
  outage.succeeded();
  assert.deepEqual(lines.slice(2).map((l) => [l.msg, l.outageSeconds, l.failedExports, l.timedOutExports]), [['metrics exports recovered', 37, 2, 2]]);
});

test('a slow export that times out and then succeeds: one WARN line, then one recovery line', () => {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const logger = new SidecarLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>), () => now);
  const outage = new ExportOutage(logger, { signal: 'metrics', endpoint: 'http://c:4318/v1/metrics', warn: true }, () => now);
  outage.timedOut('PeriodicExportingMetricReader: metrics export timed out after 1000 ms');
  now += 2000;
  outage.succeeded();
  assert.deepEqual(lines.map((l) => [l.level, l.msg, l.failedExports, l.timedOutExports]), [
    ['warn', 'metrics export failed; retrying', 0, 1],
    ['info', 'metrics exports recovered', 0, 1],
  ]);
});

test('collector down then back: WARN lines without stacks, then a recovery line per signal', async () => {
  const receiver = new OtlpReceiver();
  const port = await receiver.start();
  await receiver.stop();
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('all'), logLevel: 'info' },
    otlpOtel(`http://127.0.0.1:${port}`, { OTEL_EXPORTER_OTLP_TIMEOUT: '1000', OTEL_BLRP_MAX_QUEUE_SIZE: '200', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '100' }),
  );
  try {
    await runSimulator({ target: { host: '127.0.0.1', port: sidecar.port }, connections: 5, clients: 50, seed: 3, events: 2000, rate: 0 });
    await eventually(() => assert.ok(sidecar.logLines.some((l) => l.msg === 'metrics export failed; retrying')));
    await eventually(() => assert.ok(sidecar.logLines.some((l) => l.msg === 'log export failed; retrying with back-off')));
    await receiver.start(port);
    const metrics = await eventually(() => {
      const l = sidecar.logLines.find((x) => x.msg === 'metrics exports recovered');
      assert.ok(l);
      return l;
    }, 15_000);
    const logs = await eventually(() => {
      const l = sidecar.logLines.find((x) => x.msg === 'logs exports recovered');
      assert.ok(l);
      return l;
    }, 15_000);
    // Refused connections are retried inside one export, so the reader may give up first.
    assert.ok(Number(metrics.failedExports) + Number(metrics.timedOutExports ?? 0) >= 1, JSON.stringify(metrics));
    assert.ok(Number(logs.droppedRecords) > 0, JSON.stringify(logs));
    const text = sidecar.logLines.map((l) => JSON.stringify(l)).join('\n');
    assert.doesNotMatch(text, /\\n\s+at |"stack"/, 'no stack traces');
    assert.deepEqual(sidecar.logLines.filter((l) => l.level === 'error'), []);
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});

test('an export error reads as its first line, without grpc-js\'s empty "Resolution note"', async () => {
  const { firstLine } = await import('../../src/telemetry/export-outage.js');
  assert.equal(
    firstLine(new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:4317. Resolution note: \n    at x')),
    '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:4317.',
  );
  assert.equal(firstLine(new Error('Resolution note: the name resolved')), 'Resolution note: the name resolved');
});
