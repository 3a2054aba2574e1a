import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runCli(args: string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = []): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** JSON log lines the process wrote to stderr so far. */
export function logLines(p: CliProcess): Record<string, unknown>[] {
  return p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The plugin and admin ports a sidecar started with port 0 has bound, from its start-up lines. */
export async function listeningPorts(p: CliProcess): Promise<{ plugin: number; admin: number }> {
  return eventually(() => {
    const port = (msg: string) => Number(String(logLines(p).find((l) => l.msg === msg)?.address).split(':').pop());
    const r = { plugin: port('listening for plugin connections'), admin: port('admin listener ready') };
    if (!(r.plugin > 0 && r.admin > 0)) throw new Error(`not listening yet; stderr: ${p.stderr()}`);
    return r;
  });
}
