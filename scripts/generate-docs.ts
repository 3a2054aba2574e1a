/** npm run docs: rewrites the generated reference docs, dashboards and doc tables from the code. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigurationDoc, renderTelemetryDoc } from './reference-docs.js';
import { DASHBOARDS, renderDashboard } from './dashboards.js';
import { budgetTableMarkdown } from './cardinality-budget.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
writeFileSync(`${root}docs/telemetry.md`, renderTelemetryDoc());
writeFileSync(`${root}docs/configuration.md`, renderConfigurationDoc());
for (const d of DASHBOARDS) writeFileSync(`${root}dashboards/${d.uid}.json`, renderDashboard(d));

/** Replaces what stands between `<!-- NAME:start -->` and `<!-- NAME:end -->` in a hand-written doc. */
function replaceBetweenMarkers(path: string, name: string, content: string): void {
  const doc = readFileSync(path, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path}: markers ${start} ... ${end} not found`);
  writeFileSync(path, `${doc.slice(0, a + start.length)}\n${content}\n${doc.slice(b)}`);
}
replaceBetweenMarkers(`${root}docs/scaling.md`, 'budget', budgetTableMarkdown());
console.log(`wrote docs/telemetry.md, docs/configuration.md, ${DASHBOARDS.length} dashboards and the budget table of docs/scaling.md`);
