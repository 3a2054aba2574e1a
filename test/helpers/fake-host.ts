/**
 * A host for one component at a time (as the Collector's componenttest.NewNopHost): a fresh
 * metric store, a logger whose lines the test reads, ingest counters, the attribute-folding
 * service with the given limits, and signal outputs that keep what they are given. `feed` hands
 * an event over as the sidecar's fan-out does: first to the attribute folding (the event's one
 * sighting), then to the components.
 */
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Host } from '../../src/host.js';
import type { EventSink } from '../../src/sinks/event-sink.js';
import type { SidecarEvent } from '../../src/events/event-types.js';
import type { LogRecordOutput, WireLogOutput } from '../../src/sinks/log-record-builder.js';
import type { SpanOutput } from '../../src/sinks/span-sink.js';
import { MetricStore, type HistogramFamily, type SumFamily } from '../../src/metrics/metric-store.js';
import type { MetricDef } from '../../src/metrics/metric-catalog.js';
import { SidecarLogger, type LogLevel } from '../../src/logging/sidecar-logger.js';
import { IngestStats } from '../../src/receiver/ingest-stats.js';
import { AttributeFolding } from '../../src/metrics/attribute-folding.js';
import { parseClientGroups } from '../../src/metrics/client-grouper.js';

export interface FakeHostOptions {
  /** --max-mountpoints (default 10). */
  maxMountpoints?: number;
  /** --client-groups as written on the command line (default none). */
  clientGroups?: string;
  logLevel?: LogLevel;
  /** Where log records go (default: kept in `records`). */
  logOutput?: LogRecordOutput | WireLogOutput | null;
  /** Where spans go (default: kept in `spans`). */
  spanOutput?: SpanOutput | null;
  /** The resource and scope of the signal outputs (default: service.name fake-host). */
  resource?: Resource;
  scope?: InstrumentationScope;
  /** The transports the ingest counters have (default tcp). */
  transports?: ConstructorParameters<typeof IngestStats>[0];
}

export interface FakeHost extends Host {
  /** The logger's lines, parsed. */
  readonly logLines: Record<string, unknown>[];
  /** Log records and spans the signal outputs were given (with the default outputs). */
  readonly records: Parameters<LogRecordOutput>[0][];
  readonly spans: Parameters<SpanOutput>[0][];
  /** `component` with its metric families registered in this host's store, as the assembly does before start. */
  add<T extends Registers>(component: T): T;
  /** Hands `e` to the attribute folding, then to each sink, as the sidecar's fan-out does. */
  feed(sinks: EventSink | readonly EventSink[], e: SidecarEvent, arrivalMs?: number): void;
  /** A family's series as plain objects: the attributes and the value (a histogram's count). */
  series(def: MetricDef): Record<string, unknown>[];
}

type Registers = { registerMetrics?(store: MetricStore): void };

/** `component` with its metric families registered in `store` (the component contract: before start and the first event). */
export function registered<T extends Registers>(component: T, store: MetricStore): T {
  component.registerMetrics?.(store);
  return component;
}

export function fakeHost(options: FakeHostOptions = {}): FakeHost {
  const logLines: Record<string, unknown>[] = [];
  const records: Parameters<LogRecordOutput>[0][] = [];
  const spans: Parameters<SpanOutput>[0][] = [];
  const store = new MetricStore();
  const attributes = new AttributeFolding({
    maxMountpoints: options.maxMountpoints ?? 10,
    clientGroups: options.clientGroups ? parseClientGroups(options.clientGroups) : [],
  });
  attributes.registerMetrics(store);
  return {
    store,
    logger: new SidecarLogger(options.logLevel ?? 'debug', (line) => logLines.push(JSON.parse(line) as Record<string, unknown>)),
    stats: new IngestStats(options.transports),
    attributes,
    signals: {
      logOutput: options.logOutput === undefined ? (r) => records.push(r) : options.logOutput,
      spanOutput: options.spanOutput === undefined ? (s) => spans.push(s) : options.spanOutput,
      resource: options.resource ?? resourceFromAttributes({ 'service.name': 'fake-host' }),
      scope: options.scope ?? { name: 'fake-host', version: '0' },
    },
    logLines,
    records,
    spans,
    add: (component) => registered(component, store),
    feed(sinks, e, arrivalMs = Date.now()) {
      attributes.consume(e);
      for (const s of Array.isArray(sinks) ? sinks : [sinks as EventSink]) {
        if (s.hooks === undefined || s.hooks.includes(e.hook)) s.consume(e, arrivalMs);
      }
    },
    series(def) {
      const f = store.family(def.name) as SumFamily | HistogramFamily | undefined;
      return (f?.all() ?? []).map((s) => ({ ...s.attributes, value: 'value' in s ? s.value : s.count }));
    },
  };
}
