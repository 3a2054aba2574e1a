/**
 * URLs as they may appear in a log line or /status: a password or token in a URL (userinfo, or
 * a query parameter such as ?token=) is a credential, and log lines end up in places with
 * weaker access control than the secret store. The user name is masked too: with basic auth it
 * is half the credential.
 */

/** Query parameters whose value is masked: names that usually carry a credential. */
const SENSITIVE_PARAM = /token|key|secret|passw|pwd|auth|sig|credential|session|cookie|bearer/i;

export function maskUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '(unparsable URL)';
  }
  if (u.username !== '') u.username = '***';
  if (u.password !== '') u.password = '***';
  for (const name of [...u.searchParams.keys()]) {
    if (SENSITIVE_PARAM.test(name)) u.searchParams.set(name, '***');
  }
  return u.href;
}

/**
 * The URL without userinfo, and the userinfo as an Authorization header: fetch() refuses URLs
 * with credentials, so http://user:pass@host/ is sent as basic auth instead.
 */
export function splitCredentials(raw: string): { url: string; authorization: string | undefined } {
  const u = new URL(raw);
  if (u.username === '' && u.password === '') return { url: u.href, authorization: undefined };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}
