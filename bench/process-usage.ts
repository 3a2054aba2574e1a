/** CPU time and peak RSS of another process, read from /proc (Linux), for the benchmark tables. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (100 on Linux). */
const CLK_TCK = 100;

export function processCpu(pid: number): { userSec: number; sysSec: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { userSec: Number(fields[11]) / CLK_TCK, sysSec: Number(fields[12]) / CLK_TCK };
}

export function processPeakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
