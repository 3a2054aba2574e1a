/**
 * Any envelope -> typed event. Decoding is synchronous, so one decoder serves every connection
 * of a receiver: its scratch state is only in use during a call.
 */
import protobuf from 'protobufjs';
import { AnyView, readAny } from './any-reader.js';
import { loadEventSchema, type EventSchema } from './proto-schema.js';
import { HOOKS, MESSAGE_NAMES, MQTT5_TYPE_URL_PREFIX, TYPE_URL_PREFIX, type SidecarEvent } from '../events/event-types.js';
import { disconnectReasonName, registrationFailureReasonName } from '../events/reason-names.js';
import { FieldDecoder, messageSpec, negativeInt64, type Decode, type FieldsWanted } from './field-decoder.js';
import { ALL_FIELDS, type FieldSelection } from './field-selection.js';

/** Why a frame did not become an event. Values are metric attribute values: keep them stable. */
export type DecodeFailure = 'empty_frame' | 'invalid_envelope' | 'unknown_type' | 'invalid_event';

const IDX_REGISTER_FAILED = HOOKS.indexOf('on_register_failed');
const IDX_OFFLINE = HOOKS.indexOf('on_client_offline');
const IDX_GONE = HOOKS.indexOf('on_client_gone');

const SLASH = 0x2f;

/**
 * What one event may carry of its lists and maps, by HOOKS index: [field number, most items].
 * A legal frame can hold millions (MQTT allows a 256 MiB packet); decoding them all blocked the
 * event loop for seconds (1M user properties, 13.9 MB: 768 ms; 1M topics: 352 ms, and much more
 * on a loaded machine), and nothing downstream needs them: the metrics count topics, the log
 * records print a few. Items past the cap are skipped without being decoded and counted
 * (truncatedItems); with the caps, the same frames decode in 35 - 60 ms, most of it the one
 * pass over the bytes that finds the items to skip (bench/large-event-bench.ts, best of three on
 * a loaded 2-core VM).
 */
export const MAX_ITEMS: Readonly<Partial<Record<(typeof HOOKS)[number], readonly [field: number, max: number]>>> = {
  on_register: [7, 100], // user_properties
  on_subscribe: [5, 10_000], // topics
  on_unsubscribe: [5, 10_000], // topics
};
/**
 * The same for the companion's messages (proto/mqtt5/): what it sends is bounded in the plugin
 * (16 user properties), not what a foreign sender may put in a frame of that type.
 */
export const MAX_ITEMS_MQTT5: Readonly<Partial<Record<(typeof HOOKS)[number], readonly [field: number, max: number]>>> = {
  on_register: [7, 100], // user_properties
  on_subscribe: [5, 10_000], // topics
  on_unsubscribe: [5, 10_000], // topics
  on_publish: [100, 100], // user_properties
  on_deliver: [100, 100], // user_properties
};
/**
 * Type index: the hook's index for the plugin's messages, HOOKS.length + the hook's index for the
 * companion's (MQTT5_OFFSET); decoders, types and caps are indexed by it.
 */
const MQTT5_OFFSET = HOOKS.length;
const CAPS: (readonly [number, number] | undefined)[] = [...HOOKS.map((h) => MAX_ITEMS[h]), ...HOOKS.map((h) => MAX_ITEMS_MQTT5[h])];

/** Message name (after the last '/' of type_url) -> hook index. */
const HOOK_BY_MESSAGE: ReadonlyMap<string, number> = new Map(HOOKS.map((h, i) => [MESSAGE_NAMES[h], i]));
const PACKAGE_PREFIX = 'eventssidecar.v1.';
const MQTT5_PACKAGE_PREFIX = MQTT5_TYPE_URL_PREFIX.slice(MQTT5_TYPE_URL_PREFIX.lastIndexOf('/') + 1);

/** The plugin's own type URLs (and the companion's), grouped by byte length. */
const TYPE_URLS_BY_LENGTH: { bytes: Buffer; index: number; slash: number }[][] = [];
HOOKS.forEach((h, index) => {
  const bytes = Buffer.from(TYPE_URL_PREFIX + MESSAGE_NAMES[h], 'latin1');
  (TYPE_URLS_BY_LENGTH[bytes.length] ??= []).push({ bytes, index, slash: TYPE_URL_PREFIX.lastIndexOf('/') });
});
const PACKAGE_PREFIX_BYTES = Buffer.from(PACKAGE_PREFIX, 'latin1');
const MQTT5_PACKAGE_PREFIX_BYTES = Buffer.from(MQTT5_PACKAGE_PREFIX, 'latin1');

