/**
 * OpenTelemetry metric name + unit -> Prometheus metric name, by the rules the OpenTelemetry
 * Collector's Prometheus exporter and Prometheus' own OTLP receiver apply by default
 * (OpenTelemetry's "Prometheus and OpenMetrics compatibility" specification): non [a-zA-Z0-9:]
 * runs become "_", the unit's Prometheus word is appended unless already one of the name's
 * words, annotations in braces ({client}) are dropped, counters end in "_total", and gauges of
 * unit "1" in "_ratio".
 *
 * The sidecar's own /metrics endpoint applies the same function, so one set of names serves
 * both paths (the JS Prometheus exporter on its own would leave the unit words out).
 */

export type PrometheusType = 'counter' | 'gauge' | 'histogram';

const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

const PER_UNIT_WORDS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

function words(s: string): string[] {
  return s.split(/[^a-zA-Z0-9:]+/).filter((w) => w !== '');
}

/** Unit words to append: [main, per], with brace annotations removed. */
function unitWords(unit: string): [string, string] {
  const stripped = unit.replace(/\{[^}]*\}/g, '');
  const [main = '', per = ''] = stripped.split('/', 2);
  const mainWord = main === '' ? '' : UNIT_WORDS[main] ?? main;
  const perWord = per === '' ? '' : PER_UNIT_WORDS[per] ?? per;
  return [words(mainWord).join('_'), words(perWord).join('_')];
}

export function prometheusName(name: string, unit: string, type: PrometheusType): string {
  let tokens = words(name);
  const [main, per] = unitWords(unit);
  if (main !== '' && !tokens.includes(main)) tokens.push(main);
  if (per !== '' && !tokens.includes(per)) tokens.push('per', per);
  if (type === 'counter') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && type === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  const joined = tokens.join('_');
  return /^[0-9]/.test(joined) ? `_${joined}` : joined;
}

/** Attribute name -> Prometheus label name. */
export function prometheusLabel(attribute: string): string {
  const label = attribute.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(label) ? `_${label}` : label;
}
