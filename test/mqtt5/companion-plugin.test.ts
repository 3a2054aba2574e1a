/**
 * The companion plugin (plugin/vmq_events_sidecar_m5/): compiled with erlc from this repository
 * alone, its EUnit tests run, then its hooks are driven as VerneMQ's MQTT 5 session calls them
 * (with stand-ins for shackle and vmq_events_sidecar_metrics only) and the bytes its pool client
 * encodes go to a running sidecar over TCP: the MQTT 5 events must be counted like MQTT 3.1.1
 * ones, with network.protocol.version=5, and the PUBLISH traceparent user property must put its
 * trace id on the records.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { otlpOtel, startTestSidecar } from '../helpers/sidecar-fixture.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { eventually } from '../helpers/eventually.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pluginDir = path.join(root, 'plugin', 'vmq_events_sidecar_m5');
let ebin = '';

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ebin || pluginDir, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

before(() => {
  ebin = mkdtempSync(path.join(tmpdir(), 'vmq-events-sidecar-m5-'));
  // The shipped build script (erlc -Werror), as the Dockerfile stage and the init container run it.
  const build = spawnSync('sh', [path.join(pluginDir, 'build.sh'), ebin], { encoding: 'utf8' });
  assert.equal(build.status, 0, `build.sh: ${build.stdout}${build.stderr}`);
  const tests = readdirSync(path.join(pluginDir, 'test')).filter((f) => f.endsWith('.erl')).map((f) => path.join(pluginDir, 'test', f));
  const t = spawnSync('erlc', ['-Werror', '-I', path.join(pluginDir, 'include'), '-o', ebin, ...tests], { encoding: 'utf8' });
  assert.equal(t.status, 0, `erlc test/: ${t.stdout}${t.stderr}`);
});

after(() => {
  if (ebin) rmSync(ebin, { recursive: true, force: true });
});

test('the plugin compiles with erlc alone into an ebin/ VerneMQ can load', () => {
  const files = readdirSync(ebin);
  for (const m of ['vmq_events_sidecar_m5_app', 'vmq_events_sidecar_m5_sup', 'vmq_events_sidecar_m5_plugin', 'vmq_events_sidecar_m5_client', 'vmq_events_sidecar_m5_format']) {
    assert.ok(files.includes(`${m}.beam`), m);
  }
  assert.ok(files.includes('vmq_events_sidecar_m5.app'));
  // The app file parses and lists the hooks VerneMQ registers (name, arity).
  const r = run('erl', ['-noshell', '-eval', '{ok, [{application, _, P}]} = file:consult("vmq_events_sidecar_m5.app"), {env, E} = lists:keyfind(env, 1, P), io:format("~w", [[{H, A} || {_, H, A, _} <- proplists:get_value(vmq_plugin_hooks, E)]]), halt().']);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.out.trim(), '[{on_register_m5,4},{on_publish_m5,6},{on_publish_m5,7},{on_subscribe_m5,4},{on_unsubscribe_m5,4},{on_deliver_m5,7},{on_message_drop,3}]');
});

test('EUnit: the plugin\'s own tests pass', () => {
  const r = run('erl', ['-noshell', '-pa', ebin, '-eval', 'case eunit:test(vmq_events_sidecar_m5_tests, [verbose]) of ok -> halt(0); _ -> halt(1) end.']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /All \d+ tests passed/);
});

test('what the compiled plugin sends is decoded by the sidecar: MQTT 5 counts, protocol version, trace context', async () => {
  const receiver = new OtlpReceiver();
  const endpoint = `http://127.0.0.1:${await receiver.start()}`;
  const sidecar = await startTestSidecar({ logLevel: 'info', logTracedMessages: true }, otlpOtel(endpoint));
  try {
    const r = run('erl', ['-noshell', '-pa', ebin, '-run', 'vmq_events_sidecar_m5_drive', 'main', String(sidecar.port)]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /sent 13 events/);
    await eventually(() => assert.equal(sidecar.capture.events.length, 13));
    assert.equal(sidecar.stats.rejectedTotal(), 0);
    assert.ok(sidecar.capture.events.every((e) => e.protocolVersion === '5'));

    const v5 = { 'network.protocol.version': '5' };
    await eventually(() => assert.equal(receiver.total('mqtt.client.registrations', v5), 2));
    const published = (qos: number) => receiver.total('mqtt.message.published', { ...v5, 'mqtt.qos': qos });
    // QoS 0: the message and the will message.
    assert.deepEqual([published(0), published(1), published(2)], [2, 1, 1]);
    assert.equal(receiver.total('mqtt.message.published', { ...v5, 'mqtt.retain': true }), 1);
    assert.equal(receiver.total('mqtt.message.delivered', { ...v5, 'mqtt.subscription.qos': 1 }), 3);
    assert.equal(receiver.total('mqtt.subscriptions', { ...v5, 'mqtt.qos': 1 }), 1);
    assert.equal(receiver.total('mqtt.subscriptions', { ...v5, 'error.type': 'refused' }), 1);
    assert.equal(receiver.total('mqtt.unsubscriptions', v5), 1);
    assert.equal(receiver.total('mqtt.message.dropped', { 'error.type': 'no_matching_subscribers' }), 1);
    assert.equal(receiver.total('mqtt.message.dropped', { 'error.type': 'max_packet_size_exceeded' }), 1);
    assert.equal(receiver.total('mqtt.client.registrations', { 'network.protocol.version': '3.1.1' }), 0);

    // --log-traced-messages: the QoS 1 publish and its delivery carried traceparent as an MQTT 5
    // user property, not in the payload: their records carry its trace.
    await eventually(() => assert.equal(receiver.logs.filter((l) => l.eventName === 'vernemq.on_publish' || l.eventName === 'vernemq.on_deliver').length, 2));
    for (const l of receiver.logs.filter((x) => x.eventName === 'vernemq.on_publish' || x.eventName === 'vernemq.on_deliver')) {
      assert.equal(l.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', l.eventName);
      assert.equal(l.spanId, '00f067aa0ba902b7');
      assert.equal(l.attributes['network.protocol.version'], '5');
      assert.equal(l.attributes['mqtt.user_property.traceparent'], '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
      // Not on the companion's allowlist: never left the broker.
      assert.equal(l.attributes['mqtt.user_property.auth_token'], undefined);
    }
    const subscribe = receiver.logs.find((l) => l.eventName === 'vernemq.on_subscribe');
    assert.deepEqual(subscribe?.attributes['mqtt.subscription.reason_codes'], [1, 0x87]);
    assert.deepEqual(subscribe?.attributes['mqtt.subscription.topics'], ['sensors/+/temp', 'secret']);
    const register = receiver.logs.find((l) => l.eventName === 'vernemq.on_register' && l.attributes['messaging.client.id'] === 'm5-pub');
    assert.equal(register?.attributes['client.address'], '10.0.0.5');
    assert.equal(register?.attributes['user.name'], 'alice');

    const admin = `http://127.0.0.1:${sidecar.adminAddress!.port}`;
    const status = (await (await fetch(`${admin}/status`)).json()) as { mqtt5Companion: { seen: boolean; events: Record<string, number> } };
    assert.equal(status.mqtt5Companion.seen, true);
    assert.deepEqual(status.mqtt5Companion.events, { on_register: 2, on_publish: 4, on_subscribe: 1, on_unsubscribe: 1, on_deliver: 3, on_message_drop: 2 });
    assert.ok(sidecar.logLines.some((l) => String(l.msg).includes('companion plugin (vmq_events_sidecar_m5): not seen yet')));
    await eventually(() => assert.ok(sidecar.logLines.some((l) => String(l.msg).includes('vmq_events_sidecar_m5) seen'))));
  } finally {
    await sidecar.stop();
    await receiver.stop();
  }
});