/** Type URLs of the companion, registered once the schema has its message for the hook. */
function addMqtt5TypeUrls(types: readonly (protobuf.Type | undefined)[]): void {
  types.forEach((t, i) => {
    if (t === undefined) return;
    const bytes = Buffer.from(MQTT5_TYPE_URL_PREFIX + MESSAGE_NAMES[HOOKS[i]!], 'latin1');
    const list = (TYPE_URLS_BY_LENGTH[bytes.length] ??= []);
    if (!list.some((c) => c.bytes.equals(bytes))) list.push({ bytes, index: MQTT5_OFFSET + i, slash: MQTT5_TYPE_URL_PREFIX.lastIndexOf('/') });
  });
}

export class EventDecoder {
  /** Set when decode() returns null. */
  failure: DecodeFailure = 'invalid_envelope';
  /** The offending type_url (unknown_type) or the decoder's message (invalid_event). */
  failureDetail = '';

  private readonly any = new AnyView();
  private readonly reader: protobuf.Reader;
  private readonly types: protobuf.Type[];
  private readonly fields = new FieldDecoder();
  /** By hook index: the field decoder's function for the hook's selection. */
  private readonly decoders: Decode[];

  /**
   * `selection`: the fields the enabled outputs read (field-selection.ts); others keep their
   * defaults. `decodeWith: 'protobufjs'` decodes every frame with protobufjs, in full: the
   * reference the field decoder is tested and benchmarked against.
   *
   * `reuseEvents`: a hook decoded for the metrics path only (its selection is not 'all') returns
   * the same event object every time, overwritten by the next event of that hook, so the path
   * allocates no event, timestamp or ACL object per event. For callers whose sinks are done
   * with an event when consume() returns (event-sink.ts); hooks read in full (log records, the
   * printer, sinks that may keep events) always get a new object.
   */
  constructor(
    schema: EventSchema = loadEventSchema(),
    selection: FieldSelection = ALL_FIELDS,
    private readonly decodeWith: 'fields' | 'protobufjs' = 'fields',
    options: { reuseEvents?: boolean } = {},
  ) {
    addMqtt5TypeUrls(schema.mqtt5Types);
    // By type index: the plugin's types, then the companion's (undefined where it has none).
    const types = [...schema.types, ...schema.mqtt5Types];
    this.types = types as protobuf.Type[];
    const wanted = types.map((t, i) => {
      const h = HOOKS[i % MQTT5_OFFSET]!;
      const names = selection[h];
      return t === undefined || names === 'all' ? null : fieldsWanted(t, names, h);
    });
    this.decoders = types.map((t, i) =>
      t === undefined ? NO_DECODER : this.fields.decoderFor(messageSpec(t), wanted[i] ?? null, options.reuseEvents === true && wanted[i] !== null),
    );
    // One reader re-aimed at every frame, instead of one allocated per decode.
    this.reader = protobuf.Reader.create(Buffer.alloc(0));
    // protobufjs now decodes only what the field decoder leaves to it (odd or broken frames);
    // these two patches, through private Reader names, keep its results equal to the field
    // decoder's. test/decoding/field-decoder.test.ts ("fence") fails if a protobufjs release
    // undoes them. Measured when protobufjs decoded every frame: the pair bought ~3x on strings.
    // Strings are read with Buffer's native UTF-8 decoder instead of protobufjs' strict JS one:
    // three times faster, and a client id or topic with invalid UTF-8 still yields an event
    // (bad sequences become U+FFFD) instead of losing it.
    const r = this.reader as unknown as ReaderInternals;
    r.stringVerify = r.string;
    // int64 (Timestamp.seconds) as a plain number read in place: protobufjs' generic path
    // allocates a LongBits per value.
    r.int64 = readInt64AsNumber;
  }

