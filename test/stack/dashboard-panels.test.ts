/**
 * What an SRE reads at a glance: every panel says what it counts (unit) and what it shows
 * (description), no two panels share a title, and the service is chosen, not hard-coded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS } from '../../scripts/dashboards.js';

interface Panel {
  type: string;
  title: string;
  description?: string;
  fieldConfig?: { defaults: { unit?: string } };
  targets?: { expr?: string }[];
}

const rendered = DASHBOARDS.map((d) => ({
  def: d,
  json: JSON.parse(readFileSync(fileURLToPath(new URL(`../../../dashboards/${d.uid}.json`, import.meta.url)), 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string }[] };
  },
}));

for (const { def, json } of rendered) {
  const panels = json.panels.filter((p) => p.type !== 'row');

  test(`"${def.title}": every panel has a unit that names what is counted`, () => {
    const generic = new Set(['reqps', 'ops', 'rps', 'wps', 'cps', 'short', 'none']);
    for (const p of panels.filter((x) => x.type === 'timeseries' || x.type === 'stat')) {
      const unit = p.fieldConfig?.defaults.unit;
      assert.ok(unit, `${p.title}: no unit`);
      assert.ok(!generic.has(unit), `${p.title}: unit ${unit} does not say what is counted`);
      assert.ok(/^count:[a-z/]+$/.test(unit) || ['s', 'bytes', 'Bps', 'percentunit'].includes(unit), `${p.title}: unit ${unit}`);
      // A share is a ratio of two like quantities, and its title says what it is a share of.
      if (unit === 'percentunit') {
        assert.match(p.title ?? '', /share/i, `${p.title}: percentunit on a panel that is not a share`);
        for (const t of p.targets ?? []) assert.match(t.expr ?? '', / \/ /, `${p.title}: percentunit on a query that is not a ratio`);
        continue;
      }
      // A rate is shown per second, a level without "/s".
      const rates = (p.targets ?? []).every((t) => /\brate\(/.test(t.expr ?? ''));
      const levels = (p.targets ?? []).every((t) => !/\b(rate|histogram_quantile)\(/.test(t.expr ?? ''));
      if (unit.startsWith('count:') && rates) assert.ok(unit.endsWith('/s'), `${p.title}: a rate in ${unit}`);
      if (unit.startsWith('count:') && levels) assert.ok(!unit.endsWith('/s'), `${p.title}: a level in ${unit}`);
      assert.ok(rates || levels || unit === 's' || unit === 'bytes', `${p.title}: rates and levels mixed on one axis`);
    }
  });

  test(`"${def.title}": every panel has a description`, () => {
    for (const p of panels) assert.ok(p.description && p.description.length >= 20, `${p.title}: no description`);
  });

  test(`"${def.title}": panel titles are distinct`, () => {
    const titles = json.panels.map((p) => p.title);
    assert.deepEqual(titles.filter((t, i) => titles.indexOf(t) !== i), []);
  });

  test(`"${def.title}": the service name is a variable, in PromQL and LogQL alike`, () => {
    assert.ok(json.templating.list.some((v) => v.name === 'service'));
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        assert.doesNotMatch(t.expr, /service_name="|job="/, `${p.title}: hard-coded service`);
        if (p.type === 'logs') assert.match(t.expr, /service_name=~"\$service"/, p.title);
        else assert.match(t.expr, /job=~"\$service"/, `${p.title}: ${t.expr}`);
      }
    }
  });
}
