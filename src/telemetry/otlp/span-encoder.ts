/**
 * ExportTraceServiceRequest from the span sink's spans (traces/broker-span.ts): OTLP protobuf
 * (for http/protobuf and gRPC) and OTLP/JSON (http/json), written by us like the log records
 * (log-record-encoder.ts, with the same common pieces: common-encoding.ts) instead of through
 * the SDK's Tracer, span objects and serializers. docs/architecture.md has the measurement that decided it
 * (bench/span-export-bench.ts).
 *
 * Field numbers: opentelemetry-proto trace/v1/trace.proto. The tests decode the output with them
 * (test/fixtures/otlp/otlp-subset.proto).
 */
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { exportRequest, writeAttributes } from './common-encoding.js';
import { I32, I64, VARINT, Writer } from '../../protowire/writer.js';
import type { BrokerSpan, SpanAttributeValue } from '../../traces/broker-span.js';
import { isOtlpTimeParts } from '../otlp-time.js';

function writeSpan(w: Writer, s: BrokerSpan): void {
  w.hex(1, s.traceId);
  w.hex(2, s.spanId);
  if (s.traceState !== '') w.stringField(3, s.traceState);
  w.hex(4, s.parentSpanId);
  w.stringField(5, s.name);
  w.tag(6, VARINT);
  w.varint(s.kind);
  w.tag(7, I64);
  w.time(s.startSec, s.startNanos);
  w.tag(8, I64);
  w.time(s.endSec, s.endNanos);
  writeAttributes(w, 9, s.attributes);
  if (s.events !== null) {
    for (const e of s.events) {
      w.nested(11, () => {
        w.tag(1, I64);
        w.time(e.timeSec, e.timeNanos);
        w.stringField(2, e.name);
        writeAttributes(w, 3, e.attributes);
      });
    }
  }
  w.tag(16, I32);
  w.fixed32(s.flags);
}

/** One ResourceSpans with one ScopeSpans holding every span. */
export function serializeSpansProtobuf(spans: readonly BrokerSpan[], resource: Resource, scope: InstrumentationScope): Uint8Array {
  const body = new Writer(spans.length * 400 + 64);
  for (const s of spans) body.nested(2, () => writeSpan(body, s));
  return exportRequest(resource, scope, body.pos, (w) => w.raw(body.buf.subarray(0, body.pos)));
}

// ---- OTLP/JSON: hex ids, 64-bit integers as decimal strings, enums as numbers ----

type JsonValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };

function jsonValue(v: SpanAttributeValue): JsonValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

function jsonAttributes(attrs: Record<string, unknown>): { key: string; value: JsonValue }[] {
  const out: { key: string; value: JsonValue }[] = [];
  for (const key in attrs) {
    const v = attrs[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push({ key, value: jsonValue(v) });
  }
  return out;
}

/** Unix nanoseconds as a decimal string; a time OTLP cannot carry is 0, "unknown" (otlp-time.ts). */
function nanosText(sec: number, nanos: number): string {
  if (!isOtlpTimeParts(sec, nanos)) return '0';
  return (BigInt(sec) * 1_000_000_000n + BigInt(nanos)).toString();
}

export function serializeSpansJson(spans: readonly BrokerSpan[], resource: Resource, scope: InstrumentationScope): Uint8Array {
  const request = {
    resourceSpans: [
      {
        resource: { attributes: jsonAttributes(resource.attributes) },
        scopeSpans: [
          {
            scope: { name: scope.name, ...(scope.version ? { version: scope.version } : {}) },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.traceState !== '' ? { traceState: s.traceState } : {}),
              parentSpanId: s.parentSpanId,
              flags: s.flags,
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: nanosText(s.startSec, s.startNanos),
              endTimeUnixNano: nanosText(s.endSec, s.endNanos),
              attributes: jsonAttributes(s.attributes),
              events: (s.events ?? []).map((e) => ({ timeUnixNano: nanosText(e.timeSec, e.timeNanos), name: e.name, attributes: jsonAttributes(e.attributes) })),
              status: {},
            })),
          },
        ],
      },
    ],
  };
  return Buffer.from(JSON.stringify(request), 'utf8');
}

/** For the OTLP transports: a batch of spans in, request bytes out; the SDK's response parsers. */
export function spanSerializer(protocol: 'protobuf' | 'json', resource: Resource, scope: InstrumentationScope) {
  return protocol === 'json'
    ? { serializeRequest: (spans: BrokerSpan[]) => serializeSpansJson(spans, resource, scope), deserializeResponse: JsonTraceSerializer.deserializeResponse }
    : { serializeRequest: (spans: BrokerSpan[]) => serializeSpansProtobuf(spans, resource, scope), deserializeResponse: ProtobufTraceSerializer.deserializeResponse };
}
