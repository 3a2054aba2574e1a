import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyPort } from '../helpers/busy-port.js';
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

test('settings that cannot work together exit 64 before anything binds, one line each naming the setting', async () => {
  const p = runCli(['--listen', '127.0.0.1:18890', '--grpc-listen', '127.0.0.1:18890', '--admin-listen', 'off', '--workers', '2']);
  assert.equal((await p.exited).code, 64);
  assert.deepEqual(p.stderr().trim().split('\n'), [
    "vmq-otel-sidecar: invalid configuration: --workers 2: needs --gauge-mode deltas (sessions mode keeps each client's state in one process, and the workers would each see a share of a client's events); use 1, or deltas mode for a central deployment",
    'vmq-otel-sidecar: invalid configuration: --grpc-listen: 127.0.0.1:18890 is also the address of --listen (127.0.0.1:18890); give each listener its own HOST:PORT',
  ]);
});

test('an unknown command is refused with the list of commands', async () => {
  const p = runCli(['serve']);
  assert.equal((await p.exited).code, 64);
  assert.match(p.stderr(), /unknown command "serve"; accepted: run, simulate/);
});


test('an invalid --client-groups says once what is accepted', async () => {
  const p = runCli(['--client-groups', 'foo']);
  assert.equal((await p.exited).code, 64);
  assert.equal(p.stderr().split('accepted: ').length, 2, p.stderr());
});

test('a port in use is a configuration error naming its flag (exit 64), with no "ready" line before it', async () => {
  const first = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0']);
  const port = await listeningPort(first);
  const admin = await eventually(() => {
    const l = logLines(first).find((x) => x.msg === 'admin listener ready');
    assert.ok(l);
    return String(l.address);
  });
  try {
    const second = runCli(['--listen', `127.0.0.1:${port}`, '--admin-listen', '127.0.0.1:0']);
    assert.equal((await second.exited).code, 64);
    assert.equal(second.stderr().trim(), `vmq-otel-sidecar: invalid configuration: --listen: 127.0.0.1:${port} is already in use by another process (EADDRINUSE); choose another HOST:PORT`);
    const third = runCli(['--listen', '127.0.0.1:0', '--admin-listen', admin]);
    assert.equal((await third.exited).code, 64);
    assert.match(third.stderr(), /invalid configuration: --admin-listen: \S+ is already in use by another process \(EADDRINUSE\)/);
    assert.doesNotMatch(third.stderr(), /listener ready|\n\s+at /);
    // Both busy: one run names both, one line each.
    const fourth = runCli(['--listen', `127.0.0.1:${port}`, '--admin-listen', admin]);
    assert.equal((await fourth.exited).code, 64);
    assert.deepEqual(
      fourth.stderr().trim().split('\n').map((l) => /invalid configuration: (--[a-z-]+):/.exec(l)?.[1]),
      ['--admin-listen', '--listen'],
    );
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
  }
});

test('a busy --grpc-listen port: exit 64 naming the flag, and stderr stays JSON lines up to that message, no stack trace', async () => {
  const { port, release } = await busyPort();
  try {
    const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', 'off', '--grpc-listen', `127.0.0.1:${port}`]);
    assert.equal((await p.exited).code, 64);
    const lines = p.stderr().trim().split('\n');
    assert.equal(lines.pop(), `vmq-otel-sidecar: invalid configuration: --grpc-listen: 127.0.0.1:${port} is already in use by another process (EADDRINUSE); choose another HOST:PORT`);
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
    assert.doesNotMatch(p.stderr(), /\n\s+at /);
  } finally {
    release();
  }
});

test('-h and --help print the usage; --version prints the version', async () => {
  for (const flag of ['-h', '--help']) {
    const p = runCli([flag]);
    assert.equal((await p.exited).code, 0);
    assert.match(p.stdout(), /^Usage: vmq-otel-sidecar \[run\] \[options\]/);
    assert.match(p.stdout(), /-h, --help/);
  }
  const sim = runCli(['simulate', '-h']);
  assert.equal((await sim.exited).code, 0);
  assert.match(sim.stdout(), /^Usage: vmq-otel-sidecar simulate/);
  const v = runCli(['--version']);
  assert.equal((await v.exited).code, 0);
  assert.match(v.stdout(), /^vmq-otel-sidecar \d+\.\d+\.\d+\n$/);
});

