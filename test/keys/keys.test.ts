import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { assertKeyringUsable, readPublicKeyring, readSecretKey } from '../../src/keys/index.js';
import { CI_FIXTURES, IMAGE_RS_FIXTURES } from '../helpers/paths.js';

const ci = (f: string) => readFileSync(path.join(CI_FIXTURES, f));
const TEST_KEY = '08CD26E446E2E95249B7A405E932F44B23E8DD43';
const PASSPHRASE_KEY = 'F2B501009F78B0B340221A12A3CD242DA6028093';

async function inputError(p: Promise<unknown> | (() => unknown)): Promise<InputError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('readPublicKeyring', () => {
  it('reads an armored key and describes it', async () => {
    const ring = await readPublicKeyring(ci('public-key.gpg'), { file: 'public-key.gpg' });
    expect(Buffer.from(ring.bytes).equals(ci('public-key.gpg'))).toBe(true);
    expect(ring.descriptions).toHaveLength(1);
    const d = ring.descriptions[0]!;
    expect(d.fingerprint).toBe(TEST_KEY);
    expect(d.keyId).toBe('E932F44B23E8DD43');
    expect(d.userIds).toEqual(['skopeo testing key']);
    expect(d.algorithm).toBe('rsa3072');
    expect(d.expires).toBeNull();
    expect(d.revoked).toBe(false);
    expect(d.subkeys.map((s) => s.fingerprint)).toEqual(['C3497E66DDA639E1D1A07C3E1503AAD793884DD9']);
  });

  it('reads a binary keyring with several keys', async () => {
    const ring = await readPublicKeyring(ci('pubring.gpg'), { file: 'pubring.gpg' });
    expect(ring.descriptions.map((d) => d.fingerprint)).toEqual([
      PASSPHRASE_KEY,
      TEST_KEY,
      'B9F4CDB9FD8C475BFA340AC38D54A947EE396F36',
      '6D88C5A1993648A17B2BB0DC6B8499AF63388D63',
    ]);
    const rs = await readPublicKeyring(readFileSync(path.join(IMAGE_RS_FIXTURES, 'signature/pubring.gpg')), {});
    expect(rs.descriptions.map((d) => d.algorithm)).toEqual(['rsa2048', 'rsa2048', 'rsa2048']);
  });

  it('reads concatenated armored blocks as one keyring', async () => {
    const both = Buffer.concat([ci('public-key.gpg'), ci('public-key-with-subkey.gpg')]);
    const ring = await readPublicKeyring(both, { file: 'both.asc' });
    expect(ring.descriptions.map((d) => d.fingerprint)).toEqual([TEST_KEY, 'B9F4CDB9FD8C475BFA340AC38D54A947EE396F36']);
    expect(ring.descriptions[1]!.subkeys[0]!.canSign).toBe(true);
  });

  it('reads armored and binary keys joined with cat, in either order', async () => {
    const a = await readPublicKeyring(Buffer.concat([ci('public-key.gpg'), ci('public-key-2.gpg')]), {});
    expect(a.descriptions.map((d) => d.fingerprint)).toEqual([TEST_KEY, PASSPHRASE_KEY]);
    const b = await readPublicKeyring(
      Buffer.concat([ci('public-key-2.gpg'), Buffer.from('\n'), ci('public-key-with-subkey.gpg')]),
      {},
    );
    expect(b.descriptions.map((d) => d.fingerprint).sort()).toEqual(
      ['B9F4CDB9FD8C475BFA340AC38D54A947EE396F36', PASSPHRASE_KEY].sort(),
    );
  });

  it('reports a revoked subkey', async () => {
    const ring = await readPublicKeyring(ci('public-key-with-revoked-subkey.gpg'), {});
    expect(ring.descriptions[0]!.revoked).toBe(false);
    expect(ring.descriptions[0]!.subkeys[0]!.revoked).toBe(true);
  });

  it('refuses a file that is not OpenPGP, naming the file', async () => {
    const e = await inputError(readPublicKeyring(Buffer.from('aaa'), { file: 'keys/bad.gpg' }));
    expect(e.code).toBe('E_NOT_OPENPGP');
    expect(e.message).toMatch(/^keys\/bad\.gpg: not an OpenPGP key/);
    const empty = await inputError(readPublicKeyring(new Uint8Array(), { file: 'empty.gpg' }));
    expect(empty.code).toBe('E_NOT_OPENPGP');
    const garbage = await inputError(readPublicKeyring(Buffer.from([0x99, 0x01, 0x0d, 0x04, 1, 2, 3]), { file: 'x' }));
    expect(garbage.code).toBe('E_NOT_OPENPGP');
  });

  it('refuses an armored message or signature where a key is expected', async () => {
    const msg = await openpgp.createMessage({ text: 'hello' });
    const armored = msg.armor();
    const e = await inputError(readPublicKeyring(Buffer.from(armored), { file: 'm.asc' }));
    expect(e.code).toBe('E_NOT_OPENPGP');
    expect(e.message).toContain('PGP MESSAGE');
  });

  it('refuses a secret key given as the public key, without echoing it', async () => {
    const e = await inputError(readPublicKeyring(ci('secring.gpg'), { file: 'secring.gpg' }));
    expect(e.code).toBe('E_SECRET_KEY');
    expect(e.message).toBe('secring.gpg: is a secret key; give the public key (gpg --export)');
  });
});

