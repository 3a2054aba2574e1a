/**
 * OTLP/protobuf log records (logs/v1 LogRecord) written straight from the log sink's values,
 * field by field, with no record object in between (the http/protobuf path; log-sink.ts drives
 * it through log-record-builder.ts), and the ExportLogsServiceRequest around a batch of them.
 * The SDK's transport (retries, timeouts, compression, headers) is kept; only the serializer is
 * ours.
 *
 * Why: with a record per event, the SDK's generic serializer was half of the sidecar's CPU
 * (profiled: its size pass and its write pass each walk every string in JS). Here each record is
 * written once, in place, and copied into the request as it is; attribute keys, the resource and
 * the scope are encoded once and reused (common-encoding.ts); long strings go through Buffer's
 * native UTF-8 writer. The tests decode the output with the official field numbers and compare
 * it with the SDK serializer's.
 */
import type { AnyValue } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { I32, I64, LEN, VARINT, lenFieldSize, utf8Length } from '../../protowire/writer.js';
import { exportRequest, writeKeyValue } from './common-encoding.js';
import { SlabRecordStore } from './slab-record-store.js';

/** ScopeLogs.log_records: the field each encoded record is, in its store. */
const SCOPE_LOGS_RECORD = 2;

/**
 * Writes one record at a time: begin(), its fields, end() returns its handle. It is also the
 * store of the records it wrote (SlabRecordStore), which the export queue releases.
 */
export class LogRecordEncoder extends SlabRecordStore {
  begin(timeSec: number, timeNanos: number, observedMs: number, eventName: string): void {
    this.beginRecord();
    const w = this.w;
    w.tag(1, I64);
    w.time(timeSec, timeNanos);
    w.tag(11, I64);
    w.time(Math.floor(observedMs / 1000), (observedMs % 1000) * 1e6);
    w.stringField(12, eventName);
  }

  severity(severityNumber: number, severityText: string): void {
    this.w.tag(2, VARINT);
    this.w.varint(severityNumber);
    this.w.stringField(3, severityText);
  }

  body(text: string): void {
    const w = this.w;
    const tl = text.length;
    if (tl < 126) {
      // Most bodies: short ASCII, written in one pass (lengths fit in one byte).
      w.ensure(tl + 4);
      const b = w.buf;
      let p = w.pos + 4;
      let ascii = true;
      for (let i = 0; i < tl; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        b[p++] = c;
      }
      if (ascii) {
        b[w.pos] = (5 << 3) | LEN;
        b[w.pos + 1] = tl + 2;
        b[w.pos + 2] = 0x0a;
        b[w.pos + 3] = tl;
        w.pos = p;
        return;
      }
    }
    const n = utf8Length(text);
    w.tag(5, LEN);
    w.varint(lenFieldSize(n));
    w.tag(1, LEN);
    w.varint(n);
    w.stringBody(text, n);
  }

  string(key: string, v: string): void {
    writeKeyValue(this.w, 6, key, v);
  }

  /** An integer, a double, or a boolean attribute; arrays of strings or integers. */
  value(key: string, v: AnyValue): void {
    writeKeyValue(this.w, 6, key, v);
  }

  trace(traceId: string, spanId: string, traceFlags: number): void {
    const w = this.w;
    w.tag(8, I32);
    w.fixed32(traceFlags & 0xff);
    w.hex(9, traceId);
    w.hex(10, spanId);
  }

  /** The finished record (ScopeLogs field 2, its length, the LogRecord), as a handle. */
  end(droppedAttributes: number): number {
    if (droppedAttributes > 0) {
      this.w.tag(7, VARINT);
      this.w.varint(droppedAttributes);
    }
    return this.endRecord(SCOPE_LOGS_RECORD);
  }
}

/**
 * An ExportLogsServiceRequest from records LogRecordEncoder wrote: one ResourceLogs, one
 * ScopeLogs, the records' bytes as they are.
 */
export function serializeEncodedLogRecords(records: readonly number[], store: LogRecordEncoder, resource: Resource, scope: InstrumentationScope): Uint8Array {
  let recordBytes = 0;
  for (const r of records) recordBytes += store.size(r);
  return exportRequest(resource, scope, recordBytes, (w) => {
    for (const r of records) w.pos += store.copyTo(r, w.buf, w.pos);
  });
}

/** For the http/protobuf transport: batches of LogRecordEncoder handles in, request bytes out. */
export function wireLogsSerializer(resource: Resource, scope: InstrumentationScope, store: LogRecordEncoder) {
  return {
    serializeRequest: (records: number[]): Uint8Array => serializeEncodedLogRecords(records, store, resource, scope),
    deserializeResponse: ProtobufLogsSerializer.deserializeResponse,
  };
}
