/**
 * The plainest bundle.yaml read line by line: block mappings and sequences, one-line plain or quoted
 * scalars, comments. This is the shape `init`, the templates and generated bundles have, and a large
 * bundle of that shape is read much faster than through the yaml package's lexer and parser. Anything
 * else — flow collections, anchors, tags, block or multi-line scalars, escapes, numbers other than
 * plain decimals, document markers, odd indentation, duplicate or special keys — answers undefined
 * and yaml-value.ts reads it with the yaml package, which also words every error. What this answers
 * equals `parseDocument(text).toJS()` (test/bundle/yaml-value.test.ts compares them on the templates
 * and thousands of mutated documents).
 */

interface Line {
  indent: number;
  text: string;
}

class Decline extends Error {}

function decline(): never {
  throw new Decline();
}

/** `{ value }` when the text has the plainest form, else undefined. */
export function lineYamlValue(text: string): { value: unknown } | undefined {
  if (/[\t\r\uFEFF]/.test(text)) return undefined;
  const lines = contentLines(text);
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  try {
    const reader = new LineReader(lines);
    const value = reader.block(0);
    if (!reader.done()) return undefined;
    return { value };
  } catch (e) {
    if (e instanceof Decline) return undefined;
    throw e;
  }
}

/** Lines that hold more than white space or a comment, with their indentation. */
function contentLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let indent = start;
    while (indent < end && text.charCodeAt(indent) === 32) indent++;
    if (indent < end && text.charCodeAt(indent) !== 35 /* # */)
      out.push({ indent: indent - start, text: text.slice(indent, end) });
    start = end + 1;
  }
  return out;
}

const SEQ_ITEM = /^-(?: +|$)/;
/** `key:` then a space or the end: the key plain (letters first, no `:`), or quoted without escapes. */
const MAP_KEY =
  /^(?:([A-Za-z_][\w./-]*)|"([^"\\\x00-\x1f\x7f-\x9f\u2028\u2029]*)"|'([^'\x00-\x1f\x7f-\x9f\u2028\u2029]*)') *:(?: +|$)/;
/** A plain value that cannot be anything but a string: no indicator first, no `: `, ` #` or `:` last. */
const PLAIN_STRING = /^[A-Za-z_/$][^\x00-\x1f\x7f-\x9f\u2028\u2029#'"]*$/;
const DECIMAL = /^[0-9]{1,15}$/;
/** The core schema's plain scalars that are not strings, among those PLAIN_STRING lets through. */
const SPECIAL: Record<string, unknown> = {
  null: null,
  Null: null,
  NULL: null,
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
};

class LineReader {
  private at = 0;
  /** A mapping that starts mid-line, after `- `: its first key's line and column. */
  private pending: Line | undefined;

  constructor(private readonly lines: readonly Line[]) {}

  done(): boolean {
    return this.at >= this.lines.length && this.pending === undefined;
  }

  private peek(): Line | undefined {
    return this.pending ?? this.lines[this.at];
  }

  private take(): void {
    if (this.pending) this.pending = undefined;
    else this.at++;
  }

  /** The block (mapping or sequence) whose first line is next, at `indent`. */
  block(indent: number): unknown {
    const line = this.peek()!;
    return SEQ_ITEM.test(line.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.peek(); line && line.indent >= indent; line = this.peek()) {
      if (line.indent !== indent) decline();
      const m = MAP_KEY.exec(line.text);
      if (!m) decline();
      const key = m[1] ?? m[2] ?? m[3]!;
      if (m[1] !== undefined && key in SPECIAL) decline();
      if (key.length > 1000 || key === '__proto__' || key === '<<' || Object.hasOwn(out, key)) decline();
      const rest = line.text.slice(m[0].length);
      this.take();
      out[key] = rest === '' || rest.startsWith('#') ? this.nested(indent, true) : this.scalar(rest, indent);
    }
    return out;
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.peek(); line && line.indent >= indent; line = this.peek()) {
      if (line.indent !== indent) decline();
      const m = SEQ_ITEM.exec(line.text);
      if (!m) break; // a key of the mapping this compact sequence is the value of
      const rest = line.text.slice(m[0].length);
      this.take();
      if (rest === '' || rest.startsWith('#')) out.push(this.nested(indent, false));
      else if (MAP_KEY.test(rest)) {
        const inner = indent + m[0].length;
        this.pending = { indent: inner, text: rest };
        out.push(this.mapping(inner));
      } else out.push(this.scalar(rest, indent));
    }
    return out;
  }

  /** What follows `key:` or `-` with nothing after it: a deeper block, a compact sequence, or null. */
  private nested(indent: number, underKey: boolean): unknown {
    const next = this.peek();
    if (next && next.indent > indent) return this.block(next.indent);
    if (next && underKey && next.indent === indent && SEQ_ITEM.test(next.text)) return this.sequence(indent);
    return null;
  }

  /** A one-line scalar value (a deeper line after it would continue it: declined). */
  private scalar(source: string, indent: number): unknown {
    const next = this.peek();
    if (next && next.indent > indent) decline();
    const quote = source.charCodeAt(0);
    if (quote === 34 /* " */ || quote === 39 /* ' */) {
      const close = source.indexOf(source[0]!, 1);
      if (close < 0) decline();
      const body = source.slice(1, close);
      if (/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(body) || (quote === 34 && body.includes('\\'))) decline();
      const after = source.slice(close + 1);
      if (after !== '' && !/^ +(?:#.*)?$/.test(after)) decline();
      return body;
    }
    const hash = source.indexOf(' #');
    const plain = (hash < 0 ? source : source.slice(0, hash)).trimEnd();
    if (DECIMAL.test(plain)) return Number(plain);
    if (!PLAIN_STRING.test(plain) || plain.includes(': ') || plain.endsWith(':')) decline();
    return plain in SPECIAL ? SPECIAL[plain] : plain;
  }
}
