/**
 * A stand-in OpenTelemetry Collector for the tests: an HTTP server taking OTLP/HTTP exports
 * (POST /v1/metrics and /v1/logs, protobuf or JSON, optionally gzip) and decoding the real wire
 * format: protobuf with the official field numbers (fixtures/otlp/otlp-subset.proto), JSON as
 * the OTLP/JSON mapping specifies (hex trace ids, int64 as strings, camelCase keys).
 */
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const PROTO = fileURLToPath(new URL('../../../test/fixtures/otlp/otlp-subset.proto', import.meta.url));
const root = protobuf.loadSync(PROTO);
const LogsRequest = root.lookupType('otlp.subset.ExportLogsServiceRequest');
const MetricsRequest = root.lookupType('otlp.subset.ExportMetricsServiceRequest');

export type Value = string | number | boolean | Value[] | { [k: string]: Value } | null;

export interface ReceivedLog {
  resource: Record<string, Value>;
  scope: string;
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: Value;
  attributes: Record<string, Value>;
  traceId: string;
  spanId: string;
  flags: number;
  eventName: string;
}

export interface ReceivedPoint {
  resource: Record<string, Value>;
  metric: string;
  unit: string;
  type: 'sum' | 'gauge' | 'histogram';
  monotonic: boolean;
  /** 1 delta, 2 cumulative. */
  temporality: number;
  attributes: Record<string, Value>;
  value: number;
  /** Which field of the number data point carried the value (histograms: undefined). */
  wireType?: 'asInt' | 'asDouble';
  histogram?: { count: number; sum: number; bucketCounts: number[]; bounds: number[] };
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
}

export interface ReceivedExport {
  contentType: string;
  headers: http.IncomingHttpHeaders;
  points?: ReceivedPoint[];
  logs?: ReceivedLog[];
}

type Obj = Record<string, unknown>;

function hex(v: unknown, json: boolean): string {
  if (v === undefined || v === null || v === '') return '';
  if (json) return String(v).toLowerCase();
  return Buffer.from(v as Uint8Array).toString('hex');
}

function anyValue(v: Obj | undefined): Value {
  if (!v) return null;
  if ('stringValue' in v) return v.stringValue as string;
  if ('boolValue' in v) return v.boolValue as boolean;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return (((v.arrayValue as Obj).values as Obj[]) ?? []).map(anyValue);
  if ('kvlistValue' in v) return keyValues((v.kvlistValue as Obj).values as Obj[]);
  if ('bytesValue' in v) return Buffer.from(v.bytesValue as string, typeof v.bytesValue === 'string' ? 'base64' : undefined).toString('base64');
  return null;
}

function keyValues(kvs: Obj[] | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of kvs ?? []) out[kv.key as string] = anyValue(kv.value as Obj | undefined);
  return out;
}

function big(v: unknown): bigint {
  return v === undefined || v === null ? 0n : BigInt(String(v));
}

function decodeLogs(req: Obj, json: boolean): ReceivedLog[] {
  const out: ReceivedLog[] = [];
  for (const rl of (req.resourceLogs as Obj[]) ?? []) {
    const resource = keyValues(((rl.resource as Obj) ?? {}).attributes as Obj[]);
    for (const sl of (rl.scopeLogs as Obj[]) ?? []) {
      const scope = String(((sl.scope as Obj) ?? {}).name ?? '');
      for (const r of (sl.logRecords as Obj[]) ?? []) {
        out.push({
          resource,
          scope,
          timeUnixNano: big(r.timeUnixNano),
          observedTimeUnixNano: big(r.observedTimeUnixNano),
          severityNumber: Number(r.severityNumber ?? 0),
          severityText: String(r.severityText ?? ''),
          body: anyValue(r.body as Obj | undefined),
          attributes: keyValues(r.attributes as Obj[]),
          traceId: hex(r.traceId, json),
          spanId: hex(r.spanId, json),
          flags: Number(r.flags ?? 0),
          eventName: String(r.eventName ?? ''),
        });
      }
    }
  }
  return out;
}

