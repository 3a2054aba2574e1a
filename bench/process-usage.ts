/** CPU time and peak RSS of another process, read from /proc (Linux), for the benchmark tables. */
import { readFileSync, readdirSync } from 'node:fs';

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

/** The process and its children (the sidecar's --workers), alive now. */
export function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return [pid, ...children];
}

/** CPU time of a process and its children alive now. */
export function processTreeCpu(pid: number): { userSec: number; sysSec: number } {
  let userSec = 0;
  let sysSec = 0;
  for (const p of processTree(pid)) {
    try {
      const c = processCpu(p);
      userSec += c.userSec;
      sysSec += c.sysSec;
    } catch {
      // Gone meanwhile.
    }
  }
  return { userSec, sysSec };
}

/** Peak RSS of a process and its children alive now, added up. */
export function processTreePeakRssMb(pid: number): number {
  let mb = 0;
  for (const p of processTree(pid)) {
    try {
      mb += processPeakRssMb(p);
    } catch {
      // Gone meanwhile.
    }
  }
  return mb;
}
