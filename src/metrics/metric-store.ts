/**
 * Pre-aggregated metric state, updated on the hot path with plain arithmetic.
 *
 * The SDK's synchronous instruments hash the attribute object on every call (sorting its keys
 * and JSON-encoding it), which would cost more than decoding the event. Here a series is found
 * by its attribute values, one Map level per attribute: the values are small numbers, booleans
 * and interned strings (bounded value sets hand out one string object per value), whose hashes
 * are cached, so a lookup allocates nothing. The attribute object is created once, with the
 * series. The telemetry layer turns the state into OpenTelemetry metric data at collection time
 * (metric-producer.ts).
 */
import type { Attributes } from '@opentelemetry/api';
import type { AttributeDef, AttributeValue, MetricDef } from './metric-catalog.js';

export type { AttributeValue };

/** Up to six attribute values, in the order of the metric's attributes. */
type AttributeTuple =
  | []
  | [AttributeValue]
  | [AttributeValue, AttributeValue]
  | [AttributeValue, AttributeValue, AttributeValue]
  | [AttributeValue, AttributeValue, AttributeValue, AttributeValue]
  | [AttributeValue, AttributeValue, AttributeValue, AttributeValue, AttributeValue]
  | [AttributeValue, AttributeValue, AttributeValue, AttributeValue, AttributeValue, AttributeValue];

type ValueOf<A> = A extends AttributeDef<infer V> ? V : never;

/**
 * The attribute values a metric's series is looked up by, typed from its catalog entry: order,
 * count and each value's type (bounded values and validated enums are branded) are checked by
 * the compiler, the way mdatagen's generated RecordXDataPoint signatures are.
 */
export type AttributeValuesOf<D extends MetricDef> = ValuesOf<D['attributes']> extends infer T extends AttributeTuple ? T : never;

type ValuesOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: ValueOf<T[K]> };

/** The family type of a counter, up-down counter or gauge of the catalog. */
export type NumberFamilyOf<D extends MetricDef> = SumFamily<AttributeValuesOf<D>>;
/** The family type of a histogram of the catalog. */
export type HistogramFamilyOf<D extends MetricDef> = HistogramFamily<AttributeValuesOf<D>>;

/** Series per metric before new attribute combinations go to the overflow series. */
export const DEFAULT_MAX_SERIES = 2000;

/** The OpenTelemetry SDK's attributes for the series that absorbs combinations over the limit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

type Level<S> = Map<AttributeValue, Level<S> | S>;

/**
 * Slots of a family's series cache (a power of two): a direct-mapped table of recently used
 * attribute combinations and their series, checked before the lookup tree. A deployment's hot
 * combinations are a few dozen per metric; more only cost a tree lookup on a miss.
 */
const CACHE_SLOTS = 64;
/** Values per cache slot: get()'s six positional arguments (unused ones undefined). */
const SLOT_VALUES = 6;

/**
 * A cheap hash of an attribute value for the cache slot: its own value for a number, the
 * length and two characters for a string (bounded sets hand out short names; two values that
 * collide share a slot and only cost a tree lookup). No string is hashed in full.
 */
function slotHash(v: AttributeValue | undefined): number {
  if (typeof v === 'string') {
    const n = v.length;
    return n === 0 ? 0 : n * 7 + v.charCodeAt(n - 1) + v.charCodeAt(0) * 3;
  }
  if (typeof v === 'number') return v | 0;
  return v === true ? 1 : v === false ? 2 : 3;
}

abstract class Family<S, V extends AttributeTuple> {
  /** Every series, in creation order (what the producer exports). */
  readonly series: S[] = [];
  /** Milliseconds since the epoch when the family started counting (cumulative start time). */
  readonly startMs = Date.now();
  private readonly root: Level<S> = new Map();
  /**
   * The series cache (CACHE_SLOTS slots of SLOT_VALUES values, and each slot's series), created
   * at the first lookup with attributes: a hit costs a few comparisons where the tree costs a Map
   * lookup per attribute, the largest share of recording an event (a third of the metrics sink).
   */
  private cacheValues: (AttributeValue | undefined)[] | null = null;
  private cacheSeries: (S | undefined)[] = [];
  private solo: S | undefined;
  private overflow: S | undefined;
  private readonly arity: number;

  constructor(
    readonly def: MetricDef,
    private readonly maxSeries: number,
  ) {
    this.arity = def.attributes.length;
    // get() takes the values as up to six positional arguments (no array per call): a seventh
    // attribute would silently reuse the sixth's value.
    if (this.arity > 6) throw new Error(`${def.name}: ${this.arity} attributes; the store takes at most 6`);
  }

  protected abstract create(attributes: Attributes): S;

