/**
 * Wires the pipeline: TCP receiver -> connection handlers -> sinks. The one place that knows
 * every stage; each stage only sees the interface of the next.
 */
import type { AddressInfo } from 'node:net';
import { TcpReceiver } from './receiver/tcp-receiver.js';
import { IngestStats } from './receiver/ingest-stats.js';
import { FanoutSink, type EventSink } from './sinks/event-sink.js';
import { EventPrinter } from './sinks/event-printer.js';
import { SidecarLogger } from './logging/sidecar-logger.js';
import type { SidecarSettings } from './config/sidecar-config.js';

export interface SidecarOptions {
  settings: SidecarSettings;
  logger?: SidecarLogger;
  /** Extra sinks (tests use them to see every event). */
  sinks?: EventSink[];
}

export interface RunningSidecar {
  address: AddressInfo;
  stats: IngestStats;
  logger: SidecarLogger;
  /** Stops accepting, drains connections, flushes sinks; resolves within the shutdown timeout. */
  stop(): Promise<void>;
}

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const { settings } = options;
  const logger = options.logger ?? new SidecarLogger(settings.logLevel);
  const stats = new IngestStats();
  const sinks: EventSink[] = [...(options.sinks ?? [])];
  if (settings.printEvents) sinks.push(new EventPrinter());
  const sink = new FanoutSink(sinks, (err, event) => {
    stats.rejected.sink_error++;
    logger.limited('error', 'sink_error', 10_000, 'event sink failed', { hook: event.hook, err: (err as Error)?.stack ?? String(err) });
  });
  const receiver = new TcpReceiver(
    {
      host: settings.listen.host,
      port: settings.listen.port,
      maxFrameBytes: settings.maxFrameBytes,
      maxConnections: settings.maxConnections,
    },
    sink,
    stats,
    logger,
  );
  const address = await receiver.start();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), settings.shutdownTimeoutMs);
      });
      const work = (async () => {
        await receiver.stop(Math.min(200, settings.shutdownTimeoutMs / 4));
        await sink.shutdown();
      })();
      const outcome = await Promise.race([work.then(() => 'done' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn('shutdown timed out; exiting with work left undone', { timeoutMs: settings.shutdownTimeoutMs });
      }
    })();
    return stopping;
  };
  return { address, stats, logger, stop };
}
