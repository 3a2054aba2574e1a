import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorTypeCounts, MAX_ERROR_TYPES, exportErrorType } from '../../src/telemetry/export-error-type.js';

const withCode = (message: string, code: unknown, name = 'Error') => Object.assign(new Error(message), { code, name });

test('error.type of a failed export: timeout, HTTP status, gRPC status name, socket code, exception name', () => {
  assert.equal(exportErrorType(withCode('Request timed out', undefined)), 'timeout');
  assert.equal(exportErrorType(withCode('x', undefined, 'TimeoutError')), 'timeout');
  assert.equal(exportErrorType(withCode('Service Unavailable', 503, 'OTLPExporterError')), '503');
  assert.equal(exportErrorType(withCode('14 UNAVAILABLE: No connection established', 14)), 'UNAVAILABLE');
  assert.equal(exportErrorType(withCode('connect ECONNREFUSED 127.0.0.1:4318', 'ECONNREFUSED')), 'ECONNREFUSED');
  assert.equal(exportErrorType(Object.assign(new Error('fetch failed'), { cause: { code: 'ENOTFOUND' } })), 'ENOTFOUND');
  assert.equal(exportErrorType(new TypeError('bad')), 'TypeError');
  assert.equal(exportErrorType(undefined), '_OTHER');
});

test('at most MAX_ERROR_TYPES classes are counted apart, the rest as _OTHER', () => {
  const c = new ErrorTypeCounts();
  for (let i = 0; i < 100; i++) c.add(withCode('x', 400 + i));
  assert.equal(c.counts.size, MAX_ERROR_TYPES + 1);
  assert.equal(c.counts.get('_OTHER'), 100 - MAX_ERROR_TYPES);
});
