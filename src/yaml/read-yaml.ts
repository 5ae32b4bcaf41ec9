/**
 * YAML files a user or a KBS hands over (bundle.yaml, the sigstore config), read with the yaml
 * package and refused when they are more than plain data:
 *  - any error of the yaml package (duplicate keys, a second document, …) refuses the file, and so,
 *    when asked (bundle.yaml), does any warning (a `%YAML 2.0` directive, an unknown local tag such
 *    as `!foo`, which the yaml package would otherwise read as a plain string);
 *  - aliases are limited (an alias bomb expands to millions of nodes) and so is nesting depth;
 *  - problems name a line and column, never quote the text: a file may hold secrets, so the yaml
 *    package's messages are used without its code frame.
 */
import { promises as fs } from 'node:fs';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { InputError } from '../errors.js';

/** Far above any real bundle.yaml or sigstore config (a 1,000-scope bundle is ≈ 100 KiB). */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;
export const MAX_YAML_DEPTH = 64;
const MAX_ALIAS_COUNT = 100;

export type YamlRead = { ok: true; value: unknown } | { ok: false; problem: string; line?: number; column?: number };

/** The value of a one-document YAML text, or its first problem. */
export function readYaml(text: string, options: { refuseWarnings?: boolean } = {}): YamlRead {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  const first: YAMLError | undefined = doc.errors[0] ?? (options.refuseWarnings ? doc.warnings[0] : undefined);
  if (first) {
    const { line, col } = lines.linePos(first.pos[0]);
    const kind = doc.errors.length > 0 && first.code !== 'RESOURCE_EXHAUSTION' ? 'malformed' : 'unsupported';
    return { ok: false, problem: `${kind} YAML: ${problemOf(first)}`, line, column: col };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    return {
      ok: false,
      problem: /Excessive alias count/.test(e.message)
        ? `unsupported YAML: aliases expand to too many nodes (an alias bomb)`
        : `malformed YAML: ${e.message}`,
    };
  }
  if (depthOf(value) > MAX_YAML_DEPTH)
    return { ok: false, problem: `unsupported YAML: nested more than ${MAX_YAML_DEPTH} levels deep` };
  return { ok: true, value };
}

/** `line L, column C: problem`, or the problem alone. */
export function describeYamlProblem(read: Extract<YamlRead, { ok: false }>): string {
  return read.line !== undefined ? `line ${read.line}, column ${read.column}: ${read.problem}` : read.problem;
}

function problemOf(error: YAMLError): string {
  if (error.code === 'RESOURCE_EXHAUSTION') return `nested more than ${MAX_YAML_DEPTH} levels deep`;
  if (error.code === 'TAG_RESOLVE_FAILED') return `${error.message} (only the core schema's tags are read)`;
  return error.message;
}

/** Nesting depth of plain data (objects and arrays), without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) max = depth + 1;
    if (max > MAX_YAML_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * The text of a YAML file, at most MAX_YAML_BYTES of it read; `what` names the kind of file in the
 * messages (`bundle file`, `sigstore config`).
 */
export async function readYamlFile(file: string, what: string, notFound = 'file not found'): Promise<string> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      'E_FILE_NOT_FOUND',
      { file },
      code === 'ENOENT' ? notFound : `cannot be read (${code ?? 'error'})`,
    );
  }
  try {
    const bytes = Buffer.allocUnsafe(MAX_YAML_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(bytes, length, bytes.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_YAML_BYTES) throw tooLarge(file, what);
    }
    return bytes.toString('utf8', 0, length);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError('E_FILE_NOT_FOUND', { file }, `cannot be read (${code ?? 'error'})`);
  } finally {
    await handle.close();
  }
}

export function tooLarge(file: string, what: string): InputError {
  return new InputError('E_TOO_LARGE', { file }, `is larger than ${MAX_YAML_BYTES / 1024 / 1024} MiB; not a ${what}`);
}
