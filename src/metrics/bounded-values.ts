/**
 * Keeps an attribute's distinct values bounded and clean, so that neither a broker that invents
 * reasons, ACL names or mountpoints nor a peer sending garbage can blow up the number of series
 * or take the places of real values:
 *
 * - A value outside the protocol's domain (control characters including NUL, U+FFFD from
 *   invalid UTF-8, more than MAX_VALUE_CHARS characters) becomes INVALID_VALUE and is counted;
 *   it never takes a place.
 * - The first half of the places go to values at their first sighting (a deployment's few real
 *   values get their series from their first event on).
 * - The second half is reserved for values that recur: a new value gets a place at its second
 *   sighting (its first event counts in OTHER_VALUE). Real values (ACL names, drop reasons,
 *   mountpoints) recur all the time; fuzzed or made-up ones almost never do, so a flood of
 *   one-off values can fill at most the first half, and real values arriving after it still get
 *   their own series. Pending first sightings are kept in a table of PENDING_MIN (or 4 x max)
 *   entries, emptied when full, so a value must recur within roughly that many other new values
 *   (at most 128 characters each: a few MB at worst).
 * - Past `max` places, every new value becomes OTHER_VALUE (counted).
 */

export const OTHER_VALUE = 'other';
export const INVALID_VALUE = 'invalid';

declare const admittedFor: unique symbol;
/**
 * A value a BoundedValues for attribute A handed out (or "other"/"invalid"): only such a value
 * can label that attribute (the metric store's accessors are typed with it), so an unbounded
 * string, or a value meant for another attribute, does not compile.
 */
export type Bounded<A extends string> = string & { readonly [admittedFor]: A };
export type Mountpoint = Bounded<'mqtt.mountpoint'>;
export type TopicGroup = Bounded<'mqtt.topic.group'>;
/** A drop reason, the error.type of mqtt.message.dropped. */
export type DropReason = Bounded<'error.type'>;
/** A --client-groups name or "ungrouped" (bounded by the configured patterns), or "" (attribute absent) without --client-groups. */
export type ClientGroup = Bounded<'mqtt.client.group'> | '';

/** A QoS as attribute value: the protocol's three levels, or "invalid" (validated by the metrics sink). */
export type Qos = 0 | 1 | 2 | typeof INVALID_VALUE;
/** A subscription's QoS: as Qos, plus 128 (refused). */
export type GrantedQos = Qos | 128;
/** Longest attribute value accepted (ACL names, mountpoints and drop reasons are short names). */
export const MAX_VALUE_CHARS = 128;
/** Least number of pending first sightings remembered. */
export const PENDING_MIN = 10_000;

/** True for a value that may become an attribute value: no control characters, no U+FFFD, not too long. */
export function isWellFormedValue(v: string): boolean {
  if (v.length > MAX_VALUE_CHARS) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c === 0xfffd) return false;
  }
  return true;
}

export class BoundedValues<A extends string = string> {
  /**
   * Admitted value -> the string to use as attribute: the first string object seen for it (so
   * that the metric store's lookups hit a cached hash).
   */
  private readonly known = new Map<string, string>();
  /** Values seen once while only recurring values are admitted. */
  private pending = new Set<string>();
  private readonly open: number;
  private readonly pendingMax: number;
  /** Updates whose value was folded into OTHER_VALUE. */
  folded = 0;
  /** Updates whose value was malformed and became INVALID_VALUE. */
  invalid = 0;

  constructor(
    readonly attribute: A,
    private readonly max: number,
  ) {
    this.open = Math.ceil(max / 2);
    this.pendingMax = Math.max(PENDING_MIN, max * 4);
  }

  /** Admits a value the operator configured (a topic group name), while there is room. */
  trust(value: string): void {
    if (this.known.size < this.max && !this.known.has(value)) this.known.set(value, value);
  }

  /**
   * The value fold() gave for `value` at its latest sighting, without counting another one: for
   * a second reader of the same event (one event is one sighting, whichever outputs read it).
   */
  verdict(value: string): Bounded<A> {
    const v = this.known.get(value);
    if (v !== undefined) return v as Bounded<A>;
    return (isWellFormedValue(value) ? OTHER_VALUE : INVALID_VALUE) as Bounded<A>;
  }

  fold(value: string): Bounded<A> {
    const v = this.known.get(value);
    if (v !== undefined) return v as Bounded<A>;
    if (!isWellFormedValue(value)) {
      this.invalid++;
      return INVALID_VALUE as Bounded<A>;
    }
    const size = this.known.size;
    if (size < this.open || (size < this.max && this.pending.delete(value))) {
      this.known.set(value, value);
      return value as Bounded<A>;
    }
    if (size < this.max) {
      if (this.pending.size >= this.pendingMax) this.pending = new Set();
      this.pending.add(value);
    }
    this.folded++;
    return OTHER_VALUE as Bounded<A>;
  }
}
