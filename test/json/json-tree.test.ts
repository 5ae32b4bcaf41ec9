/** The duplicate-keeping JSON reader accepts and refuses exactly what JSON.parse does, and reads the same values. */
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJsonTree, type JsonNode } from '../../src/json/json-tree.js';

function plain(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(node.entries.map(([k, v]) => [k, plain(v)]));
    case 'array':
      return node.items.map(plain);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

let seed = 12345;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed % n;
};
const CHARS = ['a', 'Z', ' ', '"', '\\', '\n', '\u00e9', '\u2028', '/', '\t', '\u0001', '\ud83d\ude00'];
function randomValue(depth: number): unknown {
  switch (rand(depth > 3 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return rand(2) === 0;
    case 2:
      return [0, -1, 1.5, 1e21, -0.25, 123456789012, 3.14159e-7][rand(7)];
    case 3:
    case 4:
      return Array.from({ length: rand(6) }, () => CHARS[rand(CHARS.length)]).join('');
    case 5:
      return Array.from({ length: rand(4) }, () => randomValue(depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rand(4) }, (_, i) => [`k${i}${CHARS[rand(CHARS.length)]}`, randomValue(depth + 1)]),
      );
  }
}

function verdict(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

describe('parseJsonTree', () => {
  it('reads the same values as JSON.parse on random documents, compact and indented', () => {
    for (let n = 0; n < 300; n++) {
      const value = randomValue(0);
      for (const text of [JSON.stringify(value), JSON.stringify(value, null, 2), ` ${JSON.stringify(value)}\n`]) {
        expect(plain(parseJsonTree(text))).toEqual(JSON.parse(text));
      }
    }
  });

  it('accepts and refuses exactly what JSON.parse does on mutated documents', () => {
    const alphabet = ['{', '}', '[', ']', ',', ':', '"', '\\', 'e', '-', '.', '0', '1', 'n', 't', ' ', 'x', '\u0000'];
    let checked = 0;
    let valid = 0;
    for (let n = 0; n < 400; n++) {
      const base = JSON.stringify(randomValue(0));
      const pos = rand(base.length + 1);
      const mutated =
        rand(2) === 0
          ? base.slice(0, pos) + alphabet[rand(alphabet.length)] + base.slice(pos)
          : base.slice(0, pos) + base.slice(pos + 1);
      const expected = verdict(mutated);
      let ours: { ok: true; value: unknown } | { ok: false };
      try {
        ours = { ok: true, value: plain(parseJsonTree(mutated)) };
      } catch (e) {
        expect(e).toBeInstanceOf(JsonSyntaxError);
        ours = { ok: false };
      }
      // JSON.parse keeps the last duplicate key, as plain() does.
      expect(ours, mutated).toEqual(expected);
      checked++;
      if (expected.ok) valid++;
    }
    expect(checked).toBe(400);
    expect(valid).toBeGreaterThan(20);
    expect(valid).toBeLessThan(380);
  });

  it('keeps duplicate members in order', () => {
    const tree = parseJsonTree('{"a":1,"a":2,"b":{"c":3,"c":4}}');
    expect(tree.kind === 'object' && tree.entries.map(([k]) => k)).toEqual(['a', 'a', 'b']);
  });
});
