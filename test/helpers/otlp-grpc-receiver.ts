/**
 * A stand-in Collector for OTLP/gRPC: the two Export methods of the OTLP collector services,
 * registered by path with raw-bytes (de)serializers, decoding requests with the official field
 * numbers (fixtures/otlp/otlp-subset.proto). An empty response is a valid Export*ServiceResponse.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeLogsProtobuf, decodeMetricsProtobuf, type ReceivedLog, type ReceivedPoint } from './otlp-receiver.js';

const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
  requestStream: false,
  responseStream: false,
} as const;

export class OtlpGrpcReceiver {
  readonly logs: ReceivedLog[] = [];
  readonly metricExports: ReceivedPoint[][] = [];
  /** Per logs request: a gRPC status code to answer instead of accepting it (null: accept). */
  refuseLogs: ((logs: ReceivedLog[]) => number | null) | null = null;
  private server = new grpc.Server();

  /** `credentials`: TLS (grpc.ServerCredentials.createSsl) instead of plaintext HTTP/2. */
  async start(credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    this.server.addService(
      { Export: { path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export', ...raw } },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          const logs = decodeLogsProtobuf(call.request);
          const code = this.refuseLogs?.(logs) ?? null;
          if (code !== null) {
            cb({ code, details: 'refused by the test' });
            return;
          }
          this.logs.push(...logs);
          cb(null, Buffer.alloc(0));
        },
      },
    );
    this.server.addService(
      { Export: { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', ...raw } },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          this.metricExports.push(decodeMetricsProtobuf(call.request));
          cb(null, Buffer.alloc(0));
        },
      },
    );
    return new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port))),
    );
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.tryShutdown(() => r()));
  }

  total(metric: string, where: Record<string, unknown> = {}): number {
    const latest = this.metricExports[this.metricExports.length - 1] ?? [];
    return latest.filter((p) => p.metric === metric && Object.entries(where).every(([k, v]) => p.attributes[k] === v)).reduce((a, p) => a + p.value, 0);
  }
}
