/**
 * Any envelope -> typed event. Decoding is synchronous, so one decoder serves every connection
 * of a receiver: its scratch state is only in use during a call.
 */
import protobuf from 'protobufjs';
import { AnyView, readAny } from '../protowire/any.js';
import { BAIL, FieldView, int64, nextField } from '../protowire/reader.js';
import { loadEventSchema, type EventSchema } from './proto-schema.js';
import { HOOKS, MESSAGE_NAMES, MQTT5_TYPE_URL_PREFIX, TYPE_URL_PREFIX, type SidecarEvent } from '../events/event-types.js';
import { disconnectReasonName, registrationFailureReasonName } from '../events/reason-names.js';
import { FieldDecoder, messageSpec, type Decode, type FieldsWanted } from './field-decoder.js';
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

/**
 * A known type URL, for the fast path of typeIndexOf(): its name part (from the last '/' to the
 * end) as little-endian 32-bit words at byte offsets `at`, the last word first (where URLs of
 * one length differ), the first word at the '/' itself (overlapping the next when the part is
 * not a multiple of 4 bytes).
 */
interface KnownTypeUrl {
  bytes: Buffer;
  index: number;
  at: number[];
  words: number[];
}

function knownTypeUrl(url: string, index: number): KnownTypeUrl {
  const bytes = Buffer.from(url, 'latin1');
  const slash = url.lastIndexOf('/');
  const at: number[] = [];
  for (let p = bytes.length - 4; p > slash; p -= 4) at.push(p);
  at.push(slash);
  return { bytes, index, at, words: at.map((p) => bytes.readInt32LE(p)) };
}

/** The plugin's own type URLs (and the companion's), grouped by byte length. */
const TYPE_URLS_BY_LENGTH: KnownTypeUrl[][] = [];
HOOKS.forEach((h, index) => {
  const known = knownTypeUrl(TYPE_URL_PREFIX + MESSAGE_NAMES[h], index);
  (TYPE_URLS_BY_LENGTH[known.bytes.length] ??= []).push(known);
});
const PACKAGE_PREFIX_BYTES = Buffer.from(PACKAGE_PREFIX, 'latin1');
const MQTT5_PACKAGE_PREFIX_BYTES = Buffer.from(MQTT5_PACKAGE_PREFIX, 'latin1');

/** Type URLs of the companion, registered once the schema has its message for the hook. */
function addMqtt5TypeUrls(types: readonly (protobuf.Type | undefined)[]): void {
  types.forEach((t, i) => {
    if (t === undefined) return;
    const known = knownTypeUrl(MQTT5_TYPE_URL_PREFIX + MESSAGE_NAMES[HOOKS[i]!], MQTT5_OFFSET + i);
    const list = (TYPE_URLS_BY_LENGTH[known.bytes.length] ??= []);
    if (!list.some((c) => c.bytes.equals(known.bytes))) list.push(known);
  });
}

export class EventDecoder {
  /** Set when decode() returns null. */
  failure: DecodeFailure = 'invalid_envelope';
  /** The offending type_url (unknown_type) or the decoder's message (invalid_event). */
  failureDetail = '';

