/**
 * OTLP/protobuf from log record objects (ReadableLogRecord), grouped by resource and scope as
 * the SDK's serializer groups them: the reference the encoded path (LogRecordEncoder, which the
 * product uses) is compared with, record by record, and which is itself compared with the SDK's
 * serializer (test/telemetry/otlp/log-object-serializer.test.ts). It writes through the
 * product's common OTLP pieces, so that those are checked against the SDK too. It is also
 * bench:log-serializer's object-path figure.
 */
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { I32, I64, LEN, VARINT, Writer, lenFieldSize } from '../../src/protowire/writer.js';
import { resourceMessage, scopeMessage, writeAnyValueField, writeAttributes } from '../../src/telemetry/otlp/common-encoding.js';

function writeRecord(w: Writer, r: ReadableLogRecord): void {
  w.tag(1, I64);
  w.hrTime(r.hrTime);
  if (r.severityNumber !== undefined) {
    w.tag(2, VARINT);
    w.varint(r.severityNumber);
  }
  if (r.severityText !== undefined) w.stringField(3, r.severityText);
  if (r.body !== undefined) writeAnyValueField(w, 5, r.body);
  writeAttributes(w, 6, r.attributes);
  if (r.droppedAttributesCount > 0) {
    w.tag(7, VARINT);
    w.varint(r.droppedAttributesCount);
  }
  const sc = r.spanContext;
  if (sc) {
    w.tag(8, I32);
    w.fixed32(sc.traceFlags & 0xff);
    w.hex(9, sc.traceId);
    w.hex(10, sc.spanId);
  }
  w.tag(11, I64);
  w.hrTime(r.hrTimeObserved);
  if (r.eventName) w.stringField(12, r.eventName);
}

export function serializeLogRecords(records: readonly ReadableLogRecord[]): Uint8Array {
  // Group by resource, then scope (object identity), as the SDK's serializer does.
  const groups = new Map<Resource, Map<InstrumentationScope, ReadableLogRecord[]>>();
  for (const r of records) {
    let byScope = groups.get(r.resource);
    if (!byScope) groups.set(r.resource, (byScope = new Map()));
    let list = byScope.get(r.instrumentationScope);
    if (!list) byScope.set(r.instrumentationScope, (list = []));
    list.push(r);
  }
  const out = new Writer(Math.max(1024, records.length * 512));
  for (const [resource, byScope] of groups) {
    const scopeParts: Buffer[] = [];
    for (const [scope, list] of byScope) {
      const body = new Writer(list.length * 512 + 64);
      body.bytesField(1, scopeMessage(scope));
      for (const r of list) body.nested(2, () => writeRecord(body, r));
      scopeParts.push(body.buf.subarray(0, body.pos));
    }
    const res = resourceMessage(resource);
    let inner = lenFieldSize(res.length);
    for (const p of scopeParts) inner += lenFieldSize(p.length);
    out.tag(1, LEN);
    out.varint(inner);
    out.bytesField(1, res);
    for (const p of scopeParts) out.bytesField(2, p);
  }
  return out.buf.subarray(0, out.pos);
}
