#!/usr/bin/env node
/**
 * vmq-otel-sidecar [run] [options]     receive plugin events (the default command)
 * vmq-otel-sidecar simulate [options]  play the plugin's side, for demos, tests and benchmarks
 */
import { ConfigError, formatHelp, formatHostPort, parseOptions, unknownVariables } from '../config/option-parser.js';
import { SIDECAR_OPTIONS, validateSettings, type SidecarSettings } from '../config/sidecar-config.js';
import { parseOtelConfig, type OtelConfig } from '../telemetry/otel-config.js';
import { SIMULATOR_OPTIONS } from '../simulator/simulator-config.js';
import { SIDECAR_OPTION_GROUPS, SIMULATOR_OPTION_GROUPS, type OptionGroup } from '../config/option-groups.js';
import { startSidecar } from '../sidecar.js';
import { defaultWorkers } from '../receiver/grpc-workers.js';
import { runSimulator, type SimulatorSummary } from '../simulator/simulator.js';
import { SidecarLogger } from '../logging/sidecar-logger.js';
import { VERSION } from '../version.js';

/** Exit code for invalid configuration (as sysexits' EX_USAGE). */
const EXIT_CONFIG = 64;
/** Exit code when the simulator finds no sidecar (as sysexits' EX_UNAVAILABLE). */
const EXIT_UNAVAILABLE = 69;

const SIDECAR_USAGE =
  'Usage: vmq-otel-sidecar [run] [options]     receive vmq_events_sidecar events, export OpenTelemetry metrics and logs\n' +
  '       vmq-otel-sidecar simulate [options]  play the plugin\'s side against a running sidecar (simulate --help)';

/** Handles -h/--help and --version; true when the command should not run. */
function answeredInfo(parsed: { help: boolean; version: boolean }, usage: string, table: Parameters<typeof formatHelp>[1], groups: readonly OptionGroup[], reference: string): boolean {
  if (parsed.help) process.stdout.write(formatHelp(usage, table, groups, 'VMQ_SIDECAR_', [reference]));
  else if (parsed.version) process.stdout.write(`vmq-otel-sidecar ${VERSION}\n`);
  return parsed.help || parsed.version;
}

