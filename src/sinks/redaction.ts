/**
 * --redact: client ids, usernames and peer addresses out of log records, for deployments under
 * privacy rules. Either dropped, or replaced by a keyed hash (HMAC-SHA-256, 128 bits, base64url):
 * the same value always gives the same hash, so records of one client stay joinable, but without
 * the key a hash cannot be reversed by hashing a dictionary of likely client ids (an unkeyed
 * hash of "sensor-0001" could). With no --redact-key a random key is drawn at start: hashes are
 * then joinable within one run only. Metrics never carry these values in the first place.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const REDACT_FIELDS = ['client_id', 'username', 'peer'] as const;
export type RedactField = (typeof REDACT_FIELDS)[number];
export type RedactMode = 'drop' | 'hash';

export interface RedactOptions {
  fields: readonly RedactField[];
  mode: RedactMode;
  /** HMAC key; undefined: a random one per process. */
  key: string | undefined;
}

export class Redactor {
  readonly clientId: boolean;
  readonly username: boolean;
  readonly peer: boolean;
  private readonly key: Buffer;

  constructor(private readonly options: RedactOptions) {
    this.clientId = options.fields.includes('client_id');
    this.username = options.fields.includes('username');
    this.peer = options.fields.includes('peer');
    this.key = options.key !== undefined && options.key !== '' ? Buffer.from(options.key, 'utf8') : randomBytes(32);
  }

  /** The value as it may appear in a record: a hash, or '' when dropped (and for ''). */
  apply(v: string): string {
    if (v === '' || this.options.mode === 'drop') return '';
    return 'h:' + createHmac('sha256', this.key).update(v, 'utf8').digest().subarray(0, 16).toString('base64url');
  }
}
