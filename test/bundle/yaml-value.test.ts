/**
 * bundle.yaml is read without building a yaml Document where it can be (the CST path) and with
 * `uniqueKeys: false` plus one duplicate scan elsewhere (the full path). Both must answer exactly
 * what `parseDocument(text, { uniqueKeys: true, prettyErrors: true })` answers — the value toJS
 * gives, or the first error with its message and position — on the bundle templates, on a
 * bench-style bundle, on hand-picked edge cases and on thousands of mutated documents.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { lineYamlValue } from '../../src/bundle/line-yaml.js';
import { fullValue, parseYamlValue, plainCstValue, type YamlValue } from '../../src/bundle/yaml-value.js';

const ROOT = path.resolve(__dirname, '../..');

type Outcome = { ok: true; json: string } | { ok: false; message: string; linePos: unknown } | { thrown: string };

/** What loadBundle did before: the one parseDocument call with yaml's own duplicate-key check. */
function reference(text: string): Outcome {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error) return { ok: false, message: error.message, linePos: error.linePos };
  try {
    return { ok: true, json: exactJson(doc.toJS({ maxAliasCount: 100 })) };
  } catch (e) {
    return { thrown: String(e) }; // e.g. an alias used before its anchor: toJS throws
  }
}

function outcome(read: () => YamlValue): Outcome {
  try {
    const r = read();
    return r.ok
      ? { ok: true, json: exactJson(r.value) }
      : { ok: false, message: r.error.message, linePos: r.error.linePos };
  } catch (e) {
    return { thrown: String(e) };
  }
}

/** JSON that also tells key order, prototypes, undefined, NaN and -0 apart. */
function exactJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return `number:${v}`;
    if (Object.is(v, -0)) return 'number:-0';
    if (v === undefined) return 'undefined';
    if (typeof v === 'bigint') return `bigint:${v}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype)
      return { proto: String(Object.getPrototypeOf(v)), v: { ...v } };
    return v;
  });
}

function benchBundle(scopes: number): string {
  const lines = [
    'kbs:',
    '  repository: default',
    '  tag: test',
    'policy:',
    '  default:',
    '    - type: reject',
    '  scopes:',
  ];
  for (let s = 0; s < scopes; s++)
    lines.push(
      `    "bench.example.com:5000/team-${s}":`,
      '      - type: signedBy',
      '        keys:',
      '          - /tmp/data/signer.gpg',
    );
  lines.push(
    'signatureStores:',
    '  default: file:///var/lib/containers/sigstore',
    'signatures:',
    '  - /tmp/data/store',
  );
  lines.push(
    'registries:',
    '  "bench.example.com:5000":',
    '    username: bench',
    '    passwordFile: registry-password',
  );
  return `${lines.join('\n')}\n`;
}

const SEEDS = [
  readFileSync(path.join(ROOT, 'templates/bundle.yaml'), 'utf8'),
  readFileSync(path.join(ROOT, 'templates/example/bundle.yaml'), 'utf8'),
  benchBundle(4),
  [
    '---',
    'kbs: {repository: default}',
    'policy:',
    '  default: [{type: reject}]',
    '  scopes:',
    "    'quay.io/a': &rules",
    '      - type: signedBy',
    '        keys: [a.gpg, "b.gpg"]',
    '        keyPath: kbs:///default/gpg-public-key/test   # comment',
    '        allowExpired: true',
    '        signedIdentity:',
    '          type: remapIdentity',
    '          prefix: quay.io/a',
    '          signedPrefix: "quay.io/b"',
    '    quay.io/c: *rules',
    'signatureStores:',
    '  default: ~',
    '  allowHttp: false',
    'registries: {}',
    '',
  ].join('\n'),
];

const EDGES = [
  '',
  '# only a comment\n',
  'a: 1\n',
  'a: b\na: c\n',
  'a: b\n"a": c\n',
  "a: b\n'a': c\n",
  'a:\n  b: 1\n  b: 2\n',
  'x:\n  - a: 1\n    a: 2\n',
  'true: x\n',
  '~: x\n',
  'null: x\n',
  '1: x\n"1": y\n',
  '__proto__: x\n',
  '<<: x\n',
  'a: b: c\n',
  'a:\n  b\n',
  'a:\n- x\n- y\n',
  'a: - x\n',
  '- a\n- b\n',
  'a:\n  - - x\n    - y\n',
  'a: "x"#c\n',
  'a: "x" #c\n',
  'a: x#c\n',
  'a: x #c\n',
  'a:#c\n',
  'a: #c\n  b: 1\n',
  'a : x\n',
  'a :x\n',
  '---\na: x\n',
  '--- a: x\n',
  '---\na: x\n...\n',
  '---\na: x\n---\nb: y\n',
  '%YAML 1.2\n---\na: x\n',
  'a: x\r\n',
  'a:\tx\n',
  '\ta: x\n',
  '\uFEFFa: x\n',
  'a: "multi\n  line"\n',
  'a: plain\n  continued\n',
  'a: |\n  block\n',
  'a: >\n  folded\n',
  'a: !!str 1\n',
  'a: &x 1\nb: *x\n',
  '? a\n: b\n',
  'a: [1, 2]\n',
  'a: {b: c}\n',
  'a: "\\u00e9\\n"\n',
  "a: 'it''s'\n",
  'a: "\\q"\n',
  'a: @x\n',
  'a: `x\n',
  'a: 0x1F\n',
  'a: 1.5\n',
  'a: .inf\n',
  'a: .NaN\n',
  'a: -0\n',
  'a: +1\n',
  'a: 0o17\n',
  'a: yes\n',
  'a: True\n',
  'a: FALSE\n',
  'a: Null\n',
  'a:\nb:\n',
  'a:\n  # comment\nb: x\n',
  'a:\n  b: x\n c: y\n',
  'a:\n  b: x\n   c: y\n',
  '  a: x\n  b: y\n',
  '  a: x\nb: y\n',
  'a: x\n  # trailing\n',
  `${'k'.repeat(1030)}: x\n`,
  `"${'k'.repeat(1030)}": x\n`,
  'a: x\n\n\n# end\n',
  'a:\n  -\n  - x\n',
  'a:\n  - \n',
  '- \n',
  'a: [\n',
  'a: }\n',
  'a: "x\n',
  ': x\n',
  'a\n',
  'a: x\nb\n',
  '-   a: x\n    b: y\n',
  'x:\n  -  a: 1\n     b: 2\n  - c: 3\n    d: 4\n',
  'x:\n  -  a: 1\n    b: 2\n',
  'x:\n  - a:\n    - p\n    - q\n    b: r\n',
  'x:\n- a: 1\n  b:\n  - 2\ny: z\n',
];