  /**
   * Decodes the Any in buf[start, end). `nowMs` stands in for a missing broker timestamp.
   * Byte fields of the result are views into buf.
   */
  decode(buf: Buffer, start: number, end: number, nowMs: number): SidecarEvent | null {
    const any = this.any;
    if (end <= start) {
      // What the plugin sends for an event it could not encode (an empty binary): the event is
      // lost on the broker's side, and no foreign sender is to blame.
      this.failure = 'empty_frame';
      this.failureDetail = 'an empty event: the plugin sends one for an event it could not encode';
      return null;
    }
    if (!readAny(buf, start, end, any)) {
      this.failure = 'invalid_envelope';
      // The first bytes, in hex (peer-chosen bytes never reach the log as text).
      this.failureDetail = `not a google.protobuf.Any with a type_url: ${end - start} bytes, starting ${buf.toString('hex', start, Math.min(end, start + 16))}`;
      return null;
    }
    const idx = this.typeIndexOf(buf, any.typeUrlStart, any.typeUrlEnd);
    if (idx < 0 || this.types[idx] === undefined) {
      this.failure = 'unknown_type';
      this.failureDetail = buf.toString('latin1', any.typeUrlStart, Math.min(any.typeUrlEnd, any.typeUrlStart + 200));
      return null;
    }
    let src = buf;
    let from = any.valueStart;
    let to = any.valueEnd;
    let truncated = 0;
    const cap = CAPS[idx];
    // Each item takes at least 2 bytes (tag and length), so only a long value can be over the cap.
    if (cap !== undefined && to - from > cap[1] * 2) {
      const kept = keepFirstItems(buf, from, to, cap[0], cap[1]);
      if (kept !== null) {
        src = kept;
        from = 0;
        to = kept.length;
        truncated = SCAN.skipped;
      }
    }
    // The plugin's messages take the field decoder; whatever it does not handle (odd or broken
    // bytes) is decoded by protobufjs, in full, with its own errors.
    let m = this.decodeWith === 'fields' ? this.fields.run(this.decoders[idx]!, src, from, to) : null;
    if (m === null) {
      const r = this.reader;
      r.buf = src;
      r.pos = from;
      r.len = to;
      try {
        m = this.types[idx]!.decode(r, r.len - r.pos) as unknown as Record<string, unknown>;
      } catch (err) {
        this.failure = 'invalid_event';
        this.failureDetail = `${idx >= MQTT5_OFFSET ? MQTT5_PACKAGE_PREFIX : ''}${MESSAGE_NAMES[HOOKS[idx % MQTT5_OFFSET]!]}: ${(err as Error).message}`;
        return null;
      } finally {
        r.buf = EMPTY;
      }
    }
    // hook and hookIndex come from the type's constructor (proto-schema.ts).
    const ts = m.timestamp as { seconds: number; nanos: number } | null;
    if (ts) {
      // An absent seconds reads as protobufjs' int64 default, a {low, high} object, not 0.
      m.timeSec = typeof ts.seconds === 'number' ? ts.seconds : 0;
      m.timeNanos = ts.nanos;
      m.timeMissing = false;
    } else {
      m.timeSec = Math.floor(nowMs / 1000);
      m.timeNanos = Math.round((nowMs % 1000) * 1e6);
      m.timeMissing = true;
    }
    if (truncated > 0) m.truncatedItems = truncated;
    if (idx === IDX_OFFLINE || idx === IDX_GONE) {
      m.reasonName = disconnectReasonName(m.reason as number);
    } else if (idx === IDX_REGISTER_FAILED) {
      m.reasonName = registrationFailureReasonName(m.reason as number);
    }
    return m as unknown as SidecarEvent;
  }

  /** The type index (see MQTT5_OFFSET) of a type_url, or -1. */
  private typeIndexOf(buf: Buffer, start: number, end: number): number {
    // Fast path: the plugin's type URLs, among the few of the same length, compared byte by
    // byte from the end (where they differ) down to the last '/'. What precedes it is not
    // compared: the slow path below accepts any host part too, so the result is the same, and
    // a third fewer bytes are read. No allocation.
    const candidates = TYPE_URLS_BY_LENGTH[end - start];
    if (candidates !== undefined) {
      for (let c = 0; c < candidates.length; c++) {
        const { bytes: url, slash } = candidates[c]!;
        let i = url.length - 1;
        while (i >= slash && url[i] === buf[start + i]) i--;
        if (i < slash) return candidates[c]!.index;
      }
    }
    // Any other host part: the type name is what follows the last '/'.
    let slash = buf.lastIndexOf(SLASH, end - 1);
    if (slash < start) slash = start - 1;
    const nameStart = slash + 1;
    for (const [prefix, offset] of PACKAGES) {
      if (end - nameStart <= prefix.length) continue;
      const nameEnd = nameStart + prefix.length;
      if (prefix.compare(buf, nameStart, nameEnd) !== 0) continue;
      const hook = HOOK_BY_MESSAGE.get(buf.toString('latin1', nameEnd, end));
      return hook === undefined ? -1 : offset + hook;
    }
    return -1;
  }
}

