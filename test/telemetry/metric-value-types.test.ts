/**
 * A fraction stays a fraction over OTLP: metrics the catalog types as double are sent as
 * asDouble (protobuf would truncate 0.0123 in asInt to 0, and JSON would carry an invalid
 * `asInt: 0.0123`), counts as asInt, and the double values agree with /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { otlpOtel, startTestSidecar } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { ALL_METRICS, prometheusNameOf } from '../../src/metrics/metric-catalog.js';

const byName = new Map(ALL_METRICS.map((d) => [d.name, d]));

/** The value of a series on /metrics, by Prometheus name and a label that picks it. */
function promValue(text: string, name: string, label?: [string, string]): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (label && !line.includes(`${label[0]}="${label[1]}"`)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  throw new Error(`${name} not on /metrics`);
}

for (const protocol of ['http/json', 'http/protobuf'] as const) {
  test(`over ${protocol}, double-typed metrics arrive as asDouble with their fractions, counts as asInt`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'value-types-'));
    const receiver = new OtlpReceiver();
    const port = await receiver.start();
    const sidecar = await startTestSidecar(
      { logLevel: 'warn', stateFile: join(dir, 'state'), stateIntervalMs: 1500 },
      otlpOtel(`http://127.0.0.1:${port}`, { OTEL_METRICS_EXPORTER: 'otlp,prometheus', OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_LOGS_EXPORTER: 'none' }),
    );
    try {
      // process.cpu.time has a fraction after start-up work (compiling, the first export).
      await eventually(() => {
        const cpu = receiver.latestPoints().find((p) => p.metric === 'process.cpu.time' && p.attributes['cpu.mode'] === 'user');
        assert.ok(cpu && cpu.value > 0 && !Number.isInteger(cpu.value), `process.cpu.time user: ${cpu?.value}`);
      });
      const points = receiver.latestPoints();
      for (const p of points) {
        if (p.type === 'histogram') continue;
        const def = byName.get(p.metric);
        assert.ok(def, `${p.metric} is in the catalog`);
        assert.equal(p.wireType, def.valueType === 'double' ? 'asDouble' : 'asInt', `${p.metric} sent as ${p.wireType}`);
      }
      for (const name of ['process.cpu.time', 'nodejs.eventloop.delay.p99', 'nodejs.eventloop.time', 'vmq_sidecar.snapshot.interval']) {
        assert.ok(points.some((p) => p.metric === name && p.wireType === 'asDouble'), `${name} as asDouble`);
      }

      // Agreement with /metrics: a constant fraction reads the same; a growing one no less, and
      // both keep their fractions.
      const text = await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/metrics`)).text();
      const interval = points.find((p) => p.metric === 'vmq_sidecar.snapshot.interval')!;
      assert.equal(interval.value, 1.5);
      assert.equal(promValue(text, prometheusNameOf(byName.get('vmq_sidecar.snapshot.interval')!)), 1.5);
      const cpuOtlp = points.find((p) => p.metric === 'process.cpu.time' && p.attributes['cpu.mode'] === 'user')!.value;
      const cpuProm = promValue(text, prometheusNameOf(byName.get('process.cpu.time')!), ['cpu_mode', 'user']);
      assert.ok(cpuProm >= cpuOtlp && !Number.isInteger(cpuProm), `/metrics ${cpuProm} vs OTLP ${cpuOtlp}`);
    } finally {
      await sidecar.stop();
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
