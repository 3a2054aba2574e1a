/** npm run docs: rewrites docs/telemetry.md and docs/configuration.md from the catalogs. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigurationDoc, renderTelemetryDoc } from './reference-docs.js';

const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
writeFileSync(`${docs}telemetry.md`, renderTelemetryDoc());
writeFileSync(`${docs}configuration.md`, renderConfigurationDoc());
console.log(`wrote ${docs}telemetry.md and ${docs}configuration.md`);
