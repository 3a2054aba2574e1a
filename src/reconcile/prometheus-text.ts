/**
 * A small reader of the Prometheus text exposition format (what VerneMQ serves on its metrics
 * listener): sample lines only, comments and types skipped.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

/** Parses the text; throws when a sample line is malformed (the source is then not trusted). */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`line ${lineNo} is not a Prometheus sample`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      let l: RegExpExecArray | null;
      let consumed = 0;
      while ((l = LABEL.exec(m[2])) !== null) {
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        consumed = LABEL.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`line ${lineNo} has malformed labels`);
    }
    const v = m[3]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    if (Number.isNaN(value) && v !== 'NaN') throw new Error(`line ${lineNo} has a value that is not a number`);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sum of the samples named `name` (or `name_total`), optionally per value of one label. */
export function sumOf(samples: readonly Sample[], name: string): number | undefined {
  let found = false;
  let total = 0;
  for (const s of samples) {
    if (s.name === name || s.name === `${name}_total`) {
      found = true;
      total += s.value;
    }
  }
  return found ? total : undefined;
}

export function sumBy(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name && s.name !== `${name}_total`) continue;
    const k = s.labels[label];
    if (k === undefined) continue;
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  return out;
}
