/**
 * The hot-path decoder: event bytes -> the same event object protobufjs would produce, reading
 * only the fields a selection asks for (field-selection.ts) and skipping the others' bytes.
 *
 * Tables come from the protobufjs schema (proto/), so field numbers are written once. Anything
 * a well-formed plugin message never contains (a wire type that does not match the schema, an
 * unknown field, a truncated value, a varint of more than five bytes where an int32 is expected)
 * makes decode() return null and the caller decodes the frame with protobufjs instead, which
 * keeps its exact behaviour on odd input (errors, $unknowns, merged duplicates).
 *
 * Strings are read with Buffer's native UTF-8 decoder (invalid sequences become U+FFFD, like the
 * protobufjs path, event-decoder.ts). The values that only select a series (mountpoint, ACL name
 * and pattern, drop reason) are interned: the same bytes give the same string object, without a
 * new string per event, and a Map lookup of it reuses its cached hash.
 */
import type protobuf from 'protobufjs';
import { BAIL, int64, length, skipVarint, varint32, WIRE_LEN, WIRE_VARINT, type Cursor } from '../protowire/reader.js';

const K_STRING = 1;
const K_INTERNED = 2;
const K_BYTES = 3;
const K_INT32 = 4;
const K_BOOL = 5;
const K_INT64 = 6;
const K_MESSAGE = 7;
const K_REPEATED_MESSAGE = 8;
const K_REPEATED_STRING = 9;
const K_MAP_STRING = 10;

/** Fields whose values select a series and repeat across events. */
const INTERNED_FIELDS: ReadonlySet<string> = new Set(['mountpoint', 'name', 'pattern', 'reason']);

interface FieldSpec {
  name: string;
  kind: number;
  /** Wire type the schema expects. */
  wire: number;
  sub: MessageSpec | null;
}

export interface MessageSpec {
  ctor: new () => Record<string, unknown>;
  /** By field number. */
  fields: (FieldSpec | undefined)[];
}

const specCache = new WeakMap<protobuf.Type, MessageSpec>();

export function messageSpec(type: protobuf.Type): MessageSpec {
  let spec = specCache.get(type);
  if (spec !== undefined) return spec;
  spec = { ctor: type.ctor as unknown as new () => Record<string, unknown>, fields: [] };
  specCache.set(type, spec);
  for (const f of type.fieldsArray) {
    f.resolve();
    let kind: number;
    let sub: MessageSpec | null = null;
    if (f.map) {
      if ((f as unknown as protobuf.MapField).keyType !== 'string' || f.type !== 'string') throw new Error(`field-decoder: unsupported map ${type.name}.${f.name}`);
      kind = K_MAP_STRING;
    } else if (f.resolvedType && 'fieldsArray' in f.resolvedType) {
      sub = messageSpec(f.resolvedType as protobuf.Type);
      kind = f.repeated ? K_REPEATED_MESSAGE : K_MESSAGE;
    } else if (f.resolvedType) {
      kind = K_INT32; // enum
    } else if (f.type === 'string') {
      kind = f.repeated ? K_REPEATED_STRING : INTERNED_FIELDS.has(f.name) ? K_INTERNED : K_STRING;
    } else if (f.type === 'bytes') kind = K_BYTES;
    else if (f.type === 'int32') kind = K_INT32;
    else if (f.type === 'bool') kind = K_BOOL;
    else if (f.type === 'int64') kind = K_INT64;
    else throw new Error(`field-decoder: unsupported type ${f.type} of ${type.name}.${f.name}`);
    if (f.repeated && kind !== K_REPEATED_MESSAGE && kind !== K_REPEATED_STRING) throw new Error(`field-decoder: unsupported repeated ${type.name}.${f.name}`);
    const wire = kind === K_INT32 || kind === K_BOOL || kind === K_INT64 ? WIRE_VARINT : WIRE_LEN;
    spec.fields[f.id] = { name: f.name, kind, wire, sub };
  }
  return spec;
}

/** Direct-mapped intern table for short strings: 1024 slots, a collision replaces the slot. */
const INTERN_SLOTS = 1024;
const INTERN_MAX_BYTES = 64;
const internBytes: (Buffer | undefined)[] = new Array(INTERN_SLOTS);
const internStrings: string[] = new Array(INTERN_SLOTS).fill('');

