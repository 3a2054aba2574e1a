/**
 * Event times the plugin's int64/int32 timestamp allows but OTLP's unsigned time_unix_nano
 * cannot hold are exported as 0 ("unknown") by every OTLP log exporter, never wrapped into
 * another date or refused; times it can hold are exported exactly.
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
const CASES: [string, number, number, bigint][] = [
  ['normal', 1764133200, 123456789, 1764133200123456789n],
  ['epoch', 0, 0, 0n],
  ['last-representable', 18446744072, 999999999, 18446744072999999999n],
  ['negative', -1, 5, 0n],
  ['1e13', 1e13, 0, 0n],
  ['int64-max', 9223372036854775000, 0, 0n],
  ['nanos-negative', 1764133200, -1, 0n],
  ['nanos-too-big', 1764133200, 2147483647, 0n],
];

for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
  test(`${protocol}: out-of-range event times are exported as 0 (unknown), others exactly`, async () => {
    const http = protocol === 'grpc' ? null : new OtlpReceiver();
    const grpc = protocol === 'grpc' ? new OtlpGrpcReceiver() : null;
    const port = http ? await http.start() : await grpc!.start();
    const sidecar = await startTestSidecar(
      { logHooks: parseLogHooks('all') },
      otlpOtel(`http://127.0.0.1:${port}`, { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_METRICS_EXPORTER: 'none' }),
    );
    try {
      const s = await connect(sidecar.port);
      await write(s, Buffer.concat(CASES.map(([id, seconds, nanos]) => encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: id, timestamp: { seconds, nanos } }))));
      const logs = (): ReceivedLog[] => (http ? http.logs : grpc!.logs);
      await eventually(() => assert.equal(logs().length, CASES.length), 10_000);
      for (const [id, , , expected] of CASES) {
        const r = logs().find((l) => l.attributes['messaging.client.id'] === id)!;
        assert.equal(BigInt(r.timeUnixNano), expected, id);
        assert.ok(BigInt(r.observedTimeUnixNano) > 0n, `${id}: observed time set`);
      }
      assert.equal(sidecar.telemetry.logQueue!.droppedTotal, 0);
      s.destroy();
    } finally {
      await sidecar.stop();
      await http?.stop();
      await grpc?.stop();
    }
  });
}
