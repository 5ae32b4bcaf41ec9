/**
 * bundle.yaml text → its value, as `parseDocument(text, { uniqueKeys: true }).toJS()` gives it, or
 * the first error that call would report, for what line-yaml.ts declines (loadBundle tries that
 * first). Two ways, both with the yaml package:
 *
 *  - the common form (block mappings and sequences of one-line plain or quoted scalars, comments,
 *    no anchors, aliases, tags, flow collections, block scalars, explicit keys, tabs, CR or BOM) is
 *    read from yaml's CST (`Parser`): `plainCstValue` turns it into the value itself, with yaml's
 *    scalar resolution (`CST.resolveAsScalar`, the core schema's tags). A Document and its nodes
 *    are never built, and duplicate keys are found with one Set per mapping (yaml's `uniqueKeys`
 *    compares each key with all earlier ones: quadratic in a 1,000-scope map). Anything outside
 *    that form, or anything the composer would report (duplicates, bad indentation, …), answers
 *    undefined;
 *  - everything else is composed from the same CST by yaml's Composer, as parseDocument does, with
 *    `uniqueKeys: false`, and checked for duplicate keys in one pass; only when that finds an error
 *    is the text parsed again by parseDocument with `uniqueKeys: true`, so that the error reported is
 *    exactly yaml's first one.
 *
 * test/bundle/yaml-value.test.ts compares both with the plain `parseDocument` call on the bundle
 * fixtures and on thousands of mutated documents.
 */
import { Composer, CST, Document, isScalar, Parser, parseDocument, visit, type YAMLError } from 'yaml';

export type YamlValue = { ok: true; value: unknown } | { ok: false; error: YAMLError };

const PARSE_OPTIONS = { prettyErrors: true } as const;
export const MAX_ALIAS_COUNT = 100;

export function parseYamlValue(text: string): YamlValue {
  const tokens = /[\t\r\uFEFF]/.test(text) ? undefined : [...new Parser().parse(text)];
  const fast = tokens && cstValue(tokens);
  if (fast !== undefined) return { ok: true, value: fast.value };
  return composedValue(text, tokens ?? [...new Parser().parse(text)]);
}

/** The Document path alone (what parseYamlValue falls back to), for tests. */
export function fullValue(text: string): YamlValue {
  return composedValue(text, [...new Parser().parse(text)]);
}

/**
 * The CST composed into a Document as parseDocument does (same Composer, same options), but with
 * uniqueKeys off and one linear duplicate scan; the text is parsed again with parseDocument and
 * uniqueKeys on only when there is an error to report, so that it is exactly yaml's first one.
 */
function composedValue(text: string, tokens: readonly CST.Token[]): YamlValue {
  const docs = [...new Composer({ ...PARSE_OPTIONS, uniqueKeys: false }).compose(tokens, true, text.length)];
  const doc = docs[0]!;
  if (docs.length !== 1 || doc.errors.length > 0 || hasDuplicateKey(doc)) {
    const strict = parseDocument(text, { ...PARSE_OPTIONS, uniqueKeys: true });
    const error = strict.errors[0];
    if (error !== undefined) return { ok: false, error };
  }
  return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
}

/**
 * True when some mapping may repeat a key as yaml's `uniqueKeys: true` sees it (the same node, or
 * scalars with `===` values). May answer true where yaml would not (NaN keys): the caller then
 * asks yaml itself.
 */
