/**
 * Client-chosen text cannot forge output lines, and credentials in configured URLs never reach
 * a log line or /status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { logLines, runCli } from '../helpers/cli-process.js';
import { eventually } from '../helpers/eventually.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';
import { startTestSidecar } from '../helpers/sidecar-fixture.js';
import { maskUrl } from '../../src/logging/url-masking.js';

test('a client id, username or topic holding newlines and escape codes cannot forge a line (console log records and --print-events)', async () => {
  const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', 'off', '--print-events', '--log-hooks', 'all'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_BLRP_SCHEDULE_DELAY: '20',
  });
  try {
    const port = await eventually(() => {
      const l = logLines(p).find((x) => x.msg === 'listening for plugin connections');
      assert.ok(l, `not ready yet; stderr: ${p.stderr()}`);
      return Number(String(l.address).split(':').pop());
    });
    const enc = new FrameEncoder();
    const evil = 'x\n2026-01-01T00:00:00.000000000Z INFO FORGED\r\u001b[2J\u0000\u2028';
    const frames = [
      enc.encodeFrame({ ...SAMPLE_EVENTS.on_register, clientId: evil, username: evil, mountpoint: evil }),
      enc.encodeFrame({ ...SAMPLE_EVENTS.on_subscribe, clientId: evil, topics: [{ topic: evil, qos: 1 }] }),
      enc.encodeFrame({ ...SAMPLE_EVENTS.on_unsubscribe, clientId: 'plain', topics: [evil] }),
      enc.encodeFrame({ ...SAMPLE_EVENTS.on_publish, clientId: 'plain', topic: evil }),
    ];
    const s = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(Buffer.concat(frames));
    // 4 printed events + 4 log records.
    await eventually(() => assert.equal(p.stdout().split('\n').filter((l) => l !== '').length, 8, p.stdout()));
    s.destroy();
    const out = p.stdout();
    for (const line of out.split('\n').filter((l) => l !== '')) {
      assert.doesNotMatch(line, /^2026-01-01T00:00:00.000000000Z INFO FORGED/);
    }
    assert.doesNotMatch(out, /[\u0000\u001b\r\u2028]/, 'no raw control characters on stdout');
    assert.match(out, /x\\n2026-01-01T00:00:00.000000000Z INFO FORGED\\r\\x1b\[2J/);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('credentials in --broker-metrics-url are masked in log lines and /status', async () => {
  const url = 'http://scraper:s3cr3t-pass@127.0.0.1:1/metrics?token=tok-123&job=vmq';
  const sidecar = await startTestSidecar({ brokerMetricsUrl: url, brokerScrapeTimeoutMs: 200 });
  try {
    await eventually(() => assert.ok(sidecar.logLines.some((l) => l.msg === 'broker metrics scrape failed; reconciliation paused')));
    const status = await (await fetch(`http://127.0.0.1:${sidecar.adminAddress!.port}/status`)).text();
    const logged = JSON.stringify(sidecar.logLines);
    for (const secret of ['s3cr3t-pass', 'tok-123', 'scraper']) {
      assert.ok(!logged.includes(secret), `${secret} not logged`);
      assert.ok(!status.includes(secret), `${secret} not in /status`);
    }
    assert.ok(status.includes('http://***:***@127.0.0.1:1/metrics?token=***&job=vmq'));
  } finally {
    await sidecar.stop();
  }
});

test('maskUrl masks userinfo and credential-like query parameters only', () => {
  assert.equal(maskUrl('https://collector:4318/v1/logs'), 'https://collector:4318/v1/logs');
  assert.equal(maskUrl('https://u:p@c/v1/logs?api_key=1&x=2&Signature=3'), 'https://***:***@c/v1/logs?api_key=***&x=2&Signature=***');
  assert.equal(maskUrl('not a url'), '(unparsable URL)');
});
