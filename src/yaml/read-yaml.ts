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
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLError } from 'yaml';
import { InputError } from '../errors.js';
import { readInputFile } from '../util/read-input.js';

/** Far above any real bundle.yaml or sigstore config (a 1,000-scope bundle is ≈ 100 KiB). */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;
export const MAX_YAML_DEPTH = 64;
const MAX_ALIAS_COUNT = 100;

export type YamlRead = { ok: true; value: unknown } | { ok: false; problem: string; line?: number; column?: number };

/** The value of a one-document YAML text, or its first problem. */
export function readYaml(text: string, options: { refuseWarnings?: boolean } = {}): YamlRead {
  const lines = new LineCounter();
  // Duplicate keys are found by checkNodes (yaml's uniqueKeys compares each key with every earlier
  // one: quadratic in a bundle's map of scopes).
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter: lines });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const first: YAMLError | undefined = doc.errors[0] ?? (options.refuseWarnings ? doc.warnings[0] : undefined);
  if (first) {
    const kind = doc.errors.length > 0 && first.code !== 'RESOURCE_EXHAUSTION' ? 'malformed' : 'unsupported';
    return { ok: false, problem: `${kind} YAML: ${problemOf(first)}`, ...at(first.pos[0]) };
  }
  const problem = checkNodes(doc.contents);
  if (problem)
    return { ok: false, problem: problem.problem, ...(problem.offset !== undefined ? at(problem.offset) : {}) };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    return {
      ok: false,
      problem: /Excessive alias count/.test(e.message)
        ? `unsupported YAML: aliases expand to too many nodes (an alias bomb)`
        : `malformed YAML: ${e.message}`,
    };
  }
}

/**
 * The first duplicate key (as yaml's uniqueKeys sees it: the same node, or scalars with equal
 * values) or nesting deeper than MAX_YAML_DEPTH, with the offset of the node at fault.
 */
function checkNodes(root: unknown): { problem: string; offset?: number } | undefined {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= MAX_YAML_DEPTH)
      return { problem: `unsupported YAML: nested more than ${MAX_YAML_DEPTH} levels deep`, offset: node.range?.[0] };
    if (isSeq(node)) {
      for (const item of node.items) stack.push([item, depth + 1]);
      continue;
    }
    const seen = new Set<unknown>();
    for (const pair of node.items) {
      const key: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
      if (seen.has(key) && !Number.isNaN(key))
        return { problem: 'malformed YAML: Map keys must be unique', offset: (pair.key as Node | null)?.range?.[0] };
      seen.add(key);
      stack.push([pair.key, depth + 1], [pair.value, depth + 1]);
    }
  }
  return undefined;
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
