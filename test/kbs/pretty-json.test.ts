/** prettyJsonBytes writes exactly the bytes of JSON.stringify(value, null, 2) + '\n', or throws what it throws. */
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bundle } from '../../src/bundle/types.js';
import { writeTree } from '../../src/kbs/layout.js';
import { jsonBytes, renderResources, resourceChunks, resourceSize } from '../../src/kbs/render.js';
import { prettyJsonBytes, prettyJsonChunks } from '../../src/kbs/pretty-json.js';

function reference(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

const LONG = 'A'.repeat(2000);
const KEY_DATA = Buffer.alloc(1900, 7).toString('base64');

/** A policy the way loadBundle builds it: every scope its own objects, the keyData string shared. */
function policy(scopes: number): unknown {
  const docker: Record<string, unknown> = {};
  for (let s = 0; s < scopes; s++) {
    docker[`bench.example.com:5000/team-${s}`] = [
      { type: 'signedBy', keyType: 'GPGKeys', keyData: KEY_DATA, signedIdentity: { type: 'matchRepository' } },
    ];
  }
  return { default: [{ type: 'reject' }], transports: { docker } };
}

const VALUES: unknown[] = [
  policy(0),
  policy(3),
  policy(300),
  { auths: { 'r.example.com:5000': { auth: Buffer.from('user:pässwörd').toString('base64') } } },
  {},
  [],
  [[], {}, [[]], { a: {} }],
  null,
  0,
  -0,
  1.5e300,
  NaN,
  -Infinity,
  'plain',
  '',
  true,
  false,
  { a: undefined, b: () => 1, c: Symbol('x'), d: 1 },
  { a: undefined },
  [undefined, () => 1, Symbol('y'), 2],
  [, 1, , 2], // eslint-disable-line no-sparse-arrays
  { '': 1, 'quote"key': 2, 'new\nline': 3, 'é€😀': 4, '\u0000': 5, '2': 'integer-like keys first', 1: 'one' },
  { s: 'tab\t"quote"\\back\u0001\u007f\u2028\u2029 é€😀 \ud800 lone \udc00 surrogates' },
  { long: LONG, again: LONG, list: [LONG, `${LONG}é`, `${LONG}\ud83d`] },
  { long: `${'é'.repeat(300)}"\n` },
  Object.assign(Object.create(null) as object, { nullProto: true }),
  { date: new Date(0) },
  { withToJSON: { toJSON: () => ({ replaced: true }) } },
  new Map([['a', 1]]),
  {
    nested: new (class Thing {
      x = 1;
    })(),
  },
  Object.defineProperty({ visible: 1 }, 'hidden', { value: 2, enumerable: false }),
  { [Symbol('k')]: 1, k: 2 },
  { big: 1n },
  undefined,
  () => 1,
];

function deep(n: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < n; i++) v = i % 2 ? { v } : [v];
  return v;
}

describe('prettyJsonBytes', () => {
  it('writes the bytes JSON.stringify(value, null, 2) + newline would, for every kind of value', () => {
    for (const [i, value] of VALUES.entries()) {
      let expected: Buffer | string;
      try {
        expected = reference(value);
      } catch (e) {
        expected = `throws ${String(e)}`;
      }
      let actual: Buffer | string;
      try {
        actual = prettyJsonBytes(value);
      } catch (e) {
        actual = `throws ${String(e)}`;
      }
      expect({ i, actual: actual.toString() }).toEqual({ i, actual: expected.toString() });
      if (Buffer.isBuffer(expected)) expect(Buffer.compare(actual as Buffer, expected)).toBe(0);
    }
  });

  it('handles nesting deeper than its own limit through JSON.stringify, and cycles with its error', () => {
    for (const n of [10, 63, 64, 65, 200]) expect(prettyJsonBytes(deep(n)).equals(reference(deep(n)))).toBe(true);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => prettyJsonBytes(cyclic)).toThrow(TypeError);
  });

  it('is what jsonBytes writes (the policy, the credential), in one piece or as chunks', () => {
    for (const value of [policy(1000), ...VALUES.slice(0, 30)]) {
      expect(Buffer.compare(Buffer.from(jsonBytes(value)), reference(value))).toBe(0);
      expect(Buffer.compare(Buffer.concat(prettyJsonChunks(value)), reference(value))).toBe(0);
    }
    // The repeated keyData is one Buffer, not 1,000 copies.
    const chunks = prettyJsonChunks(policy(1000));
    expect(new Set(chunks.filter((c) => c.length > 2000)).size).toBe(1);
  });
});

describe('the chunked policy resource', () => {
  it('reads, sizes and writes the same bytes as the policy JSON', async () => {
    const bundle = {
      repository: 'default',
      tag: 'test',
      policy: policy(300),
      sigstoreConfig: {},
      registries: [],
      keyResources: [],
    } as unknown as Bundle;
    const resources = await renderResources(bundle, { env: {} });
    const policyResource = resources.find((r) => r.id.type === 'security-policy')!;
    expect(resourceChunks(policyResource).length).toBeGreaterThan(300);
    expect(resourceSize(policyResource)).toBe(reference(bundle.policy).length);
    expect(Buffer.compare(Buffer.from(policyResource.bytes), reference(bundle.policy))).toBe(0);
    expect(Object.keys(policyResource)).toEqual(['id', 'bytes', 'mode']);
    const replaced = { ...policyResource };
    expect(Buffer.compare(Buffer.from(replaced.bytes), reference(bundle.policy))).toBe(0);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-chunks-'));
    try {
      await writeTree(dir, resources, 'nested');
      expect(
        Buffer.compare(await fs.readFile(path.join(dir, 'default/security-policy/test')), reference(bundle.policy)),
      ).toBe(0);
      expect((await fs.stat(path.join(dir, 'default/security-policy/test'))).mode & 0o777).toBe(0o644);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    // A caller may still set bytes: they replace the chunks everywhere.
    policyResource.bytes = Buffer.from('{}\n');
    expect(resourceChunks(policyResource).map((c) => Buffer.from(c).toString())).toEqual(['{}\n']);
    expect(resourceSize(policyResource)).toBe(3);
  });
});
