/**
 * What the components of a sidecar share, handed to each by one host object (after the
 * Collector's component.Host): the metric store, the logger, the ingest counters, the one
 * attribute-folding service (mountpoint limits, client groups, interned values), and where log
 * records and spans go. A component takes the host, or the part of it it uses, in its
 * constructor, and owns nothing of another component's. Tests build one component against a
 * fake host (test/helpers/fake-host.ts). Types only: the running sidecar's host is made in
 * sidecar-host.ts, above the components, so that no component's import leads back to the
 * settings they are parsed from.
 */
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { MetricStore } from './metrics/metric-store.js';
import type { SidecarLogger } from './logging/sidecar-logger.js';
import type { IngestStats } from './receiver/ingest-stats.js';
import type { AttributeFolding } from './metrics/attribute-folding.js';
import type { LogRecordOutput, WireLogOutput } from './sinks/log-record-builder.js';
import type { SpanOutput } from './sinks/span-sink.js';

/** Where the log and span outputs write (the telemetry pipeline's queues); null when that signal is off. */
export interface SignalOutputs {
  readonly logOutput: LogRecordOutput | WireLogOutput | null;
  readonly spanOutput: SpanOutput | null;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

export interface Host {
  readonly store: MetricStore;
  readonly logger: SidecarLogger;
  /** The receivers' counters, one object per transport (ingest-stats.ts). */
  readonly stats: IngestStats;
  /** One for every output: one event is one sighting of a value, whichever outputs read it. */
  readonly attributes: AttributeFolding;
  readonly signals: SignalOutputs;
}