async function runSidecar(argv: string[]): Promise<void> {
  // Our flags and the OTEL_* variables are validated together, so one run reports every problem.
  const problems: string[] = [];
  let parsed: ReturnType<typeof parseOptions<SidecarSettings>> | undefined;
  let otel: OtelConfig | undefined;
  try {
    parsed = parseOptions(SIDECAR_OPTIONS, argv, process.env);
    if (answeredInfo(parsed, SIDECAR_USAGE, SIDECAR_OPTIONS, SIDECAR_OPTION_GROUPS, 'Accepted values, details and the OTEL_* variables (exporters, endpoints): docs/configuration.md')) return;
    if (parsed.positional.length > 0) problems.push(`unexpected argument ${JSON.stringify(parsed.positional[0])} (commands: run, simulate; --help lists the options)`);
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
  // The components' rules across options, once every option parsed.
  if (problems.length === 0 && parsed && otel) problems.push(...validateSettings(parsed.settings, otel));
  if (problems.length > 0 || !parsed || !otel) throw new ConfigError(problems);
  const { settings } = parsed;
  const logger = new SidecarLogger(settings.logLevel);
  for (const v of unknownVariables(SIDECAR_OPTIONS, process.env, 'VMQ_SIDECAR_')) {
    logger.warn('unknown environment variable ignored', { variable: v.name, ...(v.near ? { didYouMean: v.near } : {}) });
  }
  // stdout carries printed events and console log records: if its reader goes away (a closed
  // pipe), stop caring about it instead of dying of an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    logger.limited('warn', 'stdout-error', 60_000, 'stdout is not writable; printed output is lost', { code: err.code });
  });
  const sidecar = await startSidecar({ settings, otel, logger, autoWorkers: defaultWorkers() });
  let signalled = false;
  let signalledAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    signalled = true;
    signalledAt = Date.now();
    logger.info('shutting down', { signal });
    void sidecar.stop().then(() => {
      const s = sidecar.stats;
      const q = sidecar.telemetry.logQueue;
      // The final line: what came in, and what became of the log records (exported or lost).
      logger.info('stopped', {
        events: s.eventsTotal,
        frames: s.framesReceived,
        rejected: s.rejectedTotal(),
        bytes: s.bytesReceived,
        ...(q ? { logRecords: { exported: q.exported, lost: q.droppedTotal, lostByReason: q.dropped } } : {}),
        shutdownMs: Date.now() - signalledAt,
      });
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
  if (e.mqtt5Wakeups > 0) lines.push(`MQTT 5 wakeups (no on_register; vmq_sidecar_session_unregistered_wakeups_total): ${e.mqtt5Wakeups}`);
  if (Object.keys(e.mqtt5Sent).length > 0) lines.push(`of which MQTT 5 (companion, network.protocol.version=5): ${JSON.stringify(e.mqtt5Sent)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** A run whose connections the sidecar closed: said on stderr, and the exit status is 1. */
function reportLostConnections(s: SimulatorSummary, connections: number): void {
  if (s.connectionsLost === 0) return;
  process.stderr.write(
    `vmq-otel-sidecar simulate: the sidecar closed ${s.connectionsLost} of ${connections} connections before the end (it stopped, or --max-connections made room): events sent on them after that never arrived, so the sidecar's counts will be lower than the ones above\n`,
  );
  process.exitCode = 1;
}

async function simulate(argv: string[]): Promise<void> {
  const parsed = parseOptions(SIMULATOR_OPTIONS, argv, process.env);
  if (answeredInfo(parsed, 'Usage: vmq-otel-sidecar simulate [options]', SIMULATOR_OPTIONS, SIMULATOR_OPTION_GROUPS, 'Accepted values and details: docs/configuration.md#simulator-vmq-otel-sidecar-simulate')) return;
  const { settings } = parsed;
  if (parsed.positional.length > 0) throw new ConfigError([`unexpected argument ${JSON.stringify(parsed.positional[0])} (--help lists the options)`]);
  if (settings.preencode && settings.events === undefined) throw new ConfigError(['--preencode needs --events N: it encodes every frame before sending, so the run needs an event count, not a duration']);
  if (settings.preencode && settings.transport !== 'tcp') throw new ConfigError([`--preencode: accepted with --transport tcp only (found ${settings.transport})`]);
  const durationMs = settings.durationMs ?? (settings.events === undefined ? 10_000 : undefined);
  const grpc = {
    target: settings.grpcTarget,
    percent: settings.grpcPercent,
    workers: settings.grpcWorkers,
    connections: settings.grpcConnections,
    timeoutMs: settings.grpcTimeoutMs,
    userType: settings.userType,
  };
  let summary: SimulatorSummary;
  try {
    summary = await runSimulator({ ...settings, durationMs, grpc });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // grpc-js' waitForReady, when nothing answers at --grpc-target.
    if (err instanceof Error && /Failed to connect before the deadline/.test(err.message)) {
      const target = settings.grpcTarget.map((t) => formatHostPort(t.host, t.port)).join(', ');
      process.stderr.write(`vmq-otel-sidecar simulate: no gRPC endpoint reachable at ${target}; start the sidecar with --grpc-listen, or point --grpc-target at it\n`);
      process.exit(EXIT_UNAVAILABLE);
    }
    if (code !== 'ECONNREFUSED' && code !== 'ECONNRESET' && code !== 'EHOSTUNREACH' && code !== 'ENOTFOUND' && code !== 'EAI_AGAIN' && code !== 'ETIMEDOUT') throw err;
    const target = formatHostPort(settings.target.host, settings.target.port);
    process.stderr.write(`vmq-otel-sidecar simulate: no sidecar reachable at ${target} (${code}); start one (npm start) or point --target at it\n`);
    process.exit(EXIT_UNAVAILABLE);
  }
  printSummary(summary, settings.json);
  reportLostConnections(summary, settings.connections);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'run';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  try {
    if (command === 'run') await runSidecar(rest);
    else if (command === 'simulate') await simulate(rest);
    else throw new ConfigError([`unknown command ${JSON.stringify(command)}; accepted: run, simulate (--help for more)`]);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of new Set(err.problems)) process.stderr.write(`vmq-otel-sidecar: invalid configuration: ${p}\n`);
      process.exit(EXIT_CONFIG);
    }
    process.stderr.write(`vmq-otel-sidecar: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}

await main();
