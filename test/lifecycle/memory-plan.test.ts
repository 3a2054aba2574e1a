/**
 * The memory plan against the container's limit: the defaults fit the shipped manifests' 512 Mi,
 * and a sidecar whose bounds can exceed its cgroup limit says so at start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { cgroupMemoryLimit, memoryPlan } from '../../src/lifecycle/memory-plan.js';
import { testSettings, startTestSidecar } from '../helpers/sidecar-fixture.js';
import { parseOptions } from '../../src/config/option-parser.js';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-config.js';

const WARNING = "configured bounds can exceed the container's memory limit: lower them, or raise the limit (docs/operations.md, memory plan)";

test("the default bounds fit the 512Mi limit of each shipped manifest's sidecar container", () => {
  const settings = testSettings();
  const MEMORY_VARIABLES = ['VMQ_SIDECAR_GAUGE_MODE', 'VMQ_SIDECAR_MAX_TRACKED_CLIENTS', 'VMQ_SIDECAR_MAX_BUFFERED_BYTES', 'VMQ_SIDECAR_LOG_QUEUE_MAX_BYTES'];
  let checked = 0;
  for (const file of ['deploy/kubernetes/vernemq-with-sidecar.yaml', 'deploy/kubernetes/central-grpc-sidecar.yaml']) {
    const text = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
    for (const doc of text.split(/^---$/m).map((d) => parse(d) as Record<string, unknown> | null)) {
      const containers = ((doc?.spec as { template?: { spec?: { containers?: unknown[] } } } | undefined)?.template?.spec?.containers ?? []) as { name: string; image?: string; resources?: { limits?: { memory?: string } }; env?: { name: string; value?: string }[] }[];
      for (const c of containers.filter((x) => String(x.image).includes('vmq-otel-sidecar'))) {
        const limit = c.resources?.limits?.memory;
        assert.equal(limit, '512Mi', `${file} ${c.name}`);
        // The manifest's own values of the settings the plan reads, over the defaults.
        const env = Object.fromEntries((c.env ?? []).filter((e) => MEMORY_VARIABLES.includes(e.name) && e.value !== undefined).map((e) => [e.name, e.value!]));
        const plan = memoryPlan({ ...settings, ...parseOptions(SIDECAR_OPTIONS, [], env).settings }, true);
        assert.ok(plan.total <= 512 * 1024 * 1024, `${file} ${c.name}: ${plan.total} B planned`);
        checked++;
      }
    }
  }
  assert.equal(checked, 2, 'one sidecar container per manifest');
});

test('the cgroup limit: v2 number or "max", v1 number or its near-2^63 "unlimited", unreadable: none', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vmq-cgroup-'));
  try {
    const f = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    assert.equal(cgroupMemoryLimit([f('v2', '536870912\n')]), 536870912);
    assert.equal(cgroupMemoryLimit([f('v2max', 'max\n')]), null);
    assert.equal(cgroupMemoryLimit([path.join(dir, 'missing'), f('v1', '268435456\n')]), 268435456);
    assert.equal(cgroupMemoryLimit([f('v1none', '9223372036854771712\n')]), null);
    assert.equal(cgroupMemoryLimit([path.join(dir, 'missing')]), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a container limit below the configured bounds: one WARN line at start with each part; within it: none', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vmq-cgroup-'));
  try {
    const small = path.join(dir, 'small');
    writeFileSync(small, String(256 * 1024 * 1024));
    const a = await startTestSidecar({ logLevel: 'info' }, undefined, { cgroupMemoryFiles: [small] });
    await a.stop();
    const lines = a.logLines.filter((l) => l.msg === WARNING);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.limitMB, 268);
    assert.equal(lines[0]!.trackedClientsMB, 225);
    assert.equal(lines[0]!.partialFramesMB, 67);

    const big = path.join(dir, 'big');
    writeFileSync(big, String(512 * 1024 * 1024));
    const b = await startTestSidecar({ logLevel: 'info' }, undefined, { cgroupMemoryFiles: [big] });
    await b.stop();
    assert.equal(b.logLines.filter((l) => l.msg === WARNING).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