function hasDuplicateKey(doc: Document.Parsed): boolean {
  let found = false;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          found = true;
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

// ---- the CST path -------------------------------------------------------------------------

class Decline extends Error {}

type Token = CST.Token;
type SourceToken = CST.SourceToken;
type Item = CST.CollectionItem;

let schemaTags: { tags: readonly ScalarTag[]; options: object } | undefined;
interface ScalarTag {
  default?: boolean | 'key';
  collection?: string;
  tag: string;
  test?: RegExp;
  resolve: (value: string, onError: (msg: string) => void, options: object) => unknown;
}

/** The core schema's scalar tags and options, as parseDocument's Document has them. */
function coreSchema(): { tags: readonly ScalarTag[]; options: object } {
  if (!schemaTags) {
    const doc = new Document();
    schemaTags = { tags: doc.schema.tags as unknown as ScalarTag[], options: doc.options };
  }
  return schemaTags;
}

const NULL_TAG = 'tag:yaml.org,2002:null';
const BOOL_TAG = 'tag:yaml.org,2002:bool';

/** `{ value }` for the common form (see above), else undefined. */
export function plainCstValue(text: string): { value: unknown } | undefined {
  if (/[\t\r\uFEFF]/.test(text)) return undefined;
  return cstValue([...new Parser().parse(text)]);
}

function cstValue(tokens: readonly CST.Token[]): { value: unknown } | undefined {
  try {
    let doc: CST.Document | undefined;
    for (const token of tokens) {
      if (token.type === 'document') {
        if (doc) return undefined;
        doc = token;
      } else if (token.type !== 'space' && token.type !== 'newline' && token.type !== 'comment') {
        return undefined;
      }
    }
    if (!doc || doc.value?.type !== 'block-map') return undefined;
    const start = props(doc.start, 0, 'doc-start', true);
    if (start & FOUND && !(start & NEWLINE)) return undefined;
    for (const t of doc.end ?? [])
      if (t.type !== 'space' && t.type !== 'newline' && t.type !== 'comment') return undefined;
    return { value: new CstReader().node(doc.value) };
  } catch (e) {
    if (e instanceof Decline) return undefined;
    throw e;
  }
}

function decline(): never {
  throw new Decline();
}

const FOUND = 1;
const NEWLINE = 2;

/**
 * The checks resolveProps makes, for tokens (from index `from`) that may only be white space,
 * comments and at most one `indicator`: comments separated by white space, the indicator at most
 * once. Answers FOUND (the indicator is there) | NEWLINE (a line break is).
 */
function props(tokens: readonly SourceToken[], from: number, indicator: string, startOnNewline: boolean): number {
  let hasSpace = startOnNewline;
  let flags = 0;
  for (let i = from; i < tokens.length; i++) {
    const type = tokens[i]!.type;
    if (type === 'space') hasSpace = true;
    else if (type === 'newline') {
      hasSpace = true;
      flags |= NEWLINE;
    } else if (type === 'comment') {
      if (!hasSpace) decline();
    } else {
      if (type !== indicator || flags & FOUND) decline();
      flags |= FOUND;
      hasSpace = false;
    }
  }
  return flags;
}

/** An item that holds nothing but white space and comments (yaml keeps it as a collection comment). */
function isBlankItem(item: Item, last: boolean): boolean {
  if (item.key !== undefined || item.sep !== undefined || item.value !== undefined) return false;
  if (!last) decline();
  props(item.start, 0, '', true);
  return true;
}

/** End tokens without a comment: the scalar's value then depends on its type and source alone. */
function plainEnd(end: readonly SourceToken[] | undefined): boolean {
  if (end) for (const t of end) if (t.type !== 'space' && t.type !== 'newline') return false;
  return true;
}

class CstReader {
  /** Resolved scalars by key/value, type and source: a bundle repeats `type`, `signedBy`, key paths… */
  private readonly scalars = new Map<string, unknown>();

  node(token: Token): unknown {
    switch (token.type) {
      case 'block-map':
        return this.blockMap(token);
      case 'block-seq':
        return this.blockSeq(token);
      case 'scalar':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
        return this.scalar(token, false);
      default:
        return decline();
    }
  }

  private blockMap(map: CST.BlockMap): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    const items = map.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (isBlankItem(item, i === items.length - 1)) continue;
      props(item.start, 0, '', true);
      const { key, sep, value } = item;
      if (!key || !sep) decline();
      if (key.type !== 'scalar' && key.type !== 'single-quoted-scalar' && key.type !== 'double-quoted-scalar')
        decline();
      if (key.indent !== map.indent) decline();
      if (key.end !== undefined && key.end.length > 0) decline();
      const k = this.scalar(key, true);
      if (typeof k !== 'string' || seen.has(k) || k === '__proto__' || k === '<<') decline();
      seen.add(k);
      // `key : value` puts the space before the indicator into sep.
      const at = sep[0]?.type === 'space' ? 1 : 0;
      const ind = sep[at];
      if (ind?.type !== 'map-value-ind' || ind.offset - key.offset > 1000) decline();
      const after = props(sep, at + 1, '', false);
      if ((value?.type === 'block-map' || value?.type === 'block-seq') && !(after & NEWLINE)) decline();
      out[k] = value === undefined ? null : this.node(value);
    }
    return out;
  }

  private blockSeq(seq: CST.BlockSequence): unknown[] {
    const out: unknown[] = [];
    const items = seq.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (isBlankItem(item, i === items.length - 1)) continue;
      if (item.key !== undefined || item.sep !== undefined) decline();
      if (!(props(item.start, 0, 'seq-item-ind', true) & FOUND)) decline();
      out.push(item.value === undefined ? null : this.node(item.value));
    }
    return out;
  }

  private scalar(token: CST.FlowScalar, atKey: boolean): unknown {
    if (!plainEnd(token.end)) return resolveScalar(token, atKey);
    const id = `${atKey ? 'k' : 'v'}${token.type}\0${token.source}`;
    if (this.scalars.has(id)) return this.scalars.get(id);
    const value = resolveScalar(token, atKey);
    this.scalars.set(id, value);
    return value;
  }
}

/** A one-line flow scalar as the composer resolves it (plain ones through the core schema's tags). */
function resolveScalar(token: CST.FlowScalar, atKey: boolean): unknown {
  if (token.source.includes('\n')) decline();
  const resolved = CST.resolveAsScalar(token, true, () => decline());
  if (!resolved) return decline();
  if (token.type !== 'scalar') return resolved.value;
  const { tags, options } = coreSchema();
  const tag = tags.find((t) => (t.default === true || (atKey && t.default === 'key')) && t.test?.test(resolved.value));
  if (!tag) return resolved.value;
  // Keys must be strings (see blockMap); values may be null or booleans; numbers and the rest go
  // the full way.
  if (atKey || (tag.tag !== NULL_TAG && tag.tag !== BOOL_TAG)) decline();
  const value = tag.resolve(resolved.value, () => decline(), options);
  return isScalar(value) ? value.value : value;
}
