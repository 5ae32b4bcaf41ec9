/**
 * The openpgp.js-free keyring reader (cold-start verify) must agree with readPublicKeyring
 * (openpgp.js) wherever it answers, and must decline (undefined → openpgp.js) everything else.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { readPlainPublicKeyring } from '../../src/openpgp/fast-keyring.js';
import { generateSigningKey, readPublicKeyring, readSecretKey, type Keyring } from '../../src/keys/index.js';
import { signImage, verifySignature } from '../../src/signature/index.js';
import { generateExpiryVariety, useGnupgHome } from '../helpers/gpg.js';
import { FIXTURES } from '../helpers/paths.js';
import { keyIndex } from '../../src/openpgp/key-index.js';
import { keyIndexFacts } from '../helpers/key-facts.js';

function keyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return keyFiles(p);
    return /\.(gpg|asc|pub)$/.test(name) && !/secring|trustdb/.test(name) ? [p] : [];
  });
}

/** Reads `bytes` both ways; when the fast reader answers, everything must be the same. Returns whether it answered. */
async function agrees(bytes: Uint8Array): Promise<boolean> {
  const fast = readPlainPublicKeyring(bytes);
  let full: Keyring | undefined;
  try {
    full = await readPublicKeyring(bytes, { file: 'key' });
  } catch {
    full = undefined;
  }
  if (!fast) return false;
  expect(full, 'openpgp.js refuses a key the fast reader accepted').toBeDefined();
  expect(Buffer.from(fast.bytes).equals(Buffer.from(bytes))).toBe(true);
  expect(fast.descriptions).toEqual(full!.descriptions);
  expect(await keyIndexFacts(fast)).toEqual(await keyIndexFacts(full!));
  return true;
}

describe('readPlainPublicKeyring', () => {
  it('agrees with openpgp.js on every fixture key (and reads the plain binary RSA ones itself)', async () => {
    const files = keyFiles(FIXTURES);
    // 9 OpenPGP key files and 9 PEM (cosign, rekor, RSA) public keys
    expect(files).toHaveLength(18);
    const answered: string[] = [];
    for (const f of files) {
      const bytes = readFileSync(f);
      if (await agrees(bytes)) answered.push(path.relative(FIXTURES, f));
      // armored fixtures, dearmored, take the binary path
      if (bytes.subarray(0, 5).toString() === '-----') {
        try {
          const keys = await openpgp.readKeys({ armoredKeys: bytes.toString() });
          for (const k of keys)
            if (!k.isPrivate() && (await agrees(k.write()))) answered.push(`${path.relative(FIXTURES, f)} (dearmored)`);
        } catch {
          // not a key (a cosign PEM key, say)
        }
      }
    }
    // The single plain RSA keys, binary or armored; not the keyrings of several keys, not the keys with a
    // signing or revoked subkey, not the PEM keys.
    expect(answered.sort()).toEqual([
      'containers-image/public-key-1.gpg',
      'containers-image/public-key-2.gpg',
      'containers-image/public-key.gpg',
      'containers-image/public-key.gpg (dearmored)',
      'image-rs-sample-kbc/pubkey.gpg',
      'image-rs-sample-kbc/pubkey.gpg (dearmored)',
      'image-rs/simple-signing-scheme/pubkey.gpg',
      'image-rs/simple-signing-scheme/pubkey.gpg (dearmored)',
    ]);
  });

  it('reads a key made by keygen (gpg --export form, with its encryption subkey) and verifies its signatures exactly as openpgp.js-read keys do', async () => {
    const generated = await generateSigningKey({
      name: 'fast',
      email: 'fast@example.com',
      date: new Date('2024-01-01T00:00:00Z'),
    });
    const binary = (await openpgp.readKey({ armoredKey: generated.publicArmored })).write();
    expect(await agrees(binary)).toBe(true);
    const key = await readSecretKey(new TextEncoder().encode(generated.secretArmored), undefined, { file: 'secret' });
    const blob = await signImage({
      key,
      dockerReference: 'registry.example.com/app:1',
      manifestDigest: `sha256:${'a'.repeat(64)}`,
      timestamp: 1735689600,
    });
    const fast = readPlainPublicKeyring(binary)!;
    const full = await readPublicKeyring(binary, { file: 'key' });
    for (const mode of ['guest', 'host'] as const) {
      expect(await verifySignature(blob, fast, mode)).toEqual(await verifySignature(blob, full, mode));
    }
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 5] = tampered[tampered.length - 5]! ^ 0x01;
    for (const mode of ['guest', 'host'] as const) {
      const a = await verifySignature(tampered, fast, mode).catch((e: { code?: string }) => e.code);
      const b = await verifySignature(tampered, full, mode).catch((e: { code?: string }) => e.code);
      expect(a).toBe(b);
      expect(a).toBe('E_SIG_BAD');
    }
  });

  it('declines what it does not handle: armor with a bad checksum, ed25519, a broken self-signature, a keyring of two keys', async () => {
    const generated = await generateSigningKey({ name: 'fast', email: 'fast@example.com' });
    expect(readPlainPublicKeyring(new TextEncoder().encode(generated.publicArmored))).toBeDefined(); // see armor.test.ts
    const badCrc = generated.publicArmored.replace(/\n=(.)/, (_m, c: string) => `\n=${c === 'A' ? 'B' : 'A'}`);
    expect(badCrc).not.toBe(generated.publicArmored);
    expect(readPlainPublicKeyring(new TextEncoder().encode(badCrc))).toBeUndefined();
    const ed = await generateSigningKey({ name: 'ed', email: 'ed@example.com', algorithm: 'ed25519' });
    expect(readPlainPublicKeyring((await openpgp.readKey({ armoredKey: ed.publicArmored })).write())).toBeUndefined();
    const binary = Buffer.from((await openpgp.readKey({ armoredKey: generated.publicArmored })).write());
    expect(readPlainPublicKeyring(binary)).toBeDefined();
    const broken = Buffer.from(binary);
    broken[broken.length - 3] = broken[broken.length - 3]! ^ 0x01; // last MPI byte of the subkey binding signature
    expect(readPlainPublicKeyring(broken)).toBeUndefined();
    expect(readPlainPublicKeyring(Buffer.concat([binary, binary]))).toBeUndefined();
  });

  describe('gpg-made keys', () => {
    const gpg = useGnupgHome();

    it('agree with openpgp.js: never-expiring, expiring, already expired', async () => {
      const { plain, expiring, expired } = await generateExpiryVariety(gpg());
      const answered = [];
      for (const fpr of [plain, expiring, expired]) answered.push(await agrees(await gpg().exportPublic(fpr)));
      expect(answered).toEqual([true, true, true]);
      const old = readPlainPublicKeyring(await gpg().exportPublic(expired))!;
      expect(old.descriptions[0]!.expires).toBe('2020-01-02T00:00:00.000Z');
      expect((await keyIndex(old)).primaries[0]!.signingUsable).toBe(false);
    }, 120_000);
  });
});
