/**
 * The memory the configured bounds allow, against the container's memory limit: a sidecar whose
 * bounds can exceed its cgroup limit would be OOM-killed when a burst reaches them, so the start
 * says so (as the Collector's memory_limiter is configured against the same limit). The figures
 * are measured (npm run bench:tracked-clients, bench:ingest), docs/operations.md shows the
 * arithmetic for the shipped manifests.
 */
import { readFileSync } from 'node:fs';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import type { SidecarSettings } from '../config/sidecar-config.js';

/** RSS of a started sidecar with nothing tracked (measured: 67 MB). */
export const RESTING_BYTES = 70e6;
/** What ingest at full speed adds, buffers and collector headroom (measured peak 89-109 MB on the metrics path). */
export const WORKING_BYTES = 40e6;
/** RSS per tracked client (measured: 266-269 B with 15-character client ids; 36-character ones add ~25 B of heap). */
export const BYTES_PER_TRACKED_CLIENT = 300;

export interface MemoryPlan {
  /** Bytes per part; their sum is the most the configured bounds allow. */
  parts: { resting: number; working: number; trackedClients: number; partialFrames: number; logQueue: number };
  total: number;
}

export function memoryPlan(settings: Pick<SidecarSettings, 'maxTrackedClients' | 'maxBufferedBytes' | 'logQueueMaxBytes' | 'gaugeMode'>, logsExported: boolean): MemoryPlan {
  const parts = {
    resting: RESTING_BYTES,
    working: WORKING_BYTES,
    // Deltas mode keeps no per-client state.
    trackedClients: settings.gaugeMode === 'deltas' ? 0 : settings.maxTrackedClients * BYTES_PER_TRACKED_CLIENT,
    partialFrames: settings.maxBufferedBytes,
    logQueue: logsExported ? settings.logQueueMaxBytes : 0,
  };
  return { parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/** cgroup v2, then v1; the v1 file says "no limit" with a number near 2^63. */
export const CGROUP_MEMORY_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** The container's memory limit in bytes, or null when there is none or it cannot be read. */
export function cgroupMemoryLimit(files: readonly string[] = CGROUP_MEMORY_LIMIT_FILES): number | null {
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8').trim();
    } catch {
      continue;
    }
    if (text === 'max') return null;
    const n = Number(text);
    // v1's "unlimited" is 2^63 rounded down to a page; nothing real is near it.
    if (Number.isFinite(n) && n > 0 && n < 2 ** 60) return n;
    return null;
  }
  return null;
}

const mb = (n: number) => Math.round(n / 1e6);

/**
 * Warns when the configured bounds can exceed the container's limit; returns the plan and limit
 * for /status.
 */
export function checkMemoryPlan(logger: SidecarLogger, plan: MemoryPlan, limit: number | null): { limitBytes: number | null; planBytes: number } {
  if (limit !== null && plan.total > limit) {
    const p = plan.parts;
    logger.warn("configured bounds can exceed the container's memory limit: lower them, or raise the limit (docs/operations.md, memory plan)", {
      limitMB: mb(limit),
      boundsMB: mb(plan.total),
      restingMB: mb(p.resting),
      workingMB: mb(p.working),
      trackedClientsMB: mb(p.trackedClients),
      partialFramesMB: mb(p.partialFrames),
      logQueueMB: mb(p.logQueue),
      settings: '--max-tracked-clients x 300 B, --max-buffered-bytes, --log-queue-max-bytes',
    });
  }
  return { limitBytes: limit, planBytes: plan.total };
}
