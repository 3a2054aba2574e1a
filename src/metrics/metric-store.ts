/**
 * Pre-aggregated metric state, updated on the hot path with plain arithmetic.
 *
 * The SDK's synchronous instruments hash the attribute object on every call (sorting its keys
 * and JSON-encoding it), which would cost more than decoding the event. Here a series is found
 * by a string key the caller builds from the attribute values (joined with KEY_SEP), and the
 * attribute object is created once, when the series is. The telemetry layer turns the state
 * into OpenTelemetry metric data at collection time (metric-producer.ts).
 */
import type { Attributes } from '@opentelemetry/api';
import type { AttributeDef, MetricDef } from './metric-catalog.js';

/** Separates attribute values in a series key. Never appears in values we put in keys. */
export const KEY_SEP = '\u0001';

/** Series per metric before new attribute combinations go to the overflow series. */
export const DEFAULT_MAX_SERIES = 2000;

/** The OpenTelemetry SDK's attributes for the series that absorbs combinations over the limit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const OVERFLOW_KEY = '\u0000overflow';

function attributesFromKey(defs: readonly AttributeDef[], key: string): Attributes {
  const attrs: Attributes = {};
  if (defs.length === 0) return attrs;
  const values = key.split(KEY_SEP);
  defs.forEach((d, i) => {
    const v = values[i] ?? '';
    attrs[d.name] = d.type === 'int' ? Number(v) : d.type === 'bool' ? v === 'true' : v;
  });
  return attrs;
}

abstract class Family<S> {
  readonly series = new Map<string, S>();
  /** Milliseconds since the epoch when the family started counting (cumulative start time). */
  readonly startMs = Date.now();

  constructor(
    readonly def: MetricDef,
    private readonly maxSeries: number,
  ) {}

  protected abstract create(attributes: Attributes): S;

  /** The series for a key, created on first use (or the overflow series past the limit). */
  get(key: string): S {
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= this.maxSeries) {
        s = this.series.get(OVERFLOW_KEY);
        if (s === undefined) {
          s = this.create(OVERFLOW_ATTRIBUTES);
          this.series.set(OVERFLOW_KEY, s);
        }
        return s;
      }
      s = this.create(attributesFromKey(this.def.attributes, key));
      this.series.set(key, s);
    }
    return s;
  }
}

export class NumberSeries {
  value = 0;
  constructor(readonly attributes: Attributes) {}
}

/** A monotonic counter or an up-down counter. */
export class SumFamily extends Family<NumberSeries> {
  protected create(attributes: Attributes): NumberSeries {
    return new NumberSeries(attributes);
  }

  add(key: string, n: number): void {
    this.get(key).value += n;
  }

  /** Sets a series to an absolute value (for counts kept elsewhere, read at collection). */
  set(key: string, value: number): void {
    this.get(key).value = value;
  }

  total(): number {
    let t = 0;
    for (const s of this.series.values()) t += s.value;
    return t;
  }
}

export class HistogramSeries {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly counts: number[];

  constructor(
    readonly attributes: Attributes,
    readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(v: number): void {
    const b = this.boundaries;
    // Buckets are (previous, boundary], as in OpenTelemetry's explicit bucket histogram.
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly boundaries: readonly number[];

  constructor(def: MetricDef, maxSeries: number) {
    super(def, maxSeries);
    if (!def.buckets) throw new Error(`histogram ${def.name} has no buckets`);
    this.boundaries = def.buckets;
  }

  protected create(attributes: Attributes): HistogramSeries {
    return new HistogramSeries(attributes, this.boundaries);
  }

  record(key: string, v: number): void {
    this.get(key).record(v);
  }
}

export type AnyFamily = SumFamily | HistogramFamily;

/** All families, in catalog order; the producer exports them. */
export class MetricStore {
  readonly families: AnyFamily[] = [];
  /** Called before each collection, to copy in counts kept elsewhere. */
  private readonly collectHooks: (() => void)[] = [];

  constructor(private readonly maxSeries: number = DEFAULT_MAX_SERIES) {}

  sum(def: MetricDef): SumFamily {
    const f = new SumFamily(def, this.maxSeries);
    this.families.push(f);
    return f;
  }

  histogram(def: MetricDef): HistogramFamily {
    const f = new HistogramFamily(def, this.maxSeries);
    this.families.push(f);
    return f;
  }

  onCollect(hook: () => void): void {
    this.collectHooks.push(hook);
  }

  beforeCollect(): void {
    for (const h of this.collectHooks) h();
  }

  family(name: string): AnyFamily | undefined {
    return this.families.find((f) => f.def.name === name);
  }
}