/** A deterministic PRNG (mulberry32), so a failure names a reproducible mutant. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = [
  ' ',
  '  ',
  '\n',
  ':',
  ': ',
  '-',
  '- ',
  '#',
  ' #',
  '"',
  "'",
  '&a ',
  '*a',
  '!',
  '[',
  ']',
  '{',
  '}',
  ',',
  '|',
  '>',
  '?',
  '\t',
  '%',
  '@',
  '`',
  '~',
  'true',
  '1',
  '\\',
  '---',
  '...',
  'x',
];

function mutate(text: string, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const at = Math.floor(random() * (text.length + 1));
  const lines = text.split('\n');
  const line = Math.floor(random() * lines.length);
  switch (Math.floor(random() * 8)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
    case 2:
      return text.slice(0, at) + pick(INSERTS) + text.slice(at);
    case 3:
      return text.slice(0, at) + pick(INSERTS) + text.slice(at + 1);
    case 4:
      lines.splice(line, 0, lines[line]!);
      return lines.join('\n');
    case 5:
      lines.splice(line, 1);
      return lines.join('\n');
    case 6:
      lines[line] = random() < 0.5 ? ` ${lines[line]}` : lines[line]!.replace(/^ {1,2}/, '');
      return lines.join('\n');
    default: {
      const other = Math.floor(random() * lines.length);
      [lines[line], lines[other]] = [lines[other]!, lines[line]!];
      return lines.join('\n');
    }
  }
}

function corpus(): string[] {
  const out = [...SEEDS, ...EDGES];
  const random = rng(7);
  for (let i = 0; i < 1500; i++) out.push(generated(random));
  for (const seed of SEEDS) {
    for (let i = 0; i < 450; i++) {
      let text = seed;
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) text = mutate(text, random);
      out.push(text);
    }
  }
  return out;
}

/** Scalars that look alike but resolve differently (strings, null, booleans, numbers, errors). */
const TRICKY = [
  'a',
  'a b',
  'a  b',
  'x: y',
  'x:y',
  'x:',
  'a #c',
  'a#b',
  'a,b',
  'a[0]',
  'a]',
  '{a}',
  'a}',
  'a ]',
  '$HOME',
  '/p/q',
  '_',
  'null',
  'Null',
  'NULL',
  'nULL',
  '~',
  'true',
  'True',
  'tRUE',
  'yes',
  'no',
  'on',
  'false',
  'FALSE',
  '007',
  '0',
  '123456789012345',
  '1234567890123456',
  '1e3',
  '1.5',
  '.5',
  '0x1F',
  '0o17',
  '-1',
  '+1',
  '.inf',
  '.nan',
  'NaN',
  'Infinity',
  'a\\b',
  '"q"',
  "'s'",
  '"a\\"b"',
  "'it''s'",
  '"a #b"',
  "'x: y'",
  '""',
  "''",
  'é',
  'a\u0085b',
  '- a',
  '-a',
  '? a',
  'a ?',
  '@a',
  '`a',
  '%a',
  '!a',
  '&a',
  '*a',
  '|',
  '>',
  'a |',
  'a!',
  'a&b',
  'a*',
];
const PLAIN = [
  'a',
  'value b',
  '/etc/x.gpg',
  'file:///var/lib/x',
  'signedBy',
  '"quoted"',
  "'single'",
  'true',
  'null',
  '5000',
];
const KEYS = [
  'a',
  'b',
  'k.x',
  'k/x',
  'k-x',
  'k_1',
  '"q"',
  "'s'",
  '"a b"',
  '"1"',
  'null',
  'True',
  '1',
  'x y',
  '"x: y"',
  '"__proto__"',
  '"<<"',
  'a',
];