function intern(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > INTERN_MAX_BYTES) return buf.utf8Slice(start, end);
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 16777619);
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const b = internBytes[slot];
  if (b !== undefined && b.length === n) {
    let i = 0;
    while (i < n && b[i] === buf[start + i]) i++;
    if (i === n) return internStrings[slot]!;
  }
  const s = buf.utf8Slice(start, end);
  internBytes[slot] = Buffer.from(buf.subarray(start, end));
  internStrings[slot] = s;
  return s;
}

function utf8(buf: Buffer, start: number, end: number): string {
  return start === end ? '' : buf.utf8Slice(start, end);
}

export type Decode = (d: Cursor, buf: Buffer, end: number) => Record<string, unknown>;

/**
 * Which fields to read, by field number: true reads the field whole; a list reads only those
 * fields of a nested message (or of each item of a list of messages); absent skips it. null
 * reads every field.
 */
export type FieldsWanted = readonly (boolean | readonly boolean[] | undefined)[] | null;

const HELPERS = { BAIL, varint32, int64, skipVarint, length, utf8, intern };

/** The case of a field the selection skips. */
function skipCase(f: FieldSpec, subs: Decode[]): string {
  // Skipped, but checked as protobufjs would decode it, so that a frame is refused alike
  // whatever the outputs read: nested messages are walked (not kept), map entries checked.
  if (f.wire === WIRE_VARINT) return 'H.skipVarint(d, buf, end);';
  if (f.kind === K_MESSAGE || f.kind === K_REPEATED_MESSAGE) {
    subs.push(compile(f.sub!, null, true));
    return `n = H.length(d, buf, end); S[${subs.length - 1}](d, buf, d.pos + n);`;
  }
  if (f.kind === K_MAP_STRING) {
    return `n = H.length(d, buf, end); e = d.pos + n;
      while (d.pos < e) {
        t = H.varint32(d, buf, e);
        if (t !== 10 && t !== 18) throw H.BAIL;
        n = H.length(d, buf, e); d.pos += n;
      }`;
  }
  return 'n = H.length(d, buf, end); d.pos += n;';
}

/** The case of a field the selection reads: `subWanted` the fields of a nested message to read. */
function readCase(f: FieldSpec, subWanted: FieldsWanted, reuse: boolean, subs: Decode[]): string {
  const prop = `m[${JSON.stringify(f.name)}]`;
  const str = 'n = H.length(d, buf, end); s = d.pos; d.pos += n;';
  switch (f.kind) {
    case K_INT32:
      return `${prop} = H.varint32(d, buf, end) | 0;`;
    case K_BOOL:
      return `${prop} = H.varint32(d, buf, end) !== 0;`;
    case K_INT64:
      return `${prop} = H.int64(d, buf, end);`;
    case K_STRING:
      return `${str} ${prop} = H.utf8(buf, s, s + n);`;
    case K_INTERNED:
      return `${str} ${prop} = H.intern(buf, s, s + n);`;
    case K_BYTES:
      return `${str} ${prop} = buf.subarray(s, s + n);`;
    case K_MESSAGE:
      // A second occurrence merges into the first in protobufjs: left to it.
      subs.push(compile(f.sub!, subWanted, reuse));
      return `if (${prop} !== null && ${prop} !== undefined) throw H.BAIL; n = H.length(d, buf, end); ${prop} = S[${subs.length - 1}](d, buf, d.pos + n);`;
    case K_REPEATED_MESSAGE:
      // Items are kept in a list: each one a new object, even when the event is reused.
      subs.push(compile(f.sub!, subWanted, false));
      return `n = H.length(d, buf, end); ${prop}.push(S[${subs.length - 1}](d, buf, d.pos + n));`;
    case K_REPEATED_STRING:
      return `${str} ${prop}.push(H.utf8(buf, s, s + n));`;
    default: // K_MAP_STRING
      return `n = H.length(d, buf, end); e = d.pos + n; k = ''; v = '';
        while (d.pos < e) {
          t = H.varint32(d, buf, e);
          if (t !== 10 && t !== 18) throw H.BAIL;
          n = H.length(d, buf, e); s = d.pos; d.pos += n;
          if (t === 10) k = H.utf8(buf, s, s + n); else v = H.utf8(buf, s, s + n);
        }
        if (k === '__proto__') throw H.BAIL;
        ${prop}[k] = v;`;
  }
}

/**
 * For a function that reuses its object: the statements that put every property back to what
 * the constructor gives it (lists and maps new, as a caller may keep them), and the pristine
 * object they read the defaults from.
 */
