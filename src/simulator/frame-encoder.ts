/**
 * Encodes events the way the plugin does: the event message inside a google.protobuf.Any,
 * behind a 4-byte big-endian length.
 */
import protobuf from 'protobufjs';
import { loadEventSchema } from '../decoding/proto-schema.js';
import { HOOKS, MESSAGE_NAMES, MQTT5_TYPE_URL_PREFIX, TYPE_URL_PREFIX, type HookName } from '../events/event-types.js';
import type { SimEvent } from './client-model.js';

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function typeUrlField(typeUrl: string): Buffer {
  const url = Buffer.from(typeUrl, 'latin1');
  const field = Buffer.alloc(1 + varintLength(url.length) + url.length);
  field[0] = 0x0a;
  url.copy(field, writeVarint(field, 1, url.length));
  return field;
}

export class FrameEncoder {
  private readonly types: protobuf.Type[];
  /** The companion plugin's types (proto/mqtt5/), by hook index; undefined where it has none. */
  private readonly mqtt5Types: (protobuf.Type | undefined)[];
  /** Per hook: the Any's type_url field, already encoded (tag, length, bytes). */
  private readonly typeUrlFields: Buffer[];
  private readonly mqtt5TypeUrlFields: Buffer[];
  private readonly hookIndex = new Map<HookName, number>(HOOKS.map((h, i) => [h, i]));

  constructor() {
    const schema = loadEventSchema();
    this.types = schema.types;
    this.mqtt5Types = schema.mqtt5Types;
    this.typeUrlFields = HOOKS.map((h) => typeUrlField(TYPE_URL_PREFIX + MESSAGE_NAMES[h]));
    this.mqtt5TypeUrlFields = HOOKS.map((h) => typeUrlField(MQTT5_TYPE_URL_PREFIX + MESSAGE_NAMES[h]));
  }

  /**
   * A frame as the companion plugin vmq_events_sidecar_m5 sends it for an MQTT 5 session (its
   * message of the hook's name in proto/mqtt5/). Throws for a hook it does not report.
   */
  encodeMqtt5Frame(event: SimEvent | Record<string, unknown>): Buffer {
    const idx = this.hookIndex.get(event.hook as HookName)!;
    const type = this.mqtt5Types[idx];
    if (type === undefined) throw new Error(`the companion reports no ${String(event.hook)}`);
    return FrameEncoder.frame(this.mqtt5TypeUrlFields[idx]!, type.encode(event as unknown as protobuf.Message).finish());
  }

  /** The serialized event message alone (the Any's value). */
  encodeMessage(event: SimEvent): Uint8Array {
    const idx = this.hookIndex.get(event.hook)!;
    return this.types[idx]!.encode(event as unknown as protobuf.Message).finish();
  }

  /** A complete frame: length prefix + Any(type_url, value); the companion's for events marked `mqtt5: true`. */
  encodeFrame(event: SimEvent): Buffer {
    if (event.mqtt5 === true) return this.encodeMqtt5Frame(event);
    const idx = this.hookIndex.get(event.hook)!;
    return FrameEncoder.frame(this.typeUrlFields[idx]!, this.encodeMessage(event));
  }

  /** Wraps an already-encoded Any type_url field and value into a frame. */
  static frame(typeUrlField: Buffer, value: Uint8Array): Buffer {
    const anyLen = typeUrlField.length + 1 + varintLength(value.length) + value.length;
    const frame = Buffer.allocUnsafe(4 + anyLen);
    frame.writeUInt32BE(anyLen, 0);
    typeUrlField.copy(frame, 4);
    let pos = 4 + typeUrlField.length;
    frame[pos++] = 0x12;
    pos = writeVarint(frame, pos, value.length);
    frame.set(value, pos);
    return frame;
  }

  /** A frame for an arbitrary type_url (tests use it for unknown types). */
  static frameWithTypeUrl(typeUrl: string, value: Uint8Array): Buffer {
    const url = Buffer.from(typeUrl, 'latin1');
    const field = Buffer.alloc(1 + varintLength(url.length) + url.length);
    field[0] = 0x0a;
    url.copy(field, writeVarint(field, 1, url.length));
    return FrameEncoder.frame(field, value);
  }
}
