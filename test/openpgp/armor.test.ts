/**
 * Armored keys on the openpgp.js-free path: dearmorPublicKey must yield exactly what openpgp.js's
 * unarmor yields wherever it answers, and the verifier's key reader (fast path, else openpgp.js)
 * must give the same keys — or the same refusal — as readPublicKeyring on every armored fixture key,
 * on keygen and gpg keys, and on mutated armor.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { crc24, dearmorPublicKey } from '../../src/openpgp/armor.js';
import { readPlainPublicKeyring } from '../../src/openpgp/fast-keyring.js';
import { generateSigningKey, readPublicKeyring, type Keyring } from '../../src/keys/index.js';
import { defaultSignatureBackend } from '../../src/verify/default-backend.js';
import { generateExpiryVariety, useGnupgHome } from '../helpers/gpg.js';
import { FIXTURES } from '../helpers/paths.js';
import { keyIndexFacts } from '../helpers/key-facts.js';

function armoredKeyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return armoredKeyFiles(p);
    return readFileSync(p).subarray(0, 4096).toString('latin1').includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')
      ? [p]
      : [];
  });
}

/** What a reader makes of `bytes`: the keys (bytes, descriptions, key index) or the refusal. */
async function outcome(read: () => Promise<Keyring>) {
  try {
    const k = await read();
    return {
      bytes: Buffer.from(k.bytes).toString('base64'),
      descriptions: k.descriptions,
      index: await keyIndexFacts(k),
    };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { code: err.code, message: err.message };
  }
}

/**
 * The verifier's reader agrees with readPublicKeyring; when the de-armorer answers, its bytes are
 * openpgp.js's unarmor data. Returns whether the openpgp.js-free path answered.
 */
async function agrees(bytes: Uint8Array): Promise<boolean> {
  const location = { file: 'key' };
  const full = await outcome(() => readPublicKeyring(bytes, location));
  const verifier = await outcome(() => defaultSignatureBackend.readKeyring(bytes, location));
  expect(verifier).toEqual(full);
  const data = dearmorPublicKey(bytes);
  if (data) {
    const unarmored = await openpgp.unarmor(Buffer.from(bytes).toString('latin1'));
    expect(unarmored.type).toBe(openpgp.enums.armor.publicKey);
    expect(Buffer.from(data).equals(Buffer.from(unarmored.data as Uint8Array))).toBe(true);
  }
  const fast = readPlainPublicKeyring(bytes);
  if (fast) expect('bytes' in full).toBe(true);
  return fast !== undefined;
}

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const bytesOf = (s: string) => Buffer.from(s, 'latin1');

/** Armor lines: [BEGIN, headers…, '', body…, checksum, END]. */
function parts(armored: string) {
  const lines = armored.trimEnd().split('\n');
  const blank = lines.indexOf('');
  return {
    head: lines.slice(0, blank),
    body: lines.slice(blank + 1, -2),
    checksum: lines[lines.length - 2]!,
    end: lines[lines.length - 1]!,
  };
}
const join = (p: { head: string[]; body: string[]; checksum?: string; end: string }) =>
  [...p.head, '', ...p.body, ...(p.checksum !== undefined ? [p.checksum] : []), p.end].join('\n') + '\n';
const checksumOf = (b64: string) => {
  const c = crc24(Buffer.from(b64, 'base64'));
  return '=' + Buffer.from([c >>> 16, (c >>> 8) & 0xff, c & 0xff]).toString('base64');
};

/** Mutations of one armored key, with whether the openpgp.js-free path must answer. */
function mutations(armored: string, other: string): Array<[string, string, boolean]> {
  const p = parts(armored);
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const truncatedBody = p.body.slice(0, -2);
  const truncated = truncatedBody.join('');
  const paddedTruncated = truncated.slice(0, truncated.length - (truncated.length % 4));
  return [
    ['as is', armored, true],
    ['CRLF line ends', armored.replace(/\n/g, '\r\n'), true],
    [
      'extra headers',
      join({
        ...p,
        head: [p.head[0]!, 'Version: GnuPG v2', 'Comment: a comment: with colons', 'Hash: SHA256', ...p.head.slice(1)],
      }),
      true,
    ],
    ['blank lines around', `\n\n${armored}\n\n`, true],
    ['bad CRC', join({ ...p, checksum: flip(p.checksum, 2) }), false],
    ['missing CRC', join({ ...p, checksum: undefined }), false],
    ['body changed (CRC no longer matches)', join({ ...p, body: [flip(p.body[0]!, 10), ...p.body.slice(1)] }), false],
    [
      'body cut short, CRC recomputed',
      join({ ...p, body: [paddedTruncated], checksum: checksumOf(paddedTruncated) }),
      false,
    ],
    ['trailing text', `${armored}some trailing text\n`, false],
    ['leading text', `key follows\n${armored}`, false],
    ['two blocks (same key)', armored + armored, false],
    ['two blocks (two keys)', armored + other, false],
    ['no blank line after the headers', [...p.head, ...p.body, p.checksum, p.end].join('\n') + '\n', false],
    ['malformed header', join({ ...p, head: [p.head[0]!, 'Comment:no-space'] }), false],
    ['trailing spaces', armored.replace(/\n/g, '  \n'), false],
    [
      'a character outside base64',
      join({ ...p, body: [p.body[0]!.slice(0, 5) + '*' + p.body[0]!.slice(6), ...p.body.slice(1)] }),
      false,
    ],
    ['a lone CR', armored.replace('\n', '\r'), false],
    ['a message block', armored.replace(/PUBLIC KEY BLOCK/g, 'MESSAGE'), false],
    ['a private key block header', armored.replace(/PUBLIC KEY BLOCK/g, 'PRIVATE KEY BLOCK'), false],
  ];
}

