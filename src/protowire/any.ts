/**
 * Reads a serialized google.protobuf.Any (type_url = 1, value = 2) in place.
 *
 * Generic protobuf decoding of the envelope would allocate an object, a string and a buffer
 * view per frame only to look at two byte ranges; this reader records the ranges instead.
 */
import { FieldView, WIRE_LEN, nextField } from './reader.js';

export class AnyView {
  typeUrlStart = 0;
  typeUrlEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** The reader's scratch. */
  readonly field = new FieldView();
}

/**
 * Fills `out` with the byte ranges of the Any in buf[start, end).
 * Returns false when the bytes are not a well-formed Any with a type_url.
 */
export function readAny(buf: Uint8Array, start: number, end: number, out: AnyView): boolean {
  const f = out.field;
  let haveType = false;
  out.valueStart = 0;
  out.valueEnd = 0;
  for (let pos = start; pos < end; ) {
    pos = nextField(buf, pos, end, f);
    if (pos < 0 || f.field === 0) return false;
    if (f.field !== 1 && f.field !== 2) continue; // an unknown field, skipped
    if (f.wire !== WIRE_LEN) return false;
    if (f.field === 1) {
      out.typeUrlStart = f.start;
      out.typeUrlEnd = f.end;
      haveType = true;
    } else {
      out.valueStart = f.start;
      out.valueEnd = f.end;
    }
  }
  return haveType;
}
