/**
 * The broker's grpc_call_result counts beside the upstream-loss accounting: a gRPC call the
 * broker gave up on (deadline_exceeded) but the sidecar received is shown as a late answer, and
 * it is not missing (it was received); the broker's other failed sends are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { EVENT_METHOD_PATH, eventRequest } from '../../src/simulator/grpc-sender.js';
import { connect, startTestSidecar, write } from '../helpers/sidecar-fixture.js';
import { parsePrometheusText as parseExposition } from '../../src/reconcile/prometheus-text.js';
import { BrokerReconciler } from '../../src/reconcile/broker-reconciler.js';
import { IngestStats } from '../../src/receiver/ingest-stats.js';
import { SidecarLogger } from '../../src/logging/sidecar-logger.js';
import { eventually } from '../helpers/eventually.js';

const encoder = new FrameEncoder();
let broker = { attempts: 0, errors: 0, ok: 0, deadline: 0, dropped: 0 };

function text(): string {
  const n = 'node="VerneMQ@127.0.0.1"';
  const h = 'hook="on_client_wakeup"';
  return [
    `active_mqtt_connections{${n}} 0`,
    `sidecar_events{${n},${h}} ${broker.attempts}`,
    `sidecar_events_error{${n},${h}} ${broker.errors}`,
    `grpc_call_result{${n},${h},result="ok"} ${broker.ok}`,
    `grpc_call_result{${n},${h},result="deadline_exceeded"} ${broker.deadline}`,
    `grpc_call_result{${n},${h},result="dropped"} ${broker.dropped}`,
    '',
  ].join('\n');
}

test('a late gRPC answer is received, not missing: missing = attempted - received; late answers shown apart', async () => {
  const server = http.createServer((_q, res) => res.end(text()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const s = await startTestSidecar({ brokerMetricsUrl: url, brokerScrapeIntervalMs: 3_600_000, grpcListen: { host: '127.0.0.1', port: 0 } });
  const client = new grpc.Client(`127.0.0.1:${s.grpcAddress!.port}`, grpc.credentials.createInsecure());
  try {
    await eventually(() => assert.ok(s.component(BrokerReconciler)!.last, 'the scrape at start is the baseline'));
    // 6 wakeups reach the sidecar over gRPC.
    for (let i = 0; i < 6; i++) {
      const req = eventRequest(encoder.encodeFrame({ hook: 'on_client_wakeup', clientId: `g${i}`, mountpoint: '', timestamp: { seconds: 1_700_000_000, nanos: i } }).subarray(4));
      await new Promise<void>((resolve, reject) => client.makeUnaryRequest(EVENT_METHOD_PATH, (b: Buffer) => b, (b: Buffer) => b, req, (err) => (err ? reject(err) : resolve())));
    }
    // The broker's view: 9 attempted; 5 answered OK; 2 past the deadline (one of them did reach
    // the sidecar: a late answer), 1 dropped on a full queue; and 1 lost without a trace.
    broker = { attempts: 9, errors: 3, ok: 5, deadline: 2, dropped: 1 };
    assert.equal(await s.component(BrokerReconciler)!.scrapeOnce(), 'success');
    assert.equal(s.component(BrokerReconciler)!.lateGrpc().get('on_client_wakeup'), 1);
    // Missing: the deadline_exceeded call that never arrived, the dropped one, the lost one.
    assert.equal(s.component(BrokerReconciler)!.missing().get('on_client_wakeup'), 3);
    const samples = parseExposition(await (await fetch(`http://127.0.0.1:${s.adminAddress!.port}/metrics`)).text());
    const v = (name: string, labels: Record<string, string | undefined>) => samples.find((x) => x.name === name && Object.entries(labels).every(([k, val]) => x.labels[k] === val))?.value;
    assert.equal(v('vmq_sidecar_upstream_missing', { vernemq_hook: 'on_client_wakeup' }), 3);
    assert.equal(v('vmq_sidecar_broker_grpc_calls_total', { vernemq_hook: 'on_client_wakeup', error_type: 'deadline_exceeded' }), 2);
    assert.equal(v('vmq_sidecar_broker_grpc_calls_total', { vernemq_hook: 'on_client_wakeup', error_type: undefined }), 5);
  } finally {
    client.close();
    await s.stop();
    server.close();
  }
});

test('the rollout percentage splits events between this TCP sidecar and a gRPC Service elsewhere: the OK calls are not missing here', async () => {
  broker = { attempts: 0, errors: 0, ok: 0, deadline: 0, dropped: 0 };
  const server = http.createServer((_q, res) => res.end(text()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  // A per-pod sidecar on the TCP pool only, in deltas mode as docs/deployment.md says for a split; the
  // plugin's gRPC calls go to another endpoint.
  const s = await startTestSidecar({ brokerMetricsUrl: url, brokerScrapeIntervalMs: 3_600_000, gaugeMode: 'deltas' });
  try {
    const r = s.component(BrokerReconciler)!;
    await eventually(() => assert.ok(r.last, 'the scrape at start is the baseline'));
    const sock = await connect(s.port);
    await write(sock, Buffer.concat(Array.from({ length: 6 }, (_, i) => encoder.encodeFrame({ hook: 'on_client_wakeup', clientId: `t${i}`, mountpoint: '', timestamp: { seconds: 1_700_000_000, nanos: i } }))));
    await eventually(() => assert.equal(s.stats.eventsTotal, 6));
    sock.destroy();
    // 12 attempted: 6 over TCP (received here), 6 over gRPC to the other endpoint, of which 4
    // were answered OK, 1 passed its deadline and 1 was dropped on a full worker queue.
    broker = { attempts: 12, errors: 2, ok: 4, deadline: 1, dropped: 1 };
    assert.equal(await r.scrapeOnce(), 'success');
    assert.equal(r.missing().get('on_client_wakeup'), 2, 'the two calls the broker counts as failed, not the four delivered elsewhere');
    // One TCP event lost on the way: missing by one more.
    broker = { attempts: 13, errors: 2, ok: 4, deadline: 1, dropped: 1 };
    assert.equal(await r.scrapeOnce(), 'success');
    assert.equal(r.missing().get('on_client_wakeup'), 3);
    // Its gauge is a share of a sum: no drift against the broker's whole count.
    assert.equal(r.drift(), undefined);
    const text = await (await fetch(`http://127.0.0.1:${s.adminAddress!.port}/metrics`)).text();
    assert.match(text, /^vmq_sidecar_broker_connections\b.* 0$/m);
    assert.doesNotMatch(text, /vmq_sidecar_broker_connection_drift/);
    // Across a restart with the state file: the gRPC baseline is kept too. The next process
    // (nothing received yet) sees 4 more attempts, all answered OK elsewhere: still 3 missing.
    const saved = r.saveState()!;
    const next = new BrokerReconciler(url, 3_600_000, 1000, new IngestStats(), null, new SidecarLogger('silent'));
    assert.equal(next.restoreState(saved), undefined);
    broker = { attempts: 17, errors: 2, ok: 8, deadline: 1, dropped: 1 };
    assert.equal(await next.scrapeOnce(), 'success');
    assert.equal(next.missing().get('on_client_wakeup'), 3);
    // A snapshot of the version before (no gRPC counts) while the broker sends over gRPC: the OK
    // calls since its baseline are unknown, so the count starts over rather than keep them missing.
    const old = structuredClone(saved);
    for (const h of Object.values(old.hooks)) {
      delete h.baseGrpcOk;
      delete h.receivedGrpc;
    }
    const lines: string[] = [];
    const upgraded = new BrokerReconciler(url, 3_600_000, 1000, new IngestStats(), null, new SidecarLogger('info', (l) => lines.push(l)));
    assert.equal(upgraded.restoreState(old), undefined);
    assert.equal(await upgraded.scrapeOnce(), 'success');
    assert.equal(upgraded.missing().get('on_client_wakeup'), 0);
    assert.match(lines.join('\n'), /the snapshot has no gRPC counts: upstream loss is counted from now on/);
  } finally {
    await s.stop();
    server.close();
  }
});

test("the broker's gRPC result names are bounded: 8 names, then other; an overlong name is invalid; the counts add up", async () => {
  const n = 'node="VerneMQ@127.0.0.1"';
  const h = 'hook="on_client_wakeup"';
  const page = [
    `active_mqtt_connections{${n}} 0`,
    `grpc_call_result{${n},${h},result="ok"} 7`,
    ...Array.from({ length: 30 }, (_, i) => `grpc_call_result{${n},${h},result="made_up_${i}"} 1`),
    `grpc_call_result{${n},${h},result="${'x'.repeat(300)}"} 5`,
    '',
  ].join('\n');
  const server = http.createServer((_q, res) => res.end(page));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const s = await startTestSidecar({ brokerMetricsUrl: url, brokerScrapeIntervalMs: 3_600_000 });
  try {
    await eventually(() => assert.ok(s.component(BrokerReconciler)!.last));
    const samples = parseExposition(await (await fetch(`http://127.0.0.1:${s.adminAddress!.port}/metrics`)).text()).filter((x) => x.name === 'vmq_sidecar_broker_grpc_calls_total');
    const byType = new Map(samples.map((x) => [x.labels.error_type ?? '', x.value]));
    assert.equal(byType.size, 1 + 8 + 2, JSON.stringify([...byType.keys()]));
    assert.equal(byType.get(''), 7);
    assert.equal(byType.get('invalid'), 5);
    assert.equal(byType.get('other'), 30 - 8);
    assert.ok([...byType.keys()].every((k) => k.length <= 128));
  } finally {
    await s.stop();
    server.close();
  }
});
