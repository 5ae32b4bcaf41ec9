/**
 * `JSON.stringify(value, null, 2) + '\n'` as UTF-8 bytes, without the one big string.
 *
 * A policy with many scopes is megabytes, almost all of it the same base64 keyData repeated. Building
 * it as one string and encoding that is slow (V8 assembles a large JSON.stringify result from parts,
 * and the first read of it copies them together); here the structure is written
 * as small strings and every long string value is encoded once and its bytes reused. Plain data
 * only (objects with Object or null prototype, arrays, strings, finite or not numbers, booleans,
 * null, undefined members): anything else — toJSON, other classes, bigint, deep or cyclic nesting —
 * goes through JSON.stringify itself, so the bytes (or the error) are always JSON.stringify's.
 * test/kbs/pretty-json.test.ts compares the two.
 */

const LONG = 256;
const MAX_DEPTH = 64;

class NotPlain extends Error {}

export function prettyJsonBytes(value: unknown): Buffer {
  const chunks = prettyJsonChunks(value);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * The same bytes as a list of chunks, in order; a long string repeated is the same Buffer each time,
 * so a caller that writes the chunks (writev) never holds the whole document in memory.
 */
export function prettyJsonChunks(value: unknown): Buffer[] {
  try {
    return new PrettyJson().document(value);
  } catch (e) {
    if (!(e instanceof NotPlain)) throw e;
    return [Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8')];
  }
}

class PrettyJson {
  private readonly chunks: Buffer[] = [];
  private pending = '';
  private readonly encoded = new Map<string, Buffer>();

  document(value: unknown): Buffer[] {
    if (!this.value(value, '', 0)) throw new NotPlain(); // JSON.stringify(undefined) is not a document
    this.pending += '\n';
    this.flush();
    return this.chunks;
  }

  private flush(): void {
    if (this.pending !== '') this.chunks.push(Buffer.from(this.pending, 'utf8'));
    this.pending = '';
  }

  /** Writes `value`; false (nothing written) where JSON.stringify omits it (undefined, functions, symbols). */
  private value(value: unknown, indent: string, depth: number): boolean {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return true;
      case 'number':
        this.pending += Number.isFinite(value) ? String(value) : 'null';
        return true;
      case 'boolean':
        this.pending += value ? 'true' : 'false';
        return true;
      case 'undefined':
      case 'function':
      case 'symbol':
        return false;
      case 'object':
        if (value === null) {
          this.pending += 'null';
          return true;
        }
        if (depth >= MAX_DEPTH) throw new NotPlain();
        if (Array.isArray(value)) this.array(value, indent, depth);
        else this.object(value, indent, depth);
        return true;
      default:
        throw new NotPlain(); // bigint
    }
  }

  private string(s: string): void {
    if (s.length < LONG) {
      this.pending += JSON.stringify(s);
      return;
    }
    let bytes = this.encoded.get(s);
    if (!bytes) {
      bytes = Buffer.from(JSON.stringify(s), 'utf8');
      this.encoded.set(s, bytes);
    }
    this.flush();
    this.chunks.push(bytes);
  }

  private array(list: readonly unknown[], indent: string, depth: number): void {
    if (Object.getPrototypeOf(list) !== Array.prototype || 'toJSON' in list) throw new NotPlain();
    if (list.length === 0) {
      this.pending += '[]';
      return;
    }
    const inner = `${indent}  `;
    this.pending += '[\n';
    for (let i = 0; i < list.length; i++) {
      this.pending += inner;
      if (!this.value(list[i], inner, depth + 1)) this.pending += 'null';
      this.pending += i < list.length - 1 ? ',\n' : '\n';
    }
    this.pending += `${indent}]`;
  }

  private object(obj: object, indent: string, depth: number): void {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if ((proto !== Object.prototype && proto !== null) || 'toJSON' in obj) throw new NotPlain();
    const inner = `${indent}  `;
    let first = true;
    for (const key of Object.keys(obj)) {
      const v = (obj as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      this.pending += `${first ? '{\n' : ',\n'}${inner}${JSON.stringify(key)}: `;
      first = false;
      this.value(v, inner, depth + 1);
    }
    this.pending += first ? '{}' : `\n${indent}}`;
  }
}
