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

test('docs/telemetry.md gives every metric, attribute and log attribute the convention it follows or why none applies', () => {
  const doc = renderTelemetryDoc();
  const tables = doc.split('\n').filter((l) => /^\| `/.test(l) && !/^\| `vernemq\.on_/.test(l));
  // Metric rows (7 cells), metric attribute rows (5), log attribute rows (3): the last cell is the convention.
  const withConvention = tables.filter((l) => /^\| `[^`]+` \| (`|[a-z])/.test(l));
  assert.ok(withConvention.length > 80, `${withConvention.length} rows`);
  for (const row of withConvention) {
    const cells = row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    if (cells.length < 3) continue;
    assert.ok(cells.at(-1)!.length > 10, `no convention: ${row.slice(0, 120)}`);
  }
});