  /**
   * The series for these attribute values (one per attribute of the metric, in catalog order),
   * created on first use, or the overflow series past the limit. Typed as a rest tuple,
   * implemented with positional parameters: no array per call.
   */
  get(...values: V): S;
  get(a?: AttributeValue, b?: AttributeValue, c?: AttributeValue, d?: AttributeValue, e?: AttributeValue, f?: AttributeValue): S {
    if (this.arity === 0) return (this.solo ??= this.add({}));
    const slot = (((((slotHash(a) * 31 + slotHash(b)) * 31 + slotHash(c)) * 31 + slotHash(d)) * 31 + slotHash(e)) * 31 + slotHash(f)) & (CACHE_SLOTS - 1);
    const cv = this.cacheValues;
    if (cv !== null) {
      const i = slot * SLOT_VALUES;
      // === is the tree's SameValueZero for every attribute value (no NaN among them).
      if (cv[i] === a && cv[i + 1] === b && cv[i + 2] === c && cv[i + 3] === d && cv[i + 4] === e && cv[i + 5] === f) {
        const s = this.cacheSeries[slot];
        if (s !== undefined) return s;
      }
    }
    const s = this.lookup(a, b, c, d, e, f);
    // The overflow series is not cached: a combination past the limit is looked up every time.
    if (s !== this.overflow) this.remember(slot, s, a, b, c, d, e, f);
    return s;
  }

  private remember(slot: number, s: S, a?: AttributeValue, b?: AttributeValue, c?: AttributeValue, d?: AttributeValue, e?: AttributeValue, f?: AttributeValue): void {
    let cv = this.cacheValues;
    if (cv === null) {
      cv = this.cacheValues = new Array<AttributeValue | undefined>(CACHE_SLOTS * SLOT_VALUES).fill(undefined);
      this.cacheSeries = new Array<S | undefined>(CACHE_SLOTS).fill(undefined);
    }
    const i = slot * SLOT_VALUES;
    cv[i] = a;
    cv[i + 1] = b;
    cv[i + 2] = c;
    cv[i + 3] = d;
    cv[i + 4] = e;
    cv[i + 5] = f;
    this.cacheSeries[slot] = s;
  }

  /** The lookup tree: one Map level per attribute; the series created on first use. */
  private lookup(a?: AttributeValue, b?: AttributeValue, c?: AttributeValue, d?: AttributeValue, e?: AttributeValue, f?: AttributeValue): S {
    const n = this.arity;
    let node = this.root;
    for (let i = 0; i < n - 1; i++) {
      const v = (i === 0 ? a : i === 1 ? b : i === 2 ? c : i === 3 ? d : e)!;
      let next = node.get(v) as Level<S> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(v, next);
      }
      node = next;
    }
    const last = (n === 1 ? a : n === 2 ? b : n === 3 ? c : n === 4 ? d : n === 5 ? e : f)!;
    let s = node.get(last) as S | undefined;
    if (s === undefined) {
      if (this.series.length >= this.maxSeries) return (this.overflow ??= this.create(OVERFLOW_ATTRIBUTES));
      const values = [a, b, c, d, e, f];
      const attrs: Attributes = {};
      this.def.attributes.forEach((def, i) => {
        if (!(def.absentWhenEmpty && values[i] === '')) attrs[def.name] = values[i]!;
      });
      s = this.add(attrs);
      node.set(last, s);
    }
    return s;
  }

  /** Every series including the overflow one. */
  all(): S[] {
    return this.overflow ? [...this.series, this.overflow] : this.series;
  }

  private add(attributes: Attributes): S {
    const s = this.create(attributes);
    this.series.push(s);
    return s;
  }
}

export class NumberSeries {
  value = 0;
  constructor(readonly attributes: Attributes) {}
}

/** A monotonic counter, an up-down counter or a gauge: one number per series. */
export class SumFamily<V extends AttributeTuple = AttributeTuple> extends Family<NumberSeries, V> {
  protected create(attributes: Attributes): NumberSeries {
    return new NumberSeries(attributes);
  }

  total(): number {
    let t = 0;
    for (const s of this.all()) t += s.value;
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

export class HistogramFamily<V extends AttributeTuple = AttributeTuple> extends Family<HistogramSeries, V> {
  readonly boundaries: readonly number[];

  constructor(def: MetricDef, maxSeries: number) {
    super(def, maxSeries);
    if (!def.buckets) throw new Error(`histogram ${def.name} has no buckets`);
    this.boundaries = def.buckets;
  }

  protected create(attributes: Attributes): HistogramSeries {
    return new HistogramSeries(attributes, this.boundaries);
  }

}

type AnyFamily = SumFamily | HistogramFamily;

type Kind<K extends MetricDef['kind']> = MetricDef & { kind: K };

/** All families, in catalog order; the producer exports them. */
export class MetricStore {
  readonly families: AnyFamily[] = [];
  /** Called before each collection, to copy in counts kept elsewhere. */
  private readonly collectHooks: (() => void)[] = [];

  constructor(private readonly maxSeries: number = DEFAULT_MAX_SERIES) {}

  /** A counter or up-down counter: additive (a sum across series means something). */
  sum<D extends Kind<'counter' | 'updown'>>(def: D): NumberFamilyOf<D> {
    return this.add(new SumFamily<AttributeValuesOf<D>>(def, this.maxSeries));
  }

  /** A value observed as is (an age, a count read elsewhere, a flag): not additive. */
  gauge<D extends Kind<'gauge'>>(def: D): NumberFamilyOf<D> {
    return this.add(new SumFamily<AttributeValuesOf<D>>(def, this.maxSeries));
  }

  histogram<D extends Kind<'histogram'>>(def: D): HistogramFamilyOf<D> {
    return this.add(new HistogramFamily<AttributeValuesOf<D>>(def, this.maxSeries));
  }

  private add<F extends AnyFamily>(f: F): F {
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
