/** `WWW-Authenticate` parsing (RFC 7235: challenges with auth-params, quoted strings), as registries send it. */

export interface Challenge {
  /** Lowercased: 'bearer', 'basic'. */
  scheme: string;
  /** Parameter names lowercased: realm, service, scope, error. */
  params: Record<string, string>;
}

const TOKEN = /[A-Za-z0-9!#$%&'*+.^_`|~-]+/y;

/** Parses a header holding one or more challenges: `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i] ?? '')) i++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  const quoted = (): string => {
    let value = '';
    i++; // opening quote
    while (i < header.length && header[i] !== '"') {
      if (header[i] === '\\') i++;
      value += header[i] ?? '';
      i++;
    }
    i++; // closing quote
    return value;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const name = token();
    if (name === undefined) break;
    skip(/[ \t]/);
    if (header[i] === '=' && out.length > 0) {
      // auth-param of the current challenge
      i++;
      skip(/[ \t]/);
      const value = header[i] === '"' ? quoted() : (token() ?? '');
      const current = out[out.length - 1];
      if (current) current.params[name.toLowerCase()] = value;
    } else {
      out.push({ scheme: name.toLowerCase(), params: {} });
    }
  }
  return out;
}
