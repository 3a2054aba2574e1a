/**
 * OTLP export over TLS to a receiver with certificates made for the test by openssl: an
 * https:// endpoint, the collector's root in OTEL_EXPORTER_OTLP_CERTIFICATE, and a client
 * certificate and key for a collector that requires mutual TLS; over HTTP and gRPC.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { OtlpGrpcReceiver } from '../helpers/otlp-grpc-receiver.js';
import { connect, otlpOtel, startTestSidecar, write } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { parseLogHooks } from '../../src/config/sidecar-config.js';
import { parseOtelConfig } from '../../src/telemetry/otel-config.js';
import { ConfigError } from '../../src/config/option-parser.js';
import { SAMPLE_EVENTS } from '../helpers/sample-events.js';

const encoder = new FrameEncoder();
let dir = '';
const file = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A certificate for `cn` signed by the test CA, with `ext` (subjectAltName, extendedKeyUsage). */
function issue(name: string, cn: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(file(`${name}.ext`), ext);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vmq-tls-'));
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-collector-ca');
  issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', 'vmq-otel-sidecar-test', 'extendedKeyUsage=clientAuth\n');
  // A second client key, not the one of client.pem.
  issue('other', 'someone-else', 'extendedKeyUsage=clientAuth\n');
  // A collector certificate from the same CA for another address.
  issue('elsewhere', 'elsewhere', 'subjectAltName=IP:10.9.9.9,DNS:elsewhere\nextendedKeyUsage=serverAuth\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const TLS_ENV = () => ({
  OTEL_EXPORTER_OTLP_CERTIFICATE: file('ca.pem'),
  OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: file('client.pem'),
  OTEL_EXPORTER_OTLP_CLIENT_KEY: file('client.key'),
});

async function sendWakeups(port: number, n: number): Promise<void> {
  const s = await connect(port);
  await write(s, Buffer.concat(Array.from({ length: n }, (_, i) => encoder.encodeFrame({ ...SAMPLE_EVENTS.on_client_wakeup, clientId: `tls-${i}` }))));
  s.destroy();
}

test('https:// with OTEL_EXPORTER_OTLP_CERTIFICATE and a client certificate: logs and metrics reach a collector that requires mutual TLS', async () => {
  const receiver = new OtlpReceiver();
  const port = await receiver.start(0, { key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')), ca: readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true });
  const sidecar = await startTestSidecar({ logHooks: parseLogHooks('lifecycle'), logLevel: 'warn' }, otlpOtel(`https://127.0.0.1:${port}`, TLS_ENV()));
  try {
    await sendWakeups(sidecar.port, 5);
    await eventually(() => {
      assert.equal(receiver.logs.length, 5);
      assert.ok(receiver.total('mqtt.client.connected') === 5);
    }, 10_000);
    assert.ok(receiver.clientNames.length > 0 && receiver.clientNames.every((n) => n === 'vmq-otel-sidecar-test'), JSON.stringify(receiver.clientNames));
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});

test('without the client certificate, or without the collector\'s root, nothing is accepted and the failures are counted', async () => {
  const receiver = new OtlpReceiver();
  const port = await receiver.start(0, { key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')), ca: readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true });
  try {
    for (const env of [{ OTEL_EXPORTER_OTLP_CERTIFICATE: file('ca.pem') } as Record<string, string>, { OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: file('client.pem'), OTEL_EXPORTER_OTLP_CLIENT_KEY: file('client.key') }]) {
      const sidecar = await startTestSidecar({ logHooks: parseLogHooks('lifecycle'), logLevel: 'warn', shutdownTimeoutMs: 500 }, otlpOtel(`https://127.0.0.1:${port}`, { ...env, OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_TIMEOUT: '500' }));
      try {
        await sendWakeups(sidecar.port, 3);
        await eventually(() => assert.ok(sidecar.telemetry.logQueue!.failedExports > 0), 15_000);
        assert.equal(receiver.logs.length, 0);
      } finally {
        await sidecar.stop();
      }
    }
  } finally {
    await receiver.stop();
  }
});

test('gRPC over TLS (https:// endpoint) with a client certificate: log records arrive', async () => {
  const receiver = new OtlpGrpcReceiver();
  const port = await receiver.start(
    grpc.ServerCredentials.createSsl(readFileSync(file('ca.pem')), [{ private_key: readFileSync(file('server.key')), cert_chain: readFileSync(file('server.pem')) }], true),
  );
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('lifecycle'), logLevel: 'warn' },
    otlpOtel(`https://127.0.0.1:${port}`, { ...TLS_ENV(), OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_METRICS_EXPORTER: 'none' }),
  );
  try {
    await sendWakeups(sidecar.port, 4);
    await eventually(() => assert.equal(receiver.logs.length, 4), 10_000);
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});

// The endpoint is an IP address: grpc-js would send it as the TLS server name, which Node 26
// refuses (grpc-tls-credentials.ts). Leaving it out must not leave out the check of the
// collector's certificate against that address.
test('gRPC over TLS to a collector whose certificate names another address: nothing is accepted and the failures are counted', async () => {
  const receiver = new OtlpGrpcReceiver();
  const port = await receiver.start(
    grpc.ServerCredentials.createSsl(readFileSync(file('ca.pem')), [{ private_key: readFileSync(file('elsewhere.key')), cert_chain: readFileSync(file('elsewhere.pem')) }], true),
  );
  const sidecar = await startTestSidecar(
    { logHooks: parseLogHooks('lifecycle'), logLevel: 'warn', shutdownTimeoutMs: 500 },
    otlpOtel(`https://127.0.0.1:${port}`, { ...TLS_ENV(), OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_TIMEOUT: '500' }),
  );
  try {
    await sendWakeups(sidecar.port, 3);
    await eventually(() => assert.ok(sidecar.telemetry.logQueue!.failedExports > 0), 15_000);
    assert.equal(receiver.logs.length, 0);
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});

test('certificate variables are checked at start: an unreadable file, a file that is not PEM, a certificate without its key, a key of another certificate', () => {
  writeFileSync(file('notes.txt'), 'not a certificate\n');
  const problems = (env: Record<string, string>) => {
    try {
      parseOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318', ...env });
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
  };
  assert.match(problems({ OTEL_EXPORTER_OTLP_CERTIFICATE: file('missing.pem') }).join('\n'), /^OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read .*missing\.pem.*ENOENT/m);
  assert.match(problems({ OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: file('notes.txt') }).join('\n'), /^OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: .*is not PEM/m);
  assert.match(problems({ OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: file('client.pem') }).join('\n'), /one was given without the other/);
  assert.match(problems({ OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: file('client.pem'), OTEL_EXPORTER_OTLP_CLIENT_KEY: file('other.key') }).join('\n'), /do not go together/);
  assert.deepEqual(problems(TLS_ENV()), []);
});
