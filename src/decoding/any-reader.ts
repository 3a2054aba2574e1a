/**
 * Reads a serialized google.protobuf.Any (type_url = 1, value = 2) in place.
 *
 * Generic protobuf decoding of the envelope would allocate an object, a string and a buffer
 * view per frame only to look at two byte ranges; this reader records the ranges instead.
 */

export class AnyView {
  typeUrlStart = 0;
  typeUrlEnd = 0;
  valueStart = 0;
  valueEnd = 0;
}

/**
 * Fills `out` with the byte ranges of the Any in buf[start, end).
 * Returns false when the bytes are not a well-formed Any with a type_url.
 */
export function readAny(buf: Buffer, start: number, end: number, out: AnyView): boolean {
  let pos = start;
  let haveType = false;
  out.valueStart = 0;
  out.valueEnd = 0;
  while (pos < end) {
    // Tag: field numbers 1 and 2 fit in one byte, anything else is an unknown field to skip.
    // (A running scale, not 2 ** shift: the power is a floating-point call per byte.)
    let tag = 0;
    let scale = 1;
    let b: number;
    do {
      if (pos >= end || scale > 2 ** 28) return false;
      b = buf[pos++]!;
      tag += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    const wireType = tag % 8;
    const field = (tag - wireType) / 8;
    if (field === 0) return false;
    switch (wireType) {
      case 0: // varint
        do {
          if (pos >= end) return false;
          b = buf[pos++]!;
        } while (b & 0x80);
        if (field === 1 || field === 2) return false;
        break;
      case 1: // fixed64
        pos += 8;
        if (pos > end || field === 1 || field === 2) return false;
        break;
      case 5: // fixed32
        pos += 4;
        if (pos > end || field === 1 || field === 2) return false;
        break;
      case 2: {
        let len = 0;
        scale = 1;
        do {
          if (pos >= end || scale > 2 ** 28) return false;
          b = buf[pos++]!;
          len += (b & 0x7f) * scale;
          scale *= 128;
        } while (b & 0x80);
        const fieldEnd = pos + len;
        if (fieldEnd > end) return false;
        if (field === 1) {
          out.typeUrlStart = pos;
          out.typeUrlEnd = fieldEnd;
          haveType = true;
        } else if (field === 2) {
          out.valueStart = pos;
          out.valueEnd = fieldEnd;
        }
        pos = fieldEnd;
        break;
      }
      default: // groups (3, 4) and invalid wire types never appear in an Any
        return false;
    }
  }
  return haveType;
}
