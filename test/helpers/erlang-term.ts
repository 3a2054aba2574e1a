/**
 * Reads one Erlang term the way the fork reads its list settings: vmq_schema_util:parse_list/1
 * is erl_scan:string/1 then erl_parse:parse_term/1 (a dot added when missing), so the whole
 * value must be exactly one term. `on_register,on_publish` is two terms: parse_term answers
 * {error, ...}, the `{ok, Result} =` match fails, and the schema validator crashes ("bad term").
 *
 * Covers the term syntax the broker settings use: atoms (bare and quoted), strings, integers,
 * tuples and proper lists. Anything else is refused with the reason, so a setting that needs
 * more syntax fails here first and the reader extends this deliberately.
 */
export type ErlTerm =
  | { type: 'atom'; name: string }
  | { type: 'string'; value: string }
  | { type: 'integer'; value: number }
  | { type: 'tuple'; items: ErlTerm[] }
  | { type: 'list'; items: ErlTerm[] };

export class ErlangSyntaxError extends Error {}

export function parseErlangTerm(text: string): ErlTerm {
  let i = 0;
  const s = text;
  const fail = (why: string): never => {
    throw new ErlangSyntaxError(`bad term: ${why} at offset ${i} of ${JSON.stringify(text)}`);
  };
  const skip = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const term = (): ErlTerm => {
    skip();
    const c = s[i];
    if (c === undefined) return fail('end of input where a term was expected');
    if (c === '[' || c === '{') {
      const close = c === '[' ? ']' : '}';
      i++;
      const items: ErlTerm[] = [];
      skip();
      if (s[i] === close) {
        i++;
        return c === '[' ? { type: 'list', items } : { type: 'tuple', items };
      }
      for (;;) {
        items.push(term());
        skip();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === close) {
          i++;
          return c === '[' ? { type: 'list', items } : { type: 'tuple', items };
        }
        return fail(`expected "," or "${close}"`);
      }
    }
    if (c === '"') {
      i++;
      let value = '';
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\') i++;
        value += s[i++] ?? '';
      }
      if (s[i] !== '"') return fail('unterminated string');
      i++;
      return { type: 'string', value };
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return fail('unterminated quoted atom');
      const name = s.slice(i + 1, end);
      i = end + 1;
      return { type: 'atom', name };
    }
    const num = /^-?\d+/.exec(s.slice(i));
    if (num) {
      i += num[0].length;
      if (/^[.#eE]\d/.test(s.slice(i))) return fail('only integers are read here');
      return { type: 'integer', value: Number(num[0]) };
    }
    const atom = /^[a-z][A-Za-z0-9_@]*/.exec(s.slice(i));
    if (atom) {
      i += atom[0].length;
      return { type: 'atom', name: atom[0] };
    }
    return fail(`unexpected ${JSON.stringify(c)}`);
  };
  const t = term();
  skip();
  if (s[i] === '.') {
    i++;
    skip();
  }
  if (i < s.length) fail('more than one term');
  return t;
}

/** The term's items when it is a list, else a reason. */
export function asList(t: ErlTerm): ErlTerm[] {
  if (t.type !== 'list') throw new ErlangSyntaxError(`not a list but a ${t.type}`);
  return t.items;
}

/** The value of {Key, Value} in a proplist, undefined when absent. */
export function propValue(list: ErlTerm[], key: string): ErlTerm | undefined {
  for (const item of list) {
    if (item.type === 'tuple' && item.items.length === 2 && item.items[0]!.type === 'atom' && item.items[0]!.name === key) return item.items[1];
  }
  return undefined;
}
