/**
 * Where the log sink writes a record, field by field: into a ReadableLogRecord object (the
 * console, http/json and grpc exporters take those), or straight into OTLP protobuf bytes (the
 * http/protobuf exporter: no record object at all, telemetry/otlp/log-record-encoder.ts).
 */
import type { Attributes, SeverityNumber, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { HrTime } from '@opentelemetry/api';
import type { LogRecordEncoder } from '../telemetry/otlp/log-record-encoder.js';
import type { TraceContext } from './trace-context.js';

export type LogAttributeValue = string | number | boolean | string[] | number[];

export interface LogRecordBuilder {
  begin(timeSec: number, timeNanos: number, observedMs: number, eventName: string): void;
  attribute(key: string, value: LogAttributeValue): void;
  /** Completes the record and hands it on. */
  end(severityNumber: SeverityNumber, severityText: string, body: string, droppedAttributes: number, trace: TraceContext | null): void;
}

/** Record objects go to a function (the export queue's add). */
export type LogRecordOutput = (record: ReadableLogRecord) => void;

/**
 * Encoded records go to the export queue as handles into the encoder, which holds their bytes
 * until the queue releases them (telemetry/otlp/log-record-encoder.ts).
 */
export interface WireLogOutput {
  readonly encoding: 'otlp-protobuf';
  readonly encoder: LogRecordEncoder;
  add(record: number): void;
}

/** One log record object; a class so that every record has the same object shape. */
class EventLogRecord implements ReadableLogRecord {
  constructor(
    readonly hrTime: HrTime,
    readonly hrTimeObserved: HrTime,
    readonly spanContext: SpanContext | undefined,
    readonly severityText: string,
    readonly severityNumber: SeverityNumber,
    readonly body: string,
    readonly eventName: string,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
    readonly attributes: Attributes,
    readonly droppedAttributesCount: number,
  ) {}
}

export class ObjectRecordBuilder implements LogRecordBuilder {
  private attrs: Attributes = {};
  private time: HrTime = [0, 0];
  private observed: HrTime = [0, 0];
  private eventName = '';

  constructor(
    private readonly output: LogRecordOutput,
    private readonly resource: Resource,
    private readonly scope: InstrumentationScope,
  ) {}

  begin(timeSec: number, timeNanos: number, observedMs: number, eventName: string): void {
    this.attrs = {};
    this.time = [timeSec, timeNanos];
    this.observed = [Math.floor(observedMs / 1000), (observedMs % 1000) * 1e6];
    this.eventName = eventName;
  }

  attribute(key: string, value: LogAttributeValue): void {
    this.attrs[key] = value;
  }

  end(severityNumber: SeverityNumber, severityText: string, body: string, droppedAttributes: number, trace: TraceContext | null): void {
    const spanContext: SpanContext | undefined =
      trace === null ? undefined : { traceId: trace.traceId, spanId: trace.spanId, traceFlags: trace.traceFlags, isRemote: true, traceState: undefined };
    this.output(
      new EventLogRecord(this.time, this.observed, spanContext, severityText, severityNumber, body, this.eventName, this.resource, this.scope, this.attrs, droppedAttributes),
    );
  }
}

export class WireRecordBuilder implements LogRecordBuilder {
  private readonly encoder: LogRecordEncoder;

  constructor(private readonly output: WireLogOutput) {
    this.encoder = output.encoder;
  }

  begin(timeSec: number, timeNanos: number, observedMs: number, eventName: string): void {
    this.encoder.begin(timeSec, timeNanos, observedMs, eventName);
  }

  attribute(key: string, value: LogAttributeValue): void {
    if (typeof value === 'string') this.encoder.string(key, value);
    else this.encoder.value(key, value);
  }

  end(severityNumber: SeverityNumber, severityText: string, body: string, droppedAttributes: number, trace: TraceContext | null): void {
    const enc = this.encoder;
    enc.severity(severityNumber, severityText);
    enc.body(body);
    if (trace !== null) enc.trace(trace.traceId, trace.spanId, trace.traceFlags);
    this.output.add(enc.end(droppedAttributes));
  }
}
