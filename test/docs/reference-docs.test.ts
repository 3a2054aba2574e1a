import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigurationDoc, renderTelemetryDoc } from '../../scripts/reference-docs.js';

const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));

test('docs/telemetry.md and docs/configuration.md match the catalogs in code (run `npm run docs`)', () => {
  assert.equal(readFileSync(`${docs}telemetry.md`, 'utf8'), renderTelemetryDoc());
  assert.equal(readFileSync(`${docs}configuration.md`, 'utf8'), renderConfigurationDoc());
});

test('dashboards/*.json match scripts/dashboards.ts (run `npm run docs`)', async () => {
  const { DASHBOARDS, renderDashboard } = await import('../../scripts/dashboards.js');
  for (const d of DASHBOARDS) {
    assert.equal(readFileSync(fileURLToPath(new URL(`../../../dashboards/${d.uid}.json`, import.meta.url)), 'utf8'), renderDashboard(d), d.uid);
  }
});