test('an unknown option is named as such, with a hint', async () => {
  const p = runCli(['--bogus', '--lisen', '127.0.0.1:0']);
  assert.equal((await p.exited).code, 64);
  assert.equal(
    p.stderr(),
    'vmq-otel-sidecar: invalid configuration: unknown option --bogus (--help lists the options)\n' +
      'vmq-otel-sidecar: invalid configuration: unknown option --lisen; did you mean --listen? (--help lists the options)\n',
  );
});

test('a duration without a unit says a unit is needed', async () => {
  const p = runCli(['--shutdown-timeout', '10']);
  assert.equal((await p.exited).code, 64);
  assert.match(p.stderr(), /--shutdown-timeout: "10" is invalid: a unit is needed, e.g. "10s" \(units: ms, s, m, h\); accepted: a duration from 100ms to 5m/);
  const q = runCli(['--state-interval', '2h']);
  assert.equal((await q.exited).code, 64);
  assert.match(q.stderr(), /--state-interval: "2h" is invalid: above the maximum 1h/);
});

test('simulate --preencode without --events is a configuration error, not a stack trace', async () => {
  const p = runCli(['simulate', '--preencode', '--duration', '1s']);
  assert.equal((await p.exited).code, 64);
  assert.equal(p.stderr(), 'vmq-otel-sidecar: invalid configuration: --preencode needs --events N: it encodes every frame before sending, so the run needs an event count, not a duration\n');
});

test('a value flag followed by another flag says a value is required', async () => {
  const p = runCli(['--listen', '--print-events']);
  assert.equal((await p.exited).code, 64);
  assert.match(p.stderr(), /--listen: a value is required \(found the option --print-events instead\); accepted: HOST:PORT/);
});

test('simulate with no sidecar up prints one line, no stack, after trying for --connect-timeout', async () => {
  const t0 = Date.now();
  const p = runCli(['simulate', '--target', '127.0.0.1:1', '--events', '10', '--connect-timeout', '1s']);
  assert.equal((await p.exited).code, 69);
  assert.ok(Date.now() - t0 >= 1000, 'it kept trying for a second');
  assert.equal(p.stderr(), 'vmq-otel-sidecar simulate: no sidecar reachable at 127.0.0.1:1 (ECONNREFUSED); start one (npm start) or point --target at it\n');
});

test('at start, one line per export target: signal, exporter, endpoint (credentials masked), protocol', async () => {
  // Nobody listens at the endpoint: a short --shutdown-timeout, as flushing to it cannot succeed.
  // Credentials in the URL, and a query string the signal path must go before.
  const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--shutdown-timeout', '1s'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:pw@127.0.0.1:1/otlp?token=SECRET',
    OTEL_METRICS_EXPORTER: 'otlp,prometheus',
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc',
  });
  await listeningPort(p);
  const targets = await eventually(() => {
    const t = logLines(p).filter((l) => l.msg === 'export target');
    assert.equal(t.length, 4);
    return t;
  });
  p.child.kill('SIGTERM');
  await p.exited;
  const admin = String(logLines(p).find((l) => l.msg === 'admin listener ready')!.address);
  assert.deepEqual(
    targets.map(({ signal, exporter, endpoint, protocol }) => ({ signal, exporter, endpoint, protocol })),
    [
      { signal: 'metrics', exporter: 'otlp', endpoint: 'http://***:***@127.0.0.1:1/otlp/v1/metrics?token=***', protocol: 'http/protobuf' },
      { signal: 'metrics', exporter: 'prometheus', endpoint: `http://${admin}/metrics`, protocol: undefined },
      { signal: 'logs', exporter: 'otlp', endpoint: 'http://***:***@127.0.0.1:1/otlp?token=***', protocol: 'grpc' },
      { signal: 'traces', exporter: 'otlp', endpoint: 'http://***:***@127.0.0.1:1/otlp/v1/traces?token=***', protocol: 'http/protobuf' },
    ],
  );
  // Nowhere else either: the failure and shutdown lines name the endpoint masked too.
  assert.doesNotMatch(p.stderr() + p.stdout(), /SECRET|user:pw/);
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