function resetSource(spec: MessageSpec, wanted: FieldsWanted): { reset: string; pristine: Record<string, unknown> } {
  const pristine = new spec.ctor();
  // The fields this function writes (a skipped field keeps its default: nothing writes it)
  // and the event decoder's extras (own properties that are no field). Plain protobufjs
  // constructors keep field defaults on the prototype, read through it here. Lists and maps
  // start new; every other default is a shared value nobody writes to.
  const kinds = new Map<string, number>();
  spec.fields.forEach((f, id) => {
    if (f && (wanted === null || wanted[id])) kinds.set(f.name, f.kind);
  });
  const fieldNames = new Set(spec.fields.flatMap((f) => (f ? [f.name] : [])));
  const names = new Set([...Object.keys(pristine).filter((k) => !fieldNames.has(k)), ...kinds.keys()]);
  const reset = [...names]
    .filter((k) => k !== 'hook' && k !== 'hookIndex')
    .map((k) => {
      const prop = `m[${JSON.stringify(k)}]`;
      const kind = kinds.get(k);
      if (kind === K_REPEATED_MESSAGE || kind === K_REPEATED_STRING) return `${prop} = [];`;
      if (kind === K_MAP_STRING) return `${prop} = {};`;
      return `${prop} = P[${JSON.stringify(k)}];`;
    })
    .join(' ');
  return { reset, pristine };
}

/**
 * A decode function specialised for one message and one selection, as protobufjs generates its
 * own: a switch on the whole tag (field number and wire type), a fixed property per case, so
 * that every store is monomorphic. `reuse`: every call returns the same object, reset and
 * decoded into.
 */
function compile(spec: MessageSpec, wanted: FieldsWanted, reuse: boolean): Decode {
  const subs: Decode[] = [];
  const cases: string[] = [];
  spec.fields.forEach((f, id) => {
    if (f === undefined) return;
    const want = wanted === null ? true : wanted[id];
    // A nested message read in part: only the listed fields of it.
    const subWanted = want === true || want === false || want === undefined ? null : want;
    const body = want ? readCase(f, subWanted, reuse, subs) : skipCase(f, subs);
    cases.push(`case ${id * 8 + f.wire}: { ${body} break; }`);
  });
  const { reset, pristine } = reuse ? resetSource(spec, wanted) : { reset: '', pristine: null };
  const scratch = reuse ? new spec.ctor() : null;
  const src = `return function decode(d, buf, end) {
    const m = ${reuse ? 'R' : 'new C()'};
    ${reset}
    let n = 0, s = 0, e = 0, t = 0, k = '', v = '';
    while (d.pos < end) {
      switch (H.varint32(d, buf, end)) {
        ${cases.join('\n')}
        default: throw H.BAIL;
      }
    }
    if (d.pos !== end) throw H.BAIL;
    return m;
  };`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('C', 'H', 'S', 'R', 'P', src)(spec.ctor, HELPERS, subs, scratch, pristine) as Decode;
}

/** Decodes messages with functions compiled per message type and selection. */
export class FieldDecoder {
  private readonly cursor: Cursor = { pos: 0 };
  private readonly compiled = new Map<MessageSpec, Map<FieldsWanted, Decode>[]>();

  /**
   * Runs a function of decoderFor() over buf[start, end): the message, or null when it needs
   * the generic decoder.
   */
  run(fn: Decode, buf: Buffer, start: number, end: number): Record<string, unknown> | null {
    this.cursor.pos = start;
    try {
      return fn(this.cursor, buf, end);
    } catch (err) {
      if (err === BAIL) return null;
      throw err;
    }
  }

  /**
   * The compiled function; callers on the hot path keep it (event-decoder.ts). `reuse`: it
   * returns one object, overwritten by its next call (and its nested messages too), instead of
   * a new one per call: for callers that are done with a message before decoding the next one.
   */
  decoderFor(spec: MessageSpec, wanted: FieldsWanted, reuse = false): Decode {
    let bySelection = this.compiled.get(spec);
    if (bySelection === undefined) this.compiled.set(spec, (bySelection = [new Map(), new Map()]));
    const cache = bySelection[reuse ? 1 : 0]!;
    let fn = cache.get(wanted);
    if (fn === undefined) cache.set(wanted, (fn = compile(spec, wanted, reuse)));
    return fn;
  }
}

declare module 'node:buffer' {
  interface Buffer {
    /** Node's native UTF-8 slice (what protobufjs' BufferReader uses); no argument checks. */
    utf8Slice(start: number, end: number): string;
  }
}
