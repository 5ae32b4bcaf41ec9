/**
 * YAML files a user or a KBS hands over (bundle.yaml, the sigstore config), read with js-yaml
 * (YAML 1.2, core schema) and refused when they are more than plain data:
 *  - any error of js-yaml refuses the file: duplicate keys, a second document, a `%YAML 2.0`
 *    directive, a tag outside the core schema (`!foo`, which would otherwise become a string);
 *  - nesting depth is limited, and so is what aliases expand to: js-yaml shares an aliased node
 *    instead of copying it, but everything that walks the value afterwards would expand an alias bomb;
 *  - problems name a line and column, never quote the text: a file may hold secrets, so only
 *    js-yaml's reason is used (not its code frame), with any quoted name taken out.
 *
 * js-yaml rather than the `yaml` package, which the project uses to write YAML, and its 4.x line
 * (still maintained, with the same depth limit) rather than 5.x: reading a 1,000-scope bundle.yaml
 * took the `yaml` package several times longer than js-yaml 5, and js-yaml 5 (which parses into
 * events, then builds values from them) about three times longer than js-yaml 4 — most of a warm
 * `build` either way (bench/README.md, target 4).
 */
import { CORE_SCHEMA, loadAll, YAMLException, type LoadOptions } from 'js-yaml';
import { InputError } from '../errors.js';
import { readInputFile } from '../util/read-input.js';

/** Far above any real bundle.yaml or sigstore config (a 1,000-scope bundle is ≈ 100 KiB). */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;
export const MAX_YAML_DEPTH = 64;
/** js-yaml 4's maxDepth option, which @types/js-yaml does not list. */
const LOAD_OPTIONS: LoadOptions & { maxDepth: number } = { schema: CORE_SCHEMA, maxDepth: MAX_YAML_DEPTH };
/** The most nodes a document may have once its aliases are expanded. */
const MAX_EXPANDED_NODES = 1_000_000;

export type YamlRead = { ok: true; value: unknown } | { ok: false; problem: string; line?: number; column?: number };

const ALIAS_BOMB = 'unsupported YAML: aliases expand to too many nodes (an alias bomb)';

/** The value of a one-document YAML text (null when it has none), or its first problem. */
export function readYaml(text: string): YamlRead {
  const read = readYamlDocuments(text);
  if (!read.ok) return read;
  if (read.values.length > 1)
    return { ok: false, problem: 'malformed YAML: more than one document (only one is read; remove the ---)' };
  return { ok: true, value: read.values[0] ?? null };
}

/** Every document of a YAML stream (a pod YAML of several objects), or the stream's first problem. */
export function readYamlDocuments(text: string): { ok: true; values: unknown[] } | Extract<YamlRead, { ok: false }> {
  let values: unknown[];
  try {
    values = [];
    loadAll(text, (value) => values.push(value), LOAD_OPTIONS);
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    return {
      ok: false,
      problem: problemOf(e.reason),
      ...(e.mark ? { line: e.mark.line + 1, column: e.mark.column + 1 } : {}),
    };
  }
  // Without a `*` in the text there is no alias, and the values are no larger than the text.
  if (text.includes('*') && expandedNodes(values) > MAX_EXPANDED_NODES) return { ok: false, problem: ALIAS_BOMB };
  return { ok: true, values };
}

/** How many nodes walking `value` visits, counting each alias use again; stops past the limit. */
function expandedNodes(value: unknown): number {
  let count = 0;
  const stack = [value];
  while (stack.length > 0 && count <= MAX_EXPANDED_NODES) {
    const node = stack.pop();
    count++;
    if (node === null || typeof node !== 'object') continue;
    for (const child of Array.isArray(node) ? (node as unknown[]) : Object.values(node)) stack.push(child);
  }
  return count;
}

/** js-yaml's reason as one of our problems, without any name it quotes from the file. */
function problemOf(reason: string): string {
  if (reason.startsWith('nesting exceeded maxDepth'))
    return `unsupported YAML: nested more than ${MAX_YAML_DEPTH} levels deep`;
  if (/^unknown (\w+ )?tag|^cannot resolve a node with/.test(reason))
    return "unsupported YAML: a tag other than the core schema's (only the core schema's tags are read)";
  if (reason.startsWith('unacceptable YAML version'))
    return 'unsupported YAML: a %YAML directive other than 1.x (YAML 1.2 is read)';
  const unquoted = reason
    .replace(/\s*"[^"]*"/g, '')
    .replace(/\s*!<[^>]*>/g, '')
    .replace(/:\s.*$/, '');
  return `malformed YAML: ${unquoted}`;
}

/** `line L, column C: problem`, or the problem alone. */
export function describeYamlProblem(read: Extract<YamlRead, { ok: false }>): string {
  return read.line !== undefined ? `line ${read.line}, column ${read.column}: ${read.problem}` : read.problem;
}

/**
 * The text of a YAML file, at most MAX_YAML_BYTES of it read; `what` names the kind of file in the
 * messages (`bundle file`, `sigstore config`).
 */
export async function readYamlFile(file: string, what: string, notFound = 'file not found'): Promise<string> {
  try {
    return (await readInputFile(file, { what, maxBytes: MAX_YAML_BYTES })).toString('utf8');
  } catch (e) {
    // The messages users and scripts know for a missing bundle.yaml / sigstore config.
    if (e instanceof InputError && e.code === 'E_FILE_NOT_FOUND')
      throw new InputError('E_FILE_NOT_FOUND', { file }, notFound);
    throw e;
  }
}

export function tooLarge(file: string, what: string): InputError {
  return new InputError(
    'E_TOO_LARGE',
    { file },
    `is larger than ${MAX_YAML_BYTES / 1024 / 1024} MiB, more than a ${what} can be`,
  );
}
