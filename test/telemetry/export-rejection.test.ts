/**
 * A collector that refuses a batch for good (HTTP 413/400/403, gRPC INVALID_ARGUMENT): the
 * refused records are dropped and counted (reason rejected), never retried forever, and the
 * innocent records of the same batch are still exported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { OtlpReceiver, type ReceivedLog } from '../helpers/otlp-receiver.js';
import { OtlpGrpcReceiver } from '../helpers/otlp-grpc-receiver.js';
import { connect, otlpOtel, startTestSidecar, write } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';

const encoder = new FrameEncoder();
const N = 200;

function frames(poisoned: number[]): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    out.push(encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: poisoned.includes(i) ? `poison-${i}` : `ok-${i}` }));
  }
  return Buffer.concat(out);
}

const hasPoison = (logs: ReceivedLog[]) => logs.some((l) => String(l.attributes['messaging.client.id']).startsWith('poison'));

async function run(protocol: 'http/protobuf' | 'http/json', status: number, poisoned: number[]) {
  const receiver = new OtlpReceiver();
  const port = await receiver.start();
  receiver.refuseLogs = (logs) => (hasPoison(logs) ? status : null);
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('all'), logLevel: 'info' },
    otlpOtel(`http://127.0.0.1:${port}`, { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '512', OTEL_BLRP_SCHEDULE_DELAY: '20' }),
  );
  try {
    const s = await connect(sidecar.port);
    await write(s, frames(poisoned));
    const q = sidecar.telemetry.logQueue!;
    await eventually(() => {
      assert.equal(sidecar.stats.eventsTotal, N);
      assert.equal(q.pending, 0, 'every record exported or dropped');
    }, 10_000);
    s.destroy();
    return { receiver, sidecar, q };
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  test(`${protocol}: HTTP 413 for a batch holding one oversized record drops that record only, counted, no retry loop`, async () => {
    const { receiver, sidecar, q } = await run(protocol, 413, [77]);
    assert.equal(q.dropped.rejected, 1);
    assert.equal(q.exported, N - 1);
    assert.equal(receiver.logs.length, N - 1);
    assert.ok(!hasPoison(receiver.logs));
    // Bisection: about two requests per level, never an endless retry.
    assert.ok(receiver.refused[413]! <= 2 * Math.ceil(Math.log2(N)) + 1, `${receiver.refused[413]} refused requests`);
    assert.equal(q.failedExports, 0, 'a refusal is not a retryable failure');
    assert.ok(sidecar.logLines.some((l) => l.msg === 'log records refused by the exporter for good: dropped, not retried' && l.code === 413));
  });
}

test('HTTP 400 for records of two clients drops exactly those two', async () => {
  const { receiver, q } = await run('http/protobuf', 400, [3, 150]);
  assert.equal(q.dropped.rejected, 2);
  assert.equal(receiver.logs.length, N - 2);
});

test('HTTP 403 (not about the records) drops the batch at once, without bisecting or retrying', async () => {
  const { receiver, q } = await run('http/protobuf', 403, [0]);
  assert.equal(q.dropped.rejected, N);
  assert.equal(receiver.refused[403], 1);
  assert.equal(receiver.logs.length, 0);
});

test('gRPC INVALID_ARGUMENT for one record drops that record only', async () => {
  const receiver = new OtlpGrpcReceiver();
  const port = await receiver.start();
  receiver.refuseLogs = (logs) => (hasPoison(logs) ? 3 : null);
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('all'), logLevel: 'info' },
    otlpOtel(`http://127.0.0.1:${port}`, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_METRICS_EXPORTER: 'none', OTEL_BLRP_SCHEDULE_DELAY: '20' }),
  );
  try {
    const s = await connect(sidecar.port);
    await write(s, frames([42]));
    const q = sidecar.telemetry.logQueue!;
    await eventually(() => {
      assert.equal(sidecar.stats.eventsTotal, N);
      assert.equal(q.pending, 0);
    }, 10_000);
    assert.equal(q.dropped.rejected, 1);
    assert.equal(receiver.logs.length, N - 1);
    s.destroy();
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});

test('a collector answering 400 to every log export: at most 1,000 POSTs for 20,000 records, each record counted once as rejected', async () => {
  const { QueuedExporter } = await import('../../src/telemetry/export-helper/queued-exporter.js');
  const { createOtlpLogExporter } = await import('../../src/telemetry/exporters.js');
  const { LogRecordEncoder } = await import('../../src/telemetry/otlp/log-record-encoder.js');
  const { parseOtelConfig } = await import('../../src/telemetry/otel-config.js');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { SidecarLogger } = await import('../../src/logging/sidecar-logger.js');
  const receiver = new OtlpReceiver();
  const port = await receiver.start();
  receiver.refuseLogs = () => 400;
  const otel = parseOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
  const resource = resourceFromAttributes({ 'service.name': 'test' });
  // Records as the http/protobuf path queues them: encoded, as handles into the encoder.
  const encoder = new LogRecordEncoder();
  const exporter = await createOtlpLogExporter(otel.logs, { resource, scope: { name: 'vmq-otel-sidecar' }, encoder });
  // The default batch size; a short back-off so that the test does not wait out the real one.
  const q = new QueuedExporter(
    exporter,
    { maxQueueSize: 20_000, maxExportBatchSize: 512, scheduledDelayMillis: 5, exportTimeoutMillis: 10_000, minBackoffMillis: 5, maxBackoffMillis: 20 },
    new SidecarLogger('silent'),
  );
  q.store = encoder;
  const N = 20_000;
  try {
    for (let i = 0; i < N; i++) {
      encoder.begin(1764133200 + i, 0, (1764133200 + i) * 1000, 'vernemq.on_register');
      encoder.string('messaging.client.id', `c${i}`);
      encoder.severity(9, 'INFO');
      encoder.body(`client c${i} connected`);
      q.add(encoder.end(0));
    }
    await eventually(() => assert.equal(q.pending, 0), 60_000);
    const posts = receiver.refused[400] ?? 0;
    assert.ok(posts <= 1000, `${posts} POSTs for ${N} records`);
    assert.ok(posts >= Math.ceil(N / 512), 'every batch was tried');
    assert.equal(q.dropped.rejected, N, 'each refused record counted once');
    assert.equal(q.droppedTotal, N);
    assert.equal(q.exported, 0);
    assert.equal(q.failedExports, 0);
    assert.equal(encoder.live, 0, 'every refused record released');
  } finally {
    await q.shutdown(1000);
    await receiver.stop();
  }
});

test('two bad records in different halves of one batch: both isolated, the other records exported', async () => {
  const { QueuedExporter } = await import('../../src/telemetry/export-helper/queued-exporter.js');
  const { ExportResultCode } = await import('@opentelemetry/core');
  const { SidecarLogger } = await import('../../src/logging/sidecar-logger.js');
  let calls = 0;
  const exported: string[] = [];
  const bad = new Set(['r7', 'r400']);
  // A collector answering 400 (as the OTLP HTTP exporter reports it) when a batch holds a bad record.
  const exporter = {
    export(batch: { body: string }[], done: (r: { code: number; error?: Error }) => void) {
      calls++;
      setImmediate(() => {
        if (batch.some((r) => bad.has(r.body))) done({ code: ExportResultCode.FAILED, error: Object.assign(new Error('Bad Request'), { name: 'OTLPExporterError', code: 400 }) });
        else {
          exported.push(...batch.map((r) => r.body));
          done({ code: ExportResultCode.SUCCESS });
        }
      });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const q = new QueuedExporter(exporter as never, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5, exportTimeoutMillis: 1000 }, new SidecarLogger('silent'));
  for (let i = 0; i < 512; i++) q.add({ body: `r${i}` } as never);
  await eventually(() => assert.equal(q.pending, 0));
  assert.equal(q.dropped.rejected, 2);
  assert.equal(exported.length, 510);
  assert.ok(calls <= 4 * 9 + 1, `${calls} export calls`);
  await q.shutdown(100);
});