describe('assertKeyringUsable', () => {
  it('refuses an expired key with its expiry date, unless allowed', async () => {
    const ring = await readPublicKeyring(
      readFileSync(path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/pubkey.gpg')),
      { file: 'pubkey.gpg' },
    );
    expect(ring.descriptions[0]!.expires).toBe('2022-09-23T10:17:44.000Z');
    const e = await inputError(() => assertKeyringUsable(ring, { file: 'pubkey.gpg' }, {}));
    expect(e.code).toBe('E_KEY_EXPIRED');
    expect(e.message).toContain('67B24AACC459679E0283D7EE58F6ED07EEA6B429');
    expect(e.message).toContain('expired on 2022-09-23');
    expect(() => assertKeyringUsable(ring, {}, { allowExpired: true })).not.toThrow();
    expect(() => assertKeyringUsable(ring, {}, { now: new Date('2022-01-01T00:00:00Z') })).not.toThrow();
  });

  it('refuses a revoked key, unless allowed', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'ecc',
      userIDs: [{ name: 'r', email: 'r@example.com' }],
      format: 'object',
    });
    const { publicKey: revoked } = await openpgp.revokeKey({ key: privateKey, format: 'binary' });
    const ring = await readPublicKeyring(revoked, { file: 'revoked.gpg' });
    expect(ring.descriptions[0]!.revoked).toBe(true);
    expect(ring.descriptions[0]!.algorithm).toBe('ed25519');
    const e = await inputError(() => assertKeyringUsable(ring, { file: 'revoked.gpg' }, {}));
    expect(e.code).toBe('E_KEY_REVOKED');
    expect(e.message).toContain(publicKey.getFingerprint().toUpperCase());
    expect(() => assertKeyringUsable(ring, {}, { allowRevoked: true })).not.toThrow();
  });

  it('accepts a usable keyring', async () => {
    const ring = await readPublicKeyring(ci('public-key.gpg'), {});
    expect(() => assertKeyringUsable(ring, {}, {})).not.toThrow();
  });
});

describe('readSecretKey', () => {
  it('decrypts a passphrase-protected key chosen from a keyring with several', async () => {
    const key = await readSecretKey(
      ci('secring.gpg'),
      'WithPassphrase123',
      { file: 'secring.gpg' },
      { fingerprint: PASSPHRASE_KEY },
    );
    expect(key.isDecrypted()).toBe(true);
    expect(key.getFingerprint().toUpperCase()).toBe(PASSPHRASE_KEY);
    const plain = await readSecretKey(ci('secring.gpg'), undefined, {}, { fingerprint: 'E932F44B23E8DD43' });
    expect(plain.getFingerprint().toUpperCase()).toBe(TEST_KEY);
  });

  it('asks which key when several are present', async () => {
    const e = await inputError(readSecretKey(ci('secring.gpg'), undefined, { file: 'secring.gpg' }));
    expect(e.code).toBe('E_SEVERAL_KEYS');
    expect(e.message).toContain(PASSPHRASE_KEY);
  });

  it('refuses a wrong passphrase with exit 2, never echoing it', async () => {
    const e = await inputError(
      readSecretKey(ci('secring.gpg'), 'not-the-right-one', { file: 'secring.gpg' }, { fingerprint: PASSPHRASE_KEY }),
    );
    expect(e.code).toBe('E_BAD_PASSPHRASE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('secring.gpg: wrong passphrase for the secret key');
    expect(e.cause).toBeUndefined();
    const missing = await inputError(
      readSecretKey(ci('secring.gpg'), undefined, { file: 's' }, { fingerprint: PASSPHRASE_KEY }),
    );
    expect(missing.code).toBe('E_PASSPHRASE_REQUIRED');
  });

  it('reads an armored encrypted key and refuses a public key', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'a' }],
      passphrase: 'pw',
      format: 'armored',
    });
    const key = await readSecretKey(Buffer.from(privateKey), 'pw', { file: 'a.asc' });
    expect(key.isDecrypted()).toBe(true);
    const e = await inputError(readSecretKey(ci('public-key.gpg'), undefined, { file: 'public-key.gpg' }));
    expect(e.code).toBe('E_PUBLIC_KEY');
    expect(e.message).toBe('public-key.gpg: is a public key; give the secret key (gpg --export-secret-keys)');
  });
});
