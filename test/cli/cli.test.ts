import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLines, runCli } from '../helpers/cli-process.js';
import { eventually } from '../helpers/eventually.js';

async function listeningPort(p: ReturnType<typeof runCli>): Promise<number> {
  return eventually(() => {
    const l = logLines(p).find((x) => x.msg === 'listening for plugin connections');
    assert.ok(l, `no listening line yet; stderr: ${p.stderr()}`);
    return Number(String(l.address).split(':').pop());
  });
}

test('invalid configuration exits 64 naming the setting and the accepted values', async () => {
  const p = runCli(['--listen', 'localhost', '--log-level', 'chatty']);
  const { code } = await p.exited;
  assert.equal(code, 64);
  assert.match(p.stderr(), /invalid configuration: --listen: "localhost" is invalid: not HOST:PORT; accepted: HOST:PORT/);
  assert.match(p.stderr(), /--log-level: "chatty" is invalid.*accepted: debug, info, warn, error, silent/);
});

test('an unknown command is refused with the list of commands', async () => {
  const p = runCli(['serve']);
  assert.equal((await p.exited).code, 64);
  assert.match(p.stderr(), /unknown command "serve"; accepted: run, simulate/);
});

test('--help lists every option with its environment variable', async () => {
  const p = runCli(['--help']);
  assert.equal((await p.exited).code, 0);
  for (const v of ['--listen', 'VMQ_SIDECAR_LISTEN', '--max-frame-bytes', '--print-events', '--shutdown-timeout']) assert.ok(p.stdout().includes(v), v);
});

test('a port in use is a clear error and a non-zero exit', async () => {
  const first = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0']);
  const port = await listeningPort(first);
  const second = runCli(['--listen', `127.0.0.1:${port}`, '--admin-listen', '127.0.0.1:0']);
  const { code } = await second.exited;
  assert.equal(code, 1);
  assert.match(second.stderr(), /EADDRINUSE/);
  first.child.kill('SIGTERM');
  await first.exited;
});

test('with --print-events the simulator\'s events show up as readable lines; SIGTERM exits 0 promptly', async () => {
  const sidecar = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--print-events'], { OTEL_LOGS_EXPORTER: 'none' });
  const port = await listeningPort(sidecar);
  const sim = runCli(['simulate', '--target', `127.0.0.1:${port}`, '--events', '500', '--rate', 'max', '--connections', '5', '--json']);
  assert.equal((await sim.exited).code, 0, sim.stderr());
  const summary = JSON.parse(sim.stdout()) as { total: number };
  await eventually(() => assert.equal(sidecar.stdout().trim().split('\n').length, summary.total));
  assert.match(sidecar.stdout(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z on_register mountpoint=\S+ client_id=sim-client-\d{6} username=/m);
  assert.match(sidecar.stdout(), / on_client_wakeup mountpoint=/);
  const started = Date.now();
  sidecar.child.kill('SIGTERM');
  const { code } = await sidecar.exited;
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 5000);
  const stopped = logLines(sidecar).find((l) => l.msg === 'stopped');
  assert.equal(stopped?.events, summary.total);
});

test('bad OpenTelemetry settings exit 64, each naming its variable', async () => {
  const p = runCli(['--admin-listen', '127.0.0.1:0', '--log-hooks', 'on_publish:2'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
    OTEL_METRICS_EXPORTER: 'otlp,zipkin',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon',
  });
  assert.equal((await p.exited).code, 64);
  const err = p.stderr();
  assert.match(err, /OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" is invalid; accepted: an http:\/\/ or https:\/\/ URL/);
  assert.match(err, /OTEL_METRICS_EXPORTER: "otlp,zipkin" is invalid; accepted: a comma-separated list of otlp, prometheus, console, none/);
  assert.match(err, /OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon" is invalid; accepted: http\/protobuf, http\/json, grpc/);
  assert.match(err, /--log-hooks: "on_publish:2" is invalid: sampling ratio "2" of on_publish is not a number from 0 to 1/);
});

test('with nothing configured the sidecar is quiet: no connection errors, metrics on /metrics', async () => {
  const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { OTEL_EXPORTER_OTLP_ENDPOINT: '' });
  const admin = await eventually(() => {
    const l = logLines(p).find((x) => x.msg === 'admin listener ready');
    assert.ok(l);
    return String(l.address);
  });
  const res = await fetch(`http://${admin}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /vmq_sidecar_connections_accepted_total/);
  await new Promise((r) => setTimeout(r, 300));
  p.child.kill('SIGTERM');
  assert.equal((await p.exited).code, 0);
  assert.deepEqual(logLines(p).filter((l) => l.level === 'warn' || l.level === 'error'), []);
});

test('a closed stdout (a pipe whose reader went away) does not take the sidecar down', async () => {
  const sidecar = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--print-events']);
  const port = await listeningPort(sidecar);
  sidecar.child.stdout!.destroy();
  const sim = runCli(['simulate', '--target', `127.0.0.1:${port}`, '--events', '3000', '--rate', 'max', '--connections', '3']);
  assert.equal((await sim.exited).code, 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sidecar.child.exitCode, null, `still running; stderr: ${sidecar.stderr().slice(-500)}`);
  sidecar.child.kill('SIGTERM');
  assert.equal((await sidecar.exited).code, 0);
  const stopped = logLines(sidecar).find((l) => l.msg === 'stopped');
  assert.ok(Number(stopped?.events) >= 3000);
});
