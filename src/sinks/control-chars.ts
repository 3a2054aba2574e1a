/**
 * Control characters in human-readable lines. A client id, username or topic is chosen by the
 * client; printed raw, a "\n" in it would forge a line on stdout and an ESC would drive the
 * reader's terminal. Escaped, every line printed stays one line that says what was received.
 */

/** C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** True when s holds a character escapeControl would change. */
export function hasControl(s: string): boolean {
  return CONTROL.test(s);
}

/** s with every control character written as \n, \r, \t, \xHH or \uHHHH; s itself when it has none. */
export function escapeControl(s: string): string {
  return CONTROL.test(s) ? s.replace(CONTROL_ALL, escapeOne) : s;
}