/** A random document in many equivalent spellings: indentation, compact sequences, comments, quoting. */
function generated(random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const out: string[] = [];
  const comment = () => (random() < 0.1 ? ' # c' : '');
  function node(indent: number, depth: number, prefix: string): void {
    const kind = depth > 2 ? 0 : Math.floor(random() * 3);
    if (kind === 0) {
      out.push(`${prefix} ${random() < 0.15 ? pick(TRICKY) : pick(PLAIN)}${comment()}`);
      return;
    }
    out.push(prefix + comment());
    const step = pick([2, 2, 4, 1]);
    const count = 1 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
      if (random() < 0.05) out.push(`${' '.repeat(Math.floor(random() * 6))}# comment`);
      const pad = ' '.repeat(indent + step);
      if (kind === 1) node(indent + step, depth + 1, `${pad}${pick(KEYS)}:`);
      else node(indent + step, depth + 1, `${pad}-`);
    }
  }
  const keys = 1 + Math.floor(random() * 4);
  for (let i = 0; i < keys; i++) node(0, 0, `${pick(KEYS)}:`);
  return `${out.join('\n')}\n`;
}

describe('bundle.yaml values', () => {
  const docs = corpus();

  /** Every answer equals parseDocument's value; the comparison must have had work to do, and the decline path too. */
  function agreesWhereItAnswers(read: (text: string) => { value: unknown } | undefined, minAnswered: number): void {
    let answered = 0;
    let declinedValid = 0;
    for (const text of docs) {
      const fast = read(text);
      const ref = reference(text);
      if (fast === undefined) {
        if ('ok' in ref && ref.ok) declinedValid++;
        continue;
      }
      answered++;
      expect({ text, outcome: { ok: true, json: exactJson(fast.value) } }).toEqual({ text, outcome: ref });
    }
    expect(answered).toBeGreaterThan(minAnswered);
    expect(declinedValid).toBeGreaterThan(50);
  }

  it('the CST path answers only where parseDocument succeeds, with the same value', () => {
    agreesWhereItAnswers(plainCstValue, docs.length / 4);
  });

  it('the line reader answers only where parseDocument succeeds, with the same value', () => {
    agreesWhereItAnswers(lineYamlValue, 500);
  });

  it("the full path gives parseDocument's value or its first error (message and position)", () => {
    let errors = 0;
    let duplicates = 0;
    for (const text of docs) {
      const ref = reference(text);
      if ('ok' in ref && !ref.ok) errors++;
      if ('ok' in ref && !ref.ok && ref.message.startsWith('Map keys must be unique')) duplicates++;
      expect({ text, outcome: outcome(() => fullValue(text)) }).toEqual({ text, outcome: ref });
      expect({ text, outcome: outcome(() => parseYamlValue(text)) }).toEqual({ text, outcome: ref });
    }
    expect(errors).toBeGreaterThan(200);
    expect(duplicates).toBeGreaterThan(20);
  });

  it('reads a 1,000-scope bench bundle line by line and on the CST path, equal to parseDocument', () => {
    const text = benchBundle(1000);
    const plainest = lineYamlValue(text);
    expect(plainest).toBeDefined();
    expect(exactJson(plainest!.value)).toBe((reference(text) as { json: string }).json);
    const fast = plainCstValue(text);
    expect(fast).toBeDefined();
    expect(exactJson(fast!.value)).toBe((reference(text) as { json: string }).json);
    const dup = text.replace('team-999"', 'team-0"');
    expect(plainCstValue(dup)).toBeUndefined();
    expect(lineYamlValue(dup)).toBeUndefined();
    expect(outcome(() => parseYamlValue(dup))).toEqual(reference(dup));
    expect(reference(dup)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Map keys must be unique at line 4004, column 5/),
    });
  });
});
