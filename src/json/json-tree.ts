/**
 * A small strict JSON reader that keeps every object member in order, duplicates included, so that
 * the payload and policy rules of each verifier can be applied exactly (containers/image rejects
 * duplicate keys anywhere; serde refuses a repeated struct field and keeps the last entry of a map, see
 * serde-read.ts). Errors keep Go's encoding/json wording of the problem, and serde_json's beside it,
 * but never quote a character of the text: Go's `invalid character 'S' …` would print the first letter of a
 * password file given where a policy was meant. The position (line and column) says where instead.
 *
 * Hand-written for correctness, not speed: JSON.parse silently keeps the last of duplicate keys and
 * words errors its own way, so with it the verifier could not tell a payload the host refuses from
 * one the guest accepts, nor repeat either side's message.
 */
export type JsonNode =
  | { kind: 'object'; entries: Array<[string, JsonNode]> }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; raw: string; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' };

export class JsonSyntaxError extends Error {
  /** serde_json's wording of the same problem, with its line and column. */
  readonly serdeText: string;
  /** `goText(line, column)` is Go's message for the problem, told where instead of which character. */
  constructor(goText: (line: number, column: number) => string, serdeProblem: string, text: string, offset: number) {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    super(goText(line, column));
    this.serdeText = `${serdeProblem} at line ${line} column ${column}`;
  }
}

const END_OF_INPUT = 'unexpected end of JSON input';
const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseJsonTree(text: string): JsonNode {
  let i = 0;
  const ch = (): string => text[i] ?? '';
  const skipWs = () => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  const invalid = (where: string, serde = 'expected value'): never => {
    if (i >= text.length) throw new JsonSyntaxError(() => END_OF_INPUT, 'EOF while parsing a value', text, i);
    throw new JsonSyntaxError((l, c) => `invalid character at line ${l}, column ${c} ${where}`, serde, text, i);
  };
  const expectLiteral = (word: string, node: JsonNode): JsonNode => {
    for (const c of word) {
      if (ch() !== c) invalid(`in literal ${word}`);
      i++;
    }
    return node;
  };
  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) throw new JsonSyntaxError(() => END_OF_INPUT, 'EOF while parsing a string', text, i);
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          i++;
          invalid('in string escape code');
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) invalid('in string literal');
      // Copy the run of plain characters up to the next quote, backslash or control character at once.
      let j = i + 1;
      while (j < text.length) {
        const code = text.charCodeAt(j);
        if (code === 0x22 || code === 0x5c || code < 0x20) break;
        j++;
      }
      out += text.slice(i, j);
      i = j;
    }
  };
  const parseValue = (): JsonNode => {
    skipWs();
    const c = ch();
    if (c === '{') {
      i++;
      const entries: Array<[string, JsonNode]> = [];
      skipWs();
      if (ch() === '}') {
        i++;
        return { kind: 'object', entries };
      }
      for (;;) {
        skipWs();
        if (ch() !== '"') invalid('looking for beginning of object key string', 'key must be a string');
        const key = parseString();
        skipWs();
        if (ch() !== ':') invalid('after object key', 'expected `:`');
        i++;
        entries.push([key, parseValue()]);
        skipWs();
        if (ch() === ',') {
          i++;
          continue;
        }
        if (ch() === '}') {
          i++;
          return { kind: 'object', entries };
        }
        invalid('after object key:value pair', 'expected `,` or `}`');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      skipWs();
      if (ch() === ']') {
        i++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(parseValue());
        skipWs();
        if (ch() === ',') {
          i++;
          continue;
        }
        if (ch() === ']') {
          i++;
          return { kind: 'array', items };
        }
        invalid('after array element', 'expected `,` or `]`');
      }
    }
    if (c === '"') return { kind: 'string', value: parseString() };
    if (c === 't') return expectLiteral('true', { kind: 'bool', value: true });
    if (c === 'f') return expectLiteral('false', { kind: 'bool', value: false });
    if (c === 'n') return expectLiteral('null', { kind: 'null' });
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0] !== '-') {
      i += m[0].length;
      return { kind: 'number', raw: m[0], value: Number(m[0]) };
    }
    return invalid('looking for beginning of value');
  };
  const root = parseValue();
  skipWs();
  if (i < text.length) invalid('after top-level value', 'trailing characters');
  return root;
}

/** Go's `%#v`-ish / serde-ish name of a node's kind, for type errors. */
export function describeKind(node: JsonNode): string {
  switch (node.kind) {
    case 'object':
      return 'object';
    case 'array':
      return 'array';
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'bool':
      return 'bool';
    case 'null':
      return 'null';
  }
}
