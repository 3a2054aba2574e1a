/**
 * What each broker scrape reports to the MQTT 5 count: the sends the broker failed since the
 * scrape before (its sidecar_events_error rising), and after a restart from a snapshot the events
 * the dead process never read; not the events merely in flight at a scrape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokerReconciler, type ScrapeReport } from '../../src/reconcile/broker-reconciler.js';
import { IngestStats } from '../../src/receiver/ingest-stats.js';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';
import { IngestCore, type IngestSource } from '../../src/ingest/ingest-core.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';

const REGISTER_FRAME = new FrameEncoder().encodeFrame(SAMPLE_EVENTS.on_register);

/** `n` on_register events received over TCP, through the ingest core into `stats` (outputs: none). */
function receiveRegisters(stats: IngestStats, n: number): void {
  const core = new IngestCore({ consume() {} }, stats, new SidecarLogger('silent'));
  const source: IngestSource = { counters: stats.tcp, rejectLog: { message: 'frame rejected', keyPrefix: '' }, events: 0, rejected: 0 };
  for (let i = 0; i < n; i++) assert.ok(core.ingest(REGISTER_FRAME, 4, REGISTER_FRAME.length, Date.now(), source));
}

async function brokerEndpoint(counters: { attempts: number; errors: number }): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((_req, res) => {
    const node = 'node="VerneMQ@127.0.0.1"';
    res.writeHead(200, { 'content-type': 'text/plain' }).end(
      [`sidecar_events{${node},hook="on_register"} ${counters.attempts}`, `sidecar_events_error{${node},hook="on_register"} ${counters.errors}`, `active_mqtt_connections{${node}} 0`, ''].join('\n'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, close: () => server.close() };
}

test('failed sends since the previous scrape are reported; events in flight at a scrape are not', async () => {
  const counters = { attempts: 100, errors: 5 };
  const broker = await brokerEndpoint(counters);
  const stats = new IngestStats();
  const r = new BrokerReconciler(broker.url, 3_600_000, 2000, stats, () => 0, new SidecarLogger('silent'));
  const reports: ScrapeReport[] = [];
  r.whenScraped((report) => reports.push(report));
  try {
    receiveRegisters(stats, 95);
    assert.equal(await r.scrapeOnce(), 'success');
    assert.equal(reports[0]!.previousAt, undefined, 'the first scrape has nothing before it');
    assert.equal(reports[0]!.lostSince.get('on_register'), 0, 'failures before the first scrape are not placed in time');
    // 10 attempted, 3 in flight at the scrape (received after it), none failed.
    counters.attempts += 10;
    receiveRegisters(stats, 7);
    assert.equal(await r.scrapeOnce(), 'success');
    assert.equal(reports[1]!.lostSince.get('on_register'), 0);
    assert.equal(reports[1]!.previousAt, reports[0]!.at);
    // 14 failed sends.
    receiveRegisters(stats, 3);
    counters.attempts += 14;
    counters.errors += 14;
    assert.equal(await r.scrapeOnce(), 'success');
    assert.equal(reports[2]!.lostSince.get('on_register'), 14);
    assert.equal(r.knownUntil(), reports[2]!.at);
  } finally {
    broker.close();
  }
});

test('after a restart from a snapshot, the events the dead process never read count as lost; scrapes failing: nothing known', async () => {
  const counters = { attempts: 200, errors: 10 };
  const broker = await brokerEndpoint(counters);
  const stats = new IngestStats();
  const r = new BrokerReconciler(broker.url, 3_600_000, 2000, stats, () => 0, new SidecarLogger('silent'));
  const reports: ScrapeReport[] = [];
  r.whenScraped((report) => reports.push(report));
  try {
    // The dead process's last scrape: 180 attempted since the baseline, all of them read; then
    // 20 more attempted, of which 4 failed (while no process listened) and 6 went into its
    // socket unread: the new process has received the other 10.
    const before = Date.now() - 20_000;
    assert.equal(
      r.restoreState({ url: broker.url, scrapedAtMs: before, brokerUptimeMs: null, hooks: { on_register: { baseAttempts: 0, baseErrors: 6, lastAttempts: 180, lastErrors: 6, received: 180 } } }),
      undefined,
    );
    counters.errors = 10;
    receiveRegisters(stats, 10);
    assert.equal(await r.scrapeOnce(), 'success');
    assert.equal(reports[0]!.previousAt, before);
    // Missing since the baseline: 200 - (180 + 10) = 10, of which 4 failed (errors 6 -> 10).
    assert.equal(r.missing().get('on_register'), 10);
    assert.equal(reports[0]!.lostSince.get('on_register'), 10, 'the 4 failed and the 6 never read');
    broker.close();
    assert.notEqual(await r.scrapeOnce(), 'success');
    assert.equal(r.knownUntil(), undefined, 'while scrapes fail, nothing to wait for');
  } finally {
    broker.close();
  }
});