const EMPTY = Buffer.alloc(0);
/** Package prefix of a type name -> offset of its type indexes. */
const PACKAGES: readonly (readonly [Buffer, number])[] = [
  [PACKAGE_PREFIX_BYTES, 0],
  [MQTT5_PACKAGE_PREFIX_BYTES, MQTT5_OFFSET],
];
/** Stands where the companion has no message for a hook (never called: its type is undefined). */
const NO_DECODER: Decode = (() => null) as unknown as Decode;

/**
 * A selection's names as field numbers: "qos" reads the field, "matchedAcl.name" only that
 * field of the nested message (the rest of it is skipped).
 */
function fieldsWanted(type: protobuf.Type, names: readonly string[], hook: string): FieldsWanted {
  const wanted: (boolean | boolean[] | undefined)[] = [];
  for (const name of names) {
    const [top, sub] = name.split('.', 2) as [string, string | undefined];
    const field = type.fields[top];
    if (!field) throw new Error(`field selection: ${hook} has no field ${top}`);
    if (sub === undefined) {
      wanted[field.id] = true;
      continue;
    }
    const nested = field.resolve().resolvedType;
    const subField = nested && 'fields' in nested ? (nested as protobuf.Type).fields[sub] : undefined;
    if (!subField) throw new Error(`field selection: ${hook}.${top} has no field ${sub}`);
    const current = wanted[field.id];
    if (current === true) continue;
    const list = Array.isArray(current) ? current : (wanted[field.id] = []);
    list[subField.id] = true;
  }
  return wanted;
}

/**
 * Byte length of the top-level field starting at buf[pos] (tag included), or -1 when it is not
 * well-formed (the protobuf decoder then reports the error). `field` receives its number.
 */
function fieldLength(buf: Buffer, pos: number, end: number, out: { field: number }): number {
  const start = pos;
  let tag = 0;
  let scale = 1;
  let b: number;
  do {
    if (pos >= end || scale > 2 ** 28) return -1;
    b = buf[pos++]!;
    tag += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  const wire = tag % 8;
  out.field = (tag - wire) / 8;
  switch (wire) {
    case 0:
      do {
        if (pos >= end) return -1;
      } while (buf[pos++]! & 0x80);
      return pos - start;
    case 1:
      return pos + 8 <= end ? pos + 8 - start : -1;
    case 5:
      return pos + 4 <= end ? pos + 4 - start : -1;
    case 2: {
      let len = 0;
      scale = 1;
      do {
        if (pos >= end || scale > 2 ** 28) return -1;
        b = buf[pos++]!;
        len += (b & 0x7f) * scale;
        scale *= 128;
      } while (b & 0x80);
      return pos + len <= end ? pos + len - start : -1;
    }
    default:
      return -1;
  }
}

const SCAN = { field: 0, skipped: 0 };
const RANGES: number[] = [];

/**
 * One pass over buf[start, end): when top-level field `field` occurs more than `max` times,
 * returns a copy without the occurrences past the first `max` (SCAN.skipped says how many);
 * otherwise null, having copied nothing.
 */
function keepFirstItems(buf: Buffer, start: number, end: number, field: number, max: number): Buffer | null {
  const ranges = RANGES;
  ranges.length = 0;
  let seen = 0;
  let total = 0;
  for (let pos = start; pos < end; ) {
    let len = fieldLength(buf, pos, end, SCAN);
    // A malformed tail is kept as it is, for the decoder to report.
    if (len < 0) len = end - pos;
    else if (SCAN.field === field && ++seen > max) {
      pos += len;
      continue;
    }
    if (ranges.length > 0 && ranges[ranges.length - 1] === pos) ranges[ranges.length - 1] = pos + len;
    else ranges.push(pos, pos + len);
    total += len;
    pos += len;
  }
  SCAN.skipped = seen > max ? seen - max : 0;
  if (SCAN.skipped === 0) return null;
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = 0; i < ranges.length; i += 2) o += buf.copy(out, o, ranges[i]!, ranges[i + 1]!);
  return out;
}

interface ReaderInternals {
  buf: Uint8Array;
  pos: number;
  len: number;
  string(): string;
  stringVerify(): string;
  int64(): number;
}

/**
 * A varint int64 as a number: exact up to 2^53 (any timestamp's seconds), approximate beyond.
 * Negative values (ten-byte two's complement) come out negative, -1 as -1.
 */
function readInt64AsNumber(this: ReaderInternals): number {
  const buf = this.buf;
  const start = this.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (this.pos >= this.len) throw RangeError('index out of range');
    const b = buf[this.pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value >= 9223372036854775808 ? negativeInt64(buf, start, this.pos) : value;
    scale *= 128;
  }
  throw Error('invalid varint encoding');
}
