/**
 * An independent encoder: Debian's protoc turns text-format messages into binary, so the
 * sidecar's decoding is checked against an implementation other than protobufjs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROTO_DIR } from '../../src/decoding/proto-schema.js';

export const SEED_PROTO_DIR = fileURLToPath(new URL('../../../test/fixtures/seed-proto/', import.meta.url));
const SYSTEM_INCLUDE = '/usr/include';

export function protocAvailable(): boolean {
  try {
    execFileSync('protoc', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function protoFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.proto'));
}

/** Compiles every .proto file of a directory; throws with protoc's message on failure. */
export function protocCompile(dir: string = PROTO_DIR): void {
  execFileSync('protoc', ['-I', dir, '-I', SYSTEM_INCLUDE, '--descriptor_set_out=/dev/null', ...protoFiles(dir)], {
    cwd: dir,
    stdio: 'pipe',
  });
}

/**
 * Encodes a google.protobuf.Any given in text format, e.g.
 * `[type.googleapis.com/eventssidecar.v1.OnPublish] { client_id: "c" }`, with the message
 * types of `dir` known to protoc.
 */
export function protocEncodeAny(text: string, dir: string = PROTO_DIR): Buffer {
  return execFileSync(
    'protoc',
    ['-I', dir, '-I', SYSTEM_INCLUDE, '--encode=google.protobuf.Any', 'google/protobuf/any.proto', ...protoFiles(dir)],
    { cwd: dir, input: text, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
}

export function lengthPrefixed(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function quote(v: string | Uint8Array): string {
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
  let out = '"';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
  return out + '"';
}

/** Renders an encoder-shaped object (camelCase fields) as protobuf text format. */
export function toTextFormat(obj: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'hook' || value === null || value === undefined) continue;
    const name = snake(key);
    if (Array.isArray(value)) {
      for (const v of value) parts.push(typeof v === 'object' ? `${name} { ${toTextFormat(v as Record<string, unknown>)} }` : `${name}: ${quote(String(v))}`);
    } else if (value instanceof Uint8Array) {
      parts.push(`${name}: ${quote(value)}`);
    } else if (typeof value === 'object') {
      if (key === 'userProperties') {
        for (const [k, v] of Object.entries(value as Record<string, string>)) parts.push(`${name} { key: ${quote(k)} value: ${quote(v)} }`);
      } else {
        parts.push(`${name} { ${toTextFormat(value as Record<string, unknown>)} }`);
      }
    } else if (typeof value === 'string') {
      parts.push(`${name}: ${quote(value)}`);
    } else {
      // Numbers, booleans, and enums (text format accepts an enum's number).
      parts.push(`${name}: ${String(value)}`);
    }
  }
  return parts.join(' ');
}
