/**
 * Keeps an attribute's distinct values bounded: the first `max` values seen pass through, any
 * later new value becomes OTHER_VALUE (and is counted), so a broker that invents reasons, ACL
 * names or mountpoints cannot blow up the number of series.
 */

export const OTHER_VALUE = 'other';

export class BoundedValues {
  /**
   * Value as received -> value to use as attribute: the first string object seen for it (so
   * that the metric store's lookups hit a cached hash), or OTHER_VALUE.
   */
  private readonly known = new Map<string, string>();
  /** Updates whose value was folded into OTHER_VALUE. */
  folded = 0;

  constructor(
    readonly attribute: string,
    private readonly max: number,
  ) {}

  fold(value: string): string {
    const v = this.known.get(value);
    if (v !== undefined) {
      if (v === OTHER_VALUE && value !== OTHER_VALUE) this.folded++;
      return v;
    }
    if (this.known.size >= this.max) {
      this.folded++;
      // Remember a bounded number of folded values so repeated ones are cheap to look up.
      if (this.known.size < this.max * 4) this.known.set(value, OTHER_VALUE);
      return OTHER_VALUE;
    }
    this.known.set(value, value);
    return value;
  }

  get distinct(): number {
    let n = 0;
    for (const v of this.known.values()) if (v !== OTHER_VALUE) n++;
    return n;
  }
}