function decodeMetrics(req: Obj): ReceivedPoint[] {
  const out: ReceivedPoint[] = [];
  for (const rm of (req.resourceMetrics as Obj[]) ?? []) {
    const resource = keyValues(((rm.resource as Obj) ?? {}).attributes as Obj[]);
    for (const sm of (rm.scopeMetrics as Obj[]) ?? []) {
      for (const m of (sm.metrics as Obj[]) ?? []) {
        const base = { resource, metric: String(m.name), unit: String(m.unit ?? '') };
        const number = (type: 'sum' | 'gauge', data: Obj) => {
          for (const p of (data.dataPoints as Obj[]) ?? []) {
            out.push({
              ...base,
              type,
              monotonic: Boolean(data.isMonotonic),
              temporality: Number(data.aggregationTemporality ?? 0),
              attributes: keyValues(p.attributes as Obj[]),
              value: p.asInt !== undefined ? Number(p.asInt) : Number(p.asDouble ?? 0),
              wireType: p.asInt !== undefined ? 'asInt' : 'asDouble',
              startTimeUnixNano: big(p.startTimeUnixNano),
              timeUnixNano: big(p.timeUnixNano),
            });
          }
        };
        if (m.sum) number('sum', m.sum as Obj);
        if (m.gauge) number('gauge', m.gauge as Obj);
        if (m.histogram) {
          const h = m.histogram as Obj;
          for (const p of (h.dataPoints as Obj[]) ?? []) {
            const count = Number(p.count ?? 0);
            out.push({
              ...base,
              type: 'histogram',
              monotonic: false,
              temporality: Number(h.aggregationTemporality ?? 0),
              attributes: keyValues(p.attributes as Obj[]),
              value: count,
              histogram: {
                count,
                sum: Number(p.sum ?? 0),
                bucketCounts: ((p.bucketCounts as unknown[]) ?? []).map(Number),
                bounds: ((p.explicitBounds as unknown[]) ?? []).map(Number),
              },
              startTimeUnixNano: big(p.startTimeUnixNano),
              timeUnixNano: big(p.timeUnixNano),
            });
          }
        }
      }
    }
  }
  return out;
}

/** Decodes an OTLP/protobuf ExportMetricsServiceRequest. */
export function decodeMetricsProtobuf(body: Uint8Array): ReceivedPoint[] {
  return decodeMetrics(MetricsRequest.toObject(MetricsRequest.decode(body), { longs: String }) as Obj);
}

/** Decodes an OTLP/protobuf ExportLogsServiceRequest. */
export function decodeLogsProtobuf(body: Uint8Array): ReceivedLog[] {
  return decodeLogs(LogsRequest.toObject(LogsRequest.decode(body), { longs: String }) as Obj, false);
}

export class OtlpReceiver {
  readonly exports: ReceivedExport[] = [];
  /** Answer every request with this status instead of accepting it. */
  failWith: number | null = null;
  /** Per logs request: a status to answer instead of accepting it (null: accept). */
  refuseLogs: ((logs: ReceivedLog[]) => number | null) | null = null;
  /** Logs requests answered by refuseLogs with a status, by status. */
  readonly refused: Record<number, number> = {};
  private server: http.Server | null = null;
  port = 0;
  /** With TLS: the subject CN of each request's client certificate ('' when none was shown). */
  readonly clientNames: string[] = [];

  /** `tls`: serve HTTPS with these options (key, cert, and ca + requestCert for mutual TLS). */
  async start(port = 0, tls?: https.ServerOptions): Promise<number> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (tls) this.clientNames.push(String((req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN ?? ''));
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.failWith !== null) {
          res.writeHead(this.failWith).end();
          return;
        }
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const contentType = String(req.headers['content-type'] ?? '');
        const json = contentType.includes('json');
        try {
          if (req.url === '/v1/logs') {
            const obj = json ? (JSON.parse(body.toString()) as Obj) : (LogsRequest.toObject(LogsRequest.decode(body), { longs: String }) as Obj);
            const logs = decodeLogs(obj, json);
            const status = this.refuseLogs?.(logs) ?? null;
            if (status !== null) {
              this.refused[status] = (this.refused[status] ?? 0) + 1;
              res.writeHead(status).end();
              return;
            }
            this.exports.push({ contentType, headers: req.headers, logs });
          } else if (req.url === '/v1/metrics') {
            const obj = json ? (JSON.parse(body.toString()) as Obj) : (MetricsRequest.toObject(MetricsRequest.decode(body), { longs: String }) as Obj);
            this.exports.push({ contentType, headers: req.headers, points: decodeMetrics(obj) });
          } else {
            res.writeHead(404).end();
            return;
          }
        } catch (err) {
          res.writeHead(400).end(String(err));
          return;
        }
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
      });
    };
    const server: http.Server = tls ? (https.createServer(tls, handler) as unknown as http.Server) : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  get logs(): ReceivedLog[] {
    return this.exports.flatMap((e) => e.logs ?? []);
  }

  /** Data points of the most recent metrics export. */
  latestPoints(): ReceivedPoint[] {
    for (let i = this.exports.length - 1; i >= 0; i--) if (this.exports[i]!.points) return this.exports[i]!.points!;
    return [];
  }

  /** Sum of a metric's latest values over the points whose attributes match `where`. */
  total(metric: string, where: Record<string, Value> = {}): number {
    return this.latestPoints()
      .filter((p) => p.metric === metric && Object.entries(where).every(([k, v]) => p.attributes[k] === v))
      .reduce((a, p) => a + p.value, 0);
  }
}