test('boolean flags accept --flag, --flag=VALUE and --flag VALUE alike', async () => {
  const { parseOptions } = await import('../../src/config/option-parser.js');
  const { SIDECAR_OPTIONS } = await import('../../src/config/sidecar-config.js');
  const cases: [string[], boolean][] = [
    [['--print-events'], true],
    [['--print-events=yes'], true],
    [['--print-events', 'yes'], true],
    [['--print-events', 'true'], true],
    [['--print-events=no'], false],
    [['--print-events', 'false'], false],
    [['--print-events', '--log-level', 'warn'], true],
  ];
  for (const [argv, want] of cases) {
    const { settings, positional } = parseOptions(SIDECAR_OPTIONS, argv, {});
    assert.equal(settings.printEvents, want, argv.join(' '));
    assert.deepEqual(positional, [], argv.join(' '));
  }
});

test('an invalid OTEL_* value is reported once', async () => {
  const p = runCli(['--admin-listen', '127.0.0.1:0'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' });
  assert.equal((await p.exited).code, 64);
  assert.equal(
    p.stderr(),
    'vmq-otel-sidecar: invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" is invalid; accepted: an http:// or https:// URL\n' +
      'vmq-otel-sidecar: invalid configuration: OTEL_EXPORTER_OTLP_HEADERS: "novalue" is invalid; accepted: comma-separated key=value pairs\n',
  );
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
  assert.match(await res.text(), /vmq_sidecar_connection_accepted_total/);
  // Everything it logs until it exits is checked below: no need to wait for late warnings.
  p.child.kill('SIGTERM');
  assert.equal((await p.exited).code, 0);
  assert.deepEqual(logLines(p).filter((l) => l.level === 'warn' || l.level === 'error'), []);
});

test('a closed stdout (a pipe whose reader went away) does not take the sidecar down', async () => {
  const sidecar = runCli(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--print-events']);
  try {
    const port = await listeningPort(sidecar);
    sidecar.child.stdout!.destroy();
    const sim = runCli(['simulate', '--target', `127.0.0.1:${port}`, '--events', '3000', '--rate', 'max', '--connections', '3']);
    assert.equal((await sim.exited).code, 0);
    // Every event printed (into the closed pipe) before the check that the process lives.
    const admin = String(logLines(sidecar).find((l) => l.msg === 'admin listener ready')?.address);
    await eventually(async () => assert.ok(((await (await fetch(`http://${admin}/status`)).json()) as { events: { total: number } }).events.total >= 3000));
    assert.equal(sidecar.child.exitCode, null, `still running; stderr: ${sidecar.stderr().slice(-500)}`);
    sidecar.child.kill('SIGTERM');
    assert.equal((await sidecar.exited).code, 0);
    const stopped = logLines(sidecar).find((l) => l.msg === 'stopped');
    assert.ok(Number(stopped?.events) >= 3000);
  } finally {
    sidecar.child.kill('SIGKILL');
  }
});

test('contradictory --log-hooks exit 64 with one line: nothing given, none with others, a hook twice', async () => {
  for (const [value, why] of [
    [',', /no item; give none to log no events/],
    ['all,none', /none cannot be combined with other items/],
    ['on_publish:0.1,publish:0.5', /on_publish is given twice/],
  ] as const) {
    const p = runCli(['--admin-listen', '127.0.0.1:0', '--log-hooks', value]);
    const { code } = await p.exited;
    assert.equal(code, 64, p.stderr());
    const lines = p.stderr().trim().split('\n');
    assert.equal(lines.length, 1, p.stderr());
    assert.match(lines[0]!, /^vmq-otel-sidecar: invalid configuration: --log-hooks: /);
    assert.match(lines[0]!, why);
  }
  // An override after a group is not a contradiction.
  const { parseLogHooks } = await import('../../src/config/sidecar-config.js');
  assert.equal(parseLogHooks('all,on_publish:0.01').on_publish, 0.01);
  assert.deepEqual(parseLogHooks('none'), {});
});