  private readonly any = new AnyView();
  /**
   * A view of the last frame's buffer, for typeIndexOf()'s word reads: one per chunk read from
   * a socket (hundreds of frames), not one per frame. Found by the buffer's identity (reading
   * a typed array's .buffer is a call). Kept only for a buffer of up to KEEP_VIEW_MAX_BYTES, so
   * that a large gRPC message is not held after its call.
   */
  private words: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private wordsOf: Buffer = EMPTY;
  /** keepFirstItems()' scratch: the field it reads, the byte ranges it keeps. */
  private readonly scanField = new FieldView();
  private readonly keptRanges: number[] = [];
  private skippedItems = 0;
  private readonly reader: protobuf.Reader;
  private readonly types: protobuf.Type[];
  private readonly fields = new FieldDecoder();
  /** By type index: the field decoder's function for the hook's selection. */
  private readonly decoders: Decode[];
  /** By type index: what the event carries besides its fields (finisher()). */
  private readonly finishers: Finish[];

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
    this.finishers = types.map((_, i) => finisher(i));
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
      const kept = this.keepFirstItems(buf, from, to, cap[0], cap[1]);
      if (kept !== null) {
        src = kept;
        from = 0;
        to = kept.length;
        truncated = this.skippedItems;
      }
    }
    const m = this.decodeMessage(idx, src, from, to);
    if (m === null) return null;
    this.finishers[idx]!(m, nowMs, truncated);
    return m as unknown as SidecarEvent;
  }

  /**
   * The plugin's messages take the field decoder; whatever it does not handle (odd or broken
   * bytes) is decoded by protobufjs, in full, with its own errors.
   */
  private decodeMessage(idx: number, src: Buffer, from: number, to: number): Record<string, unknown> | null {
    const m = this.decodeWith === 'fields' ? this.fields.run(this.decoders[idx]!, src, from, to) : null;
    if (m !== null) return m;
    const r = this.reader;
    r.buf = src;
    r.pos = from;
    r.len = to;
    try {
      return this.types[idx]!.decode(r, r.len - r.pos) as unknown as Record<string, unknown>;
    } catch (err) {
      this.failure = 'invalid_event';
      this.failureDetail = `${idx >= MQTT5_OFFSET ? MQTT5_PACKAGE_PREFIX : ''}${MESSAGE_NAMES[HOOKS[idx % MQTT5_OFFSET]!]}: ${(err as Error).message}`;
      return null;
    } finally {
      r.buf = EMPTY;
    }
  }

  /**
   * One pass over buf[start, end): when top-level field `field` occurs more than `max` times,
   * returns a copy without the occurrences past the first `max` (how many it left out in
   * skippedItems); otherwise null, having copied nothing.
   */
  private keepFirstItems(buf: Buffer, start: number, end: number, field: number, max: number): Buffer | null {
    const ranges = this.keptRanges;
    const f = this.scanField;
    ranges.length = 0;
    let seen = 0;
    let total = 0;
    for (let pos = start; pos < end; ) {
      const next = nextField(buf, pos, end, f);
      // A malformed tail is kept as it is, for the decoder to report.
      const len = next < 0 ? end - pos : next - pos;
      if (next >= 0 && f.field === field && ++seen > max) {
        pos += len;
        continue;
      }
      if (ranges.length > 0 && ranges[ranges.length - 1] === pos) ranges[ranges.length - 1] = pos + len;
      else ranges.push(pos, pos + len);
      total += len;
      pos += len;
    }
    this.skippedItems = seen > max ? seen - max : 0;
    if (this.skippedItems === 0) return null;
    const out = Buffer.allocUnsafe(total);
    let o = 0;
    for (let i = 0; i < ranges.length; i += 2) o += buf.copy(out, o, ranges[i]!, ranges[i + 1]!);
    return out;
  }

  /** The type index (see MQTT5_OFFSET) of a type_url, or -1. */
  private typeIndexOf(buf: Buffer, start: number, end: number): number {
    // Fast path: the plugin's type URLs, among the few of the same length, compared from the
    // end (where they differ) down to the last '/', four bytes at a time. What precedes it is
    // not compared: the slow path below accepts any host part too, so the result is the same,
    // and a third fewer bytes are read. No allocation but a DataView per chunk.
    const candidates = TYPE_URLS_BY_LENGTH[end - start];
    if (candidates !== undefined) {
      let view = this.words;
      let base = start;
      if (buf !== this.wordsOf) {
        if (buf.byteLength <= KEEP_VIEW_MAX_BYTES) {
          view = this.words = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
          this.wordsOf = buf;
        } else {
          view = new DataView(buf.buffer, buf.byteOffset + start, end - start);
          base = 0;
        }
      }
      for (let c = 0; c < candidates.length; c++) {
        const { at, words } = candidates[c]!;
        let k = 0;
        while (k < at.length && view.getInt32(base + at[k]!, true) === words[k]) k++;
        if (k === at.length) return candidates[c]!.index;
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
/** The largest buffer whose view the decoder keeps between calls: a socket read (64 KiB). */
const KEEP_VIEW_MAX_BYTES = 64 * 1024;
/** Package prefix of a type name -> offset of its type indexes. */
const PACKAGES: readonly (readonly [Buffer, number])[] = [
  [PACKAGE_PREFIX_BYTES, 0],
  [MQTT5_PACKAGE_PREFIX_BYTES, MQTT5_OFFSET],
];
/** Stands where the companion has no message for a hook (never called: its type is undefined). */
const NO_DECODER: Decode = (() => null) as unknown as Decode;

/** Sets what an event carries besides its fields: its time, a reason's name, items left out. */
type Finish = (m: Record<string, unknown>, nowMs: number, truncated: number) => void;

/**
 * The finisher of a type index, a function of its own per type: the events of up to 26 types
 * are objects of as many shapes, and one function writing their extras makes each of its
 * property accesses megamorphic (a global cache lookup per access); one per type sees a shape
 * or two. Measured on the metrics path's decoding (callgrind, 200,000 events): about 150
 * instructions fewer per event, of about 4,200. `new Function` with a source of its own (the
 * type's name in it): closures of one function literal share their inline caches.
 */
function finisher(idx: number): Finish {
  // hook and hookIndex come from the type's constructor (proto-schema.ts).
  const reason = idx === IDX_OFFLINE || idx === IDX_GONE ? disconnectReasonName : idx === IDX_REGISTER_FAILED ? registrationFailureReasonName : null;
  const name = `${idx >= MQTT5_OFFSET ? 'mqtt5_' : ''}${HOOKS[idx % MQTT5_OFFSET]!}`;
  const src = `return function finish_${name}(m, nowMs, truncated) {
    const ts = m.timestamp;
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
    ${reason === null ? '' : 'm.reasonName = reasonName(m.reason);'}
  };`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('reasonName', src)(reason) as Finish;
}

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

interface ReaderInternals {
  buf: Uint8Array;
  pos: number;
  len: number;
  string(): string;
  stringVerify(): string;
  int64(): number;
}

/**
 * protobufjs' int64 as protowire's: a plain number (exact up to 2^53, any timestamp's seconds),
 * negative values negative, -1 as -1; protobufjs' errors for a truncated or overlong varint.
 */
function readInt64AsNumber(this: ReaderInternals): number {
  const start = this.pos;
  try {
    return int64(this, this.buf, this.len);
  } catch (err) {
    if (err !== BAIL) throw err;
    // BAIL: no last byte among the first ten, or fewer than ten bytes left.
    if (this.len - start < 10) throw RangeError('index out of range');
    throw Error('invalid varint encoding');
  }
}