async function checkMutations(armored: string, other: string, label: string) {
  for (const [name, mutated, fast] of mutations(armored, other)) {
    const answered = await agrees(bytesOf(mutated));
    expect(answered, `${label}: ${name}`).toBe(fast);
  }
}

describe('armored keys without openpgp.js', () => {
  it('CRC-24 is RFC 4880’s (checksum of the empty input is the initial value)', () => {
    expect(crc24(new Uint8Array())).toBe(0xb704ce);
    expect(crc24(Buffer.from('123456789'))).toBe(0x21cf02);
  });

  it('agree with openpgp.js on every armored fixture key, as is and mutated', async () => {
    const files = armoredKeyFiles(FIXTURES);
    const relative = (list: string[]) => list.map((f) => path.relative(FIXTURES, f)).sort();
    expect(relative(files)).toEqual([
      'containers-image/public-key-with-revoked-subkey.gpg',
      'containers-image/public-key-with-subkey.gpg',
      'containers-image/public-key.gpg',
      'image-rs-sample-kbc/pubkey.gpg',
      'image-rs/simple-signing-scheme/pubkey.gpg',
    ]);
    const answered: string[] = [];
    const other = (await generateSigningKey({ name: 'other', email: 'other@example.com' })).publicArmored;
    for (const f of files) {
      const bytes = readFileSync(f);
      if (dearmorPublicKey(bytes)) answered.push(path.relative(FIXTURES, f));
      await agrees(bytes);
      for (const [name, mutated] of mutations(text(bytes), other)) {
        try {
          await agrees(bytesOf(mutated));
        } catch (e) {
          throw new Error(`${path.relative(FIXTURES, f)}, ${name}: ${(e as Error).message}`, { cause: e });
        }
      }
    }
    // every armored fixture key de-armors; the plain RSA ones are also read without openpgp.js
    expect(answered.length).toBe(files.length);
    expect(relative(files.filter((f) => readPlainPublicKeyring(readFileSync(f))))).toEqual([
      'containers-image/public-key.gpg',
      'image-rs-sample-kbc/pubkey.gpg',
      'image-rs/simple-signing-scheme/pubkey.gpg',
    ]);
  });

  it('reads a keygen key armored exactly as openpgp.js does; mutated armor gets the same keys or the same refusal', async () => {
    const key = await generateSigningKey({
      name: 'armor',
      email: 'armor@example.com',
      date: new Date('2024-01-01T00:00:00Z'),
    });
    const other = await generateSigningKey({ name: 'other', email: 'other@example.com' });
    await checkMutations(key.publicArmored, other.publicArmored, 'keygen');
    const ring = readPlainPublicKeyring(bytesOf(key.publicArmored))!;
    expect(Buffer.from(ring.bytes).toString('latin1')).toBe(key.publicArmored);
    expect(ring.descriptions[0]!.fingerprint).toBe(key.fingerprint);
  });

  it('declines a secret key block (openpgp.js refuses it with E_SECRET_KEY)', async () => {
    const key = await generateSigningKey({ name: 'secret', email: 'secret@example.com' });
    const bytes = bytesOf(key.secretArmored);
    expect(dearmorPublicKey(bytes)).toBeUndefined();
    expect(await agrees(bytes)).toBe(false);
    expect(await outcome(() => defaultSignatureBackend.readKeyring(bytes, { file: 'key' }))).toMatchObject({
      code: 'E_SECRET_KEY',
    });
  });

  describe('gpg-made keys', () => {
    const gpg = useGnupgHome();

    it('gpg --export --armor: same keys as openpgp.js (never-expiring, expiring, expired, ed25519), mutations too', async () => {
      const { plain, expiring, expired } = await generateExpiryVariety(gpg());
      const ed = await gpg().generateKey('ed', 'ed@example.com', { algo: 'ed25519' });
      const armored = await Promise.all([plain, expiring, expired, ed].map((f) => gpg().exportPublic(f, true)));
      const answered = [];
      for (const a of armored) answered.push(await agrees(a));
      expect(answered).toEqual([true, true, true, false]); // ed25519 is openpgp.js's, after de-armoring
      expect(armored.every((a) => dearmorPublicKey(a) !== undefined)).toBe(true);
      await checkMutations(text(armored[0]!), text(armored[3]!), 'gpg');
    }, 120_000);
  });
});
