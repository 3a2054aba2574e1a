/**
 * Loads the event schema from proto/ into protobufjs, once per process.
 */
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { HOOKS, MESSAGE_NAMES, MQTT311_ONLY_HOOKS, MQTT5_HOOKS, type HookName, type ProtocolVersion } from '../events/event-types.js';

/** proto/ at the package root (this file is dist/src/decoding/ once compiled). */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

export const PROTO_PACKAGE = 'eventssidecar.v1';
/** The companion plugin's messages (proto/mqtt5/, plugin/vmq_events_sidecar_m5/). */
export const MQTT5_PROTO_PACKAGE = 'vmq_otel_sidecar.mqtt5.v1';

export interface EventSchema {
  root: protobuf.Root;
  /** Message type for each hook, by HOOKS index. */
  types: protobuf.Type[];
  /** The companion's message type for each hook it reports, by HOOKS index (undefined: none). */
  mqtt5Types: (protobuf.Type | undefined)[];
}

let cached: EventSchema | undefined;

export function loadEventSchema(protoDir: string = PROTO_DIR): EventSchema {
  if (cached && protoDir === PROTO_DIR) return cached;
  const protoFiles = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.proto'))
      .map((f) => path.join(dir, f));
  const mqtt5Dir = path.join(protoDir, 'mqtt5');
  const files = [...protoFiles(protoDir), ...(existsSync(mqtt5Dir) ? protoFiles(mqtt5Dir) : [])];
  const root = new protobuf.Root();
  // Imports in the plugin's files are bare names ("matched_acl.proto"), resolved against proto/.
  root.resolvePath = (_origin, target) => {
    if (target.startsWith('google/protobuf/')) return target;
    return path.isAbsolute(target) ? target : path.join(protoDir, target);
  };
  root.loadSync(files, { keepCase: false });
  root.resolveAll();
  const types = HOOKS.map((h: HookName, i) => {
    const type = root.lookupType(`${PROTO_PACKAGE}.${MESSAGE_NAMES[h]}`);
    type.ctor = eventConstructor(type, h, i, MQTT311_ONLY_HOOKS.includes(h) ? '3.1.1' : '');
    return type;
  });
  const mqtt5Types = HOOKS.map((h: HookName, i) => {
    if (!(MQTT5_HOOKS as readonly HookName[]).includes(h)) return undefined;
    const type = root.lookup(`${MQTT5_PROTO_PACKAGE}.${MESSAGE_NAMES[h]}`);
    if (!(type instanceof protobuf.Type)) return undefined;
    type.ctor = eventConstructor(type, h, i, '5');
    return type;
  });
  const schema = { root, types, mqtt5Types };
  if (protoDir === PROTO_DIR) cached = schema;
  return schema;
}

/** Properties the event decoder sets on every decoded message, beyond the proto fields. */
const EVENT_EXTRAS = ['hook', 'hookIndex', 'timeSec', 'timeNanos', 'timeMissing', 'reasonName', 'truncatedItems', 'protocolVersion'] as const;

/**
 * A constructor that creates every property of the event (proto fields with their defaults,
 * then the decoder's extras) in one fixed order. Each event type then has one stable object
 * shape, instead of a shape per combination of fields present on the wire plus transitions
 * when the decoder adds its properties, which keeps property access on the hot path fast.
 */
function eventConstructor(type: protobuf.Type, hook: HookName, hookIndex: number, protocolVersion: ProtocolVersion): protobuf.Constructor<object> {
  const defaults: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const name = JSON.stringify(field.name);
    if (field.map) lines.push(`this[${name}] = {};`);
    else if (field.repeated) lines.push(`this[${name}] = [];`);
    else {
      defaults[field.name] = field.defaultValue ?? null;
      lines.push(`this[${name}] = d[${name}];`);
    }
  }
  for (const extra of EVENT_EXTRAS) lines.push(`this.${extra} = x.${extra};`);
  // protocolVersion is the type's: constant, so the decoder never writes it.
  const extras = { hook, hookIndex, timeSec: 0, timeNanos: 0, timeMissing: false, reasonName: '', truncatedItems: 0, protocolVersion };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('d', 'x', `return function ${type.name}(p) { ${lines.join(' ')} if (p) Object.assign(this, p); };`);
  return make(defaults, extras) as protobuf.Constructor<object>;
}
