/** npm run docs: rewrites the generated reference docs and dashboards from the code. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigurationDoc, renderTelemetryDoc } from './reference-docs.js';
import { DASHBOARDS, renderDashboard } from './dashboards.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
writeFileSync(`${root}docs/telemetry.md`, renderTelemetryDoc());
writeFileSync(`${root}docs/configuration.md`, renderConfigurationDoc());
for (const d of DASHBOARDS) writeFileSync(`${root}dashboards/${d.uid}.json`, renderDashboard(d));
console.log(`wrote docs/telemetry.md, docs/configuration.md and ${DASHBOARDS.length} dashboards`);
