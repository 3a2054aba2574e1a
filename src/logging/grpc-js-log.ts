/**
 * grpc-js (the gRPC receiver, the OTLP gRPC exporters) writes its own problems to stderr as bare
 * text ("E No address added out of total 1 resolved ..."): a line that breaks any pipeline
 * parsing the sidecar's JSON log. Routed into the sidecar's log instead: a JSON line, its first
 * line only, at most one per 30 s. grpc-js keeps one logger per process: the last sidecar
 * started in a process owns it.
 */
import * as grpc from '@grpc/grpc-js';
import type { SidecarLogger } from './sidecar-logger.js';

const firstLine = (args: unknown[]): string =>
  args
    .map((a) => (a instanceof Error ? a.message : String(a)))
    .join(' ')
    .split('\n', 1)[0]!;

export function routeGrpcJsLog(logger: SidecarLogger): void {
  grpc.setLogger({
    error: (...args: unknown[]) => logger.limited('warn', 'grpc-js', 30_000, `grpc-js: ${firstLine(args)}`),
    info: (...args: unknown[]) => logger.debug(`grpc-js: ${firstLine(args)}`),
    debug: (...args: unknown[]) => logger.debug(`grpc-js: ${firstLine(args)}`),
  });
}
