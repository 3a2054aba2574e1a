#!/usr/bin/env node
/**
 * vmq-otel-sidecar [run] [options]     receive plugin events (the default command)
 * vmq-otel-sidecar simulate [options]  play the plugin's side, for demos, tests and benchmarks
 */
import { ConfigError, formatHelp, parseOptions } from '../config/option-parser.js';
import { SIDECAR_OPTIONS, type SidecarSettings } from '../config/sidecar-config.js';
import { parseOtelConfig, type OtelConfig } from '../telemetry/otel-config.js';
import { SIMULATOR_OPTIONS } from '../simulator/simulator-config.js';
import { startSidecar } from '../sidecar.js';
import { runSimulator, type SimulatorSummary } from '../simulator/simulator.js';
import { SidecarLogger } from '../logging/sidecar-logger.js';

/** Exit code for invalid configuration (as sysexits' EX_USAGE). */
const EXIT_CONFIG = 64;

async function runSidecar(argv: string[]): Promise<void> {
  if (argv.includes('--help')) {
    process.stdout.write(formatHelp('Usage: vmq-otel-sidecar [run] [options]', SIDECAR_OPTIONS));
    return;
  }
  // Our flags and the OTEL_* variables are validated together, so one run reports every problem.
  const problems: string[] = [];
  let parsed: ReturnType<typeof parseOptions<SidecarSettings>> | undefined;
  let otel: OtelConfig | undefined;
  try {
    parsed = parseOptions(SIDECAR_OPTIONS, argv, process.env);
    if (parsed.positional.length > 0) problems.push(`unexpected argument ${JSON.stringify(parsed.positional[0])} (commands: run, simulate)`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  try {
    otel = parseOtelConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !parsed || !otel) throw new ConfigError(problems);
  const { settings } = parsed;
  const logger = new SidecarLogger(settings.logLevel);
  // stdout carries printed events and console log records: if its reader goes away (a closed
  // pipe), stop caring about it instead of dying of an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    logger.limited('warn', 'stdout-error', 60_000, 'stdout is not writable; printed output is lost', { code: err.code });
  });
  const sidecar = await startSidecar({ settings, otel, logger });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    signalled = true;
    logger.info('shutting down', { signal });
    void sidecar.stop().then(() => {
      const s = sidecar.stats;
      logger.info('stopped', { events: s.eventsTotal, frames: s.framesReceived, rejected: s.rejectedTotal(), bytes: s.bytesReceived });
      process.exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function printSummary(s: SimulatorSummary, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(s) + '\n');
    return;
  }
  const lines = [`sent ${s.total} events (${s.bytes} bytes) in ${s.seconds}s: ${s.eventsPerSecond} events/s`];
  if (s.droppedBacklog > 0) lines.push(`dropped ${s.droppedBacklog} events: connection backlog or gRPC worker queue full (the sidecar did not keep up)`);
  if (s.grpc) {
    const g = s.grpc;
    lines.push(`over gRPC: ${g.sent} calls, ${g.ok} answered OK, ${g.timeouts} timed out, errors ${JSON.stringify(g.errors)}; over TCP: ${s.tcpSent}`);
  }
  for (const [hook, n] of Object.entries(s.sent)) lines.push(`  ${hook.padEnd(22)} ${n}`);
  const e = s.expected;
  lines.push(
    `published by qos: ${JSON.stringify(e.publishedByQos)}`,
    `disconnects: ${JSON.stringify(e.disconnects)}`,
    `drops by reason: ${JSON.stringify(e.dropsByReason)}`,
    `registration failures: ${JSON.stringify(e.registrationFailuresByReason)}`,
    `connected clients: ${JSON.stringify(e.connectedClients)}  offline sessions: ${JSON.stringify(e.offlineSessions)}`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

async function simulate(argv: string[]): Promise<void> {
  if (argv.includes('--help')) {
    process.stdout.write(formatHelp('Usage: vmq-otel-sidecar simulate [options]', SIMULATOR_OPTIONS));
    return;
  }
  const { settings } = parseOptions(SIMULATOR_OPTIONS, argv, process.env);
  const durationMs = settings.durationMs ?? (settings.events === undefined ? 10_000 : undefined);
  const grpc = {
    target: settings.grpcTarget,
    percent: settings.grpcPercent,
    workers: settings.grpcWorkers,
    connections: settings.grpcConnections,
    timeoutMs: settings.grpcTimeoutMs,
    userType: settings.userType,
  };
  const summary = await runSimulator({ ...settings, durationMs, grpc });
  printSummary(summary, settings.json);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0] && !argv[0].startsWith('--') ? argv[0] : 'run';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  try {
    if (command === 'run') await runSidecar(rest);
    else if (command === 'simulate') await simulate(rest);
    else throw new ConfigError([`unknown command ${JSON.stringify(command)}; accepted: run, simulate`]);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`vmq-otel-sidecar: invalid configuration: ${p}\n`);
      process.exit(EXIT_CONFIG);
    }
    process.stderr.write(`vmq-otel-sidecar: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}

await main();
