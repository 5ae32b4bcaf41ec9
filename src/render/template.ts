/**
 * The tiny template language of templates/render/: `{{name | filter}}` substitutes a value escaped for the file's
 * format, and lines holding only `{{#name}}` … `{{/name}}` (or `{{^name}}` … `{{/name}}`) keep the lines between them
 * when the value is present (absent). Every placeholder names its filter, so the template, not the code, says how
 * a value is written; an unknown name or filter is an error, never an empty string.
 */

export type TemplateValue = string | readonly string[] | boolean | undefined;
export type TemplateValues = Record<string, TemplateValue>;

/** A TOML basic string. `'` is written as \u0027 so the result can sit inside a `'''` literal (initdata's cdh.toml). */
export function tomlString(s: string): string {
  return `"${escapeTomlChars(s, false)}"`;
}

/** A TOML multi-line basic string starting on its own line (PEM blocks stay readable). */
export function tomlMultiline(s: string): string {
  return `"""\n${escapeTomlChars(s, true)}"""`;
}

function escapeTomlChars(s: string, keepNewlines: boolean): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += keepNewlines ? '"' : '\\"';
    else if (ch === "'") out += '\\u0027';
    else if (ch === '\n') out += keepNewlines ? '\n' : '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  // A multi-line string ends at the first `"""`: quotes stay readable (policy JSON) except in a run or at the end.
  return keepNewlines ? out.replace(/"(?=")|"$/g, '\\"') : out;
}

/** A TOML array of multi-line strings, one per line; `[]` when empty. */
export function tomlArray(items: readonly string[]): string {
  if (items.length === 0) return '[]';
  return `[\n${items.map((i) => `  ${tomlMultiline(i)},`).join('\n')}\n]`;
}

/** A TOML key: bare when it can be, else quoted. */
export function tomlKey(s: string): string {
  return /^[A-Za-z0-9_-]+$/.test(s) ? s : tomlString(s);
}

/** A YAML double-quoted scalar (JSON's escapes are YAML's, plus the characters YAML does not allow raw). */
export function yamlString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

/** A kernel command-line value: printable ASCII without spaces or quotes, else an error (it cannot be escaped). */
export function kernelValue(s: string): string {
  if (!/^[\x21-\x7e]+$/.test(s) || s.includes('"'))
    throw new TemplateError(
      `value ${JSON.stringify(s)} cannot go on a kernel command line (spaces, quotes or non-ASCII)`,
    );
  return s;
}

const FILTERS: Record<string, (v: TemplateValue) => string> = {
  toml: (v) => tomlString(asString(v)),
  'toml-multiline': (v) => tomlMultiline(asString(v)),
  'toml-array': (v) => tomlArray(asList(v)),
  'toml-key': (v) => tomlKey(asString(v)),
  'toml-integer': (v) => {
    const n = asString(v);
    if (!/^(0|[1-9][0-9]{0,15})$/.test(n))
      throw new TemplateError(`${JSON.stringify(n)} is not a non-negative integer`);
    return n;
  },
  yaml: (v) => yamlString(asString(v)),
  'yaml-flow-list': (v) => `[${asList(v).map(yamlString).join(', ')}]`,
  kernel: (v) => kernelValue(asString(v)),
};

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

function asString(v: TemplateValue): string {
  if (typeof v !== 'string')
    throw new TemplateError(`expected a string, got ${Array.isArray(v) ? 'a list' : typeof v}`);
  return v;
}

function asList(v: TemplateValue): readonly string[] {
  if (!Array.isArray(v)) throw new TemplateError(`expected a list, got ${typeof v}`);
  return v as readonly string[];
}

function present(v: TemplateValue): boolean {
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false && v !== '';
}

const SECTION_LINE = /^\s*\{\{([#^/])([A-Za-z][\w-]*)\}\}\s*$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z][\w-]*)\s*\|\s*([a-z][\w-]*)\s*\}\}/g;

/** Renders `text` (from template file `name`, used in error messages). */
export function renderTemplate(name: string, text: string, values: TemplateValues): string {
  const out: string[] = [];
  const stack: Array<{ key: string; keep: boolean }> = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `${name}:${i + 1}`;
    const section = SECTION_LINE.exec(line);
    if (section) {
      const [, kind, key = ''] = section;
      if (kind === '/') {
        const open = stack.pop();
        if (!open || open.key !== key) throw new TemplateError(`${where}: {{/${key}}} closes nothing`);
      } else {
        if (!(key in values)) throw new TemplateError(`${where}: no value named ${key}`);
        stack.push({ key, keep: kind === '#' ? present(values[key]) : !present(values[key]) });
      }
      continue;
    }
    if (stack.some((s) => !s.keep)) continue;
    if (line.replace(PLACEHOLDER, '').includes('{{')) throw new TemplateError(`${where}: malformed placeholder`);
    out.push(
      line.replace(PLACEHOLDER, (_m, key: string, filter: string) => {
        const f = FILTERS[filter];
        if (!f) throw new TemplateError(`${where}: unknown filter ${filter}`);
        if (!(key in values)) throw new TemplateError(`${where}: no value named ${key}`);
        try {
          return f(values[key]);
        } catch (e) {
          throw new TemplateError(`${where}: ${key}: ${(e as Error).message}`);
        }
      }),
    );
  }
  if (stack.length > 0) throw new TemplateError(`${name}: {{#${stack[stack.length - 1]?.key}}} is never closed`);
  return out.join('\n');
}
