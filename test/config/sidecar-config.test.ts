import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseOptions } from '../../src/config/option-parser.js';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-config.js';

test('defaults: the plugin\'s default endpoint, 16 MiB frames', () => {
  const { settings } = parseOptions(SIDECAR_OPTIONS, [], {});
  assert.deepEqual(settings.listen, { host: '127.0.0.1', port: 8890 });
  assert.equal(settings.maxFrameBytes, 16 * 1024 * 1024);
  assert.equal(settings.printEvents, false);
  assert.equal(settings.logLevel, 'info');
});

test('flags win over environment variables, which win over defaults', () => {
  const env = { VMQ_SIDECAR_LISTEN: '0.0.0.0:9000', VMQ_SIDECAR_LOG_LEVEL: 'debug' };
  const { settings } = parseOptions(SIDECAR_OPTIONS, ['--listen', '[::1]:7000', '--print-events', '--max-frame-bytes=512KiB'], env);
  assert.deepEqual(settings.listen, { host: '::1', port: 7000 });
  assert.equal(settings.logLevel, 'debug');
  assert.equal(settings.printEvents, true);
  assert.equal(settings.maxFrameBytes, 512 * 1024);
});

test('every invalid setting is reported at once, each naming the setting and what it accepts', () => {
  try {
    parseOptions(SIDECAR_OPTIONS, ['--listen', 'nowhere', '--bogus', '1'], { VMQ_SIDECAR_LOG_LEVEL: 'loud', VMQ_SIDECAR_MAX_FRAME_BYTES: '1TiB' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.equal(err.problems.length, 4, text);
    assert.match(text, /unknown option --bogus/);
    assert.match(text, /--listen: "nowhere" is invalid: not HOST:PORT; accepted: HOST:PORT/);
    assert.match(text, /VMQ_SIDECAR_LOG_LEVEL: "loud" is invalid.*accepted: debug, info, warn, error, silent/);
    assert.match(text, /VMQ_SIDECAR_MAX_FRAME_BYTES: "1TiB" is invalid: not a size/);
  }
});
