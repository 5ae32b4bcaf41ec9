/**
 * The guest's OpenPGP library by guest-components release: sequoia-openpgp before v0.20.0, rPGP since.
 * Cases are made with gpg; each shape the two libraries read differently is judged under both settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeyring, type Keyring } from '../../src/keys/index.js';
import { verifySignature, type VerifyOptions } from '../../src/openpgp/verify-signature.js';
import { CURRENT_GUEST_RELEASE, guestOpenPgp, parseGuestRelease } from '../../src/releases/guest-components.js';
import { createSignatureBackend } from '../../src/verify/index.js';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';

const PAYLOAD =
  '{"critical":{"identity":{"docker-reference":"r.example.com/a:1"},"image":{"docker-manifest-digest":"sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55"},"type":"atomic container signature"},"optional":{}}';
const NO_KEY = 'signature verify failed! There is no pubkey can verify the signature!';

let gnupg: GnupgHome;
let fpr: string;
let keyring: Keyring;

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  fpr = await gnupg.generateKey('Library', 'library@example.com', { algo: 'rsa2048' });
  keyring = await readPublicKeyring(await gnupg.exportPublic(fpr), {});
}, 60_000);

afterAll(async () => {
  await gnupg?.cleanup();
});

async function gpgSign(extra: string[]): Promise<Buffer> {
  const r = await gnupg.gpg([...extra, '--sign', '--local-user', fpr], PAYLOAD);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function guest(blob: Buffer, guestLibrary: VerifyOptions['guestLibrary']): Promise<string> {
  return verifySignature(blob, keyring, 'guest', { guestLibrary }).then(
    (v) => `allowed by ${v.signerFingerprint}`,
    (e: { reason: string }) => e.reason,
  );
}

describe('guest OpenPGP library by release', () => {
  it('sequoia before v0.20.0, rPGP from v0.20.0 on (the current release too)', () => {
    expect(guestOpenPgp(parseGuestRelease('v0.19.0'))).toBe('sequoia');
    expect(guestOpenPgp(parseGuestRelease('0.16'))).toBe('sequoia');
    expect(guestOpenPgp(parseGuestRelease('v0.20.0'))).toBe('rpgp');
    expect(guestOpenPgp(CURRENT_GUEST_RELEASE)).toBe('rpgp');
  });

  it('a compressed signed message, as gpg and skopeo write it: both accept', async () => {
    const blob = await gpgSign([]);
    expect(await guest(blob, 'rpgp')).toBe(`allowed by ${fpr}`);
    expect(await guest(blob, 'sequoia')).toBe(`allowed by ${fpr}`);
  });

  it('an armored signature file: sequoia dearmors and accepts it, rPGP finds no packet', async () => {
    const blob = await gpgSign(['--armor']);
    expect(blob.toString('latin1')).toMatch(/^-----BEGIN PGP MESSAGE-----/);
    expect(await guest(blob, 'sequoia')).toBe(`allowed by ${fpr}`);
    expect(await guest(blob, 'rpgp')).toBe('Failed to parse OpenPGP packet');
    // The default is the current release's library.
    expect(await verifySignature(blob, keyring, 'guest').catch((e: { reason: string }) => e.reason)).toBe(
      'Failed to parse OpenPGP packet',
    );
  });

  it('an uncompressed signed message: rPGP accepts it, sequoia finds nothing at its fixed packet paths', async () => {
    const blob = await gpgSign(['--compress-algo', 'none']);
    expect(await guest(blob, 'rpgp')).toBe(`allowed by ${fpr}`);
    expect(await guest(blob, 'sequoia')).toBe(NO_KEY);
  });

  it('a message signed by two keys: rPGP pairs the last one-pass packet with the last signature', async () => {
    const other = await gnupg.generateKey('Second', 'second@example.com', { algo: 'rsa2048' });
    const both = await readPublicKeyring(
      Buffer.concat([await gnupg.exportPublic(fpr), await gnupg.exportPublic(other)]),
      {},
    );
    // gpg writes one-pass(second) one-pass(first) literal signature(first) signature(second).
    const r = await gnupg.gpg(['--sign', '--local-user', fpr, '--local-user', other], PAYLOAD);
    expect(r.code, r.stderr).toBe(0);
    const hex = (h: string) =>
      `[${h
        .match(/../g)!
        .map((b) => parseInt(b, 16).toString(16).toUpperCase())
        .join(', ')}]`;
    const reason = (guestLibrary: VerifyOptions['guestLibrary']) =>
      verifySignature(r.stdout, both, 'guest', { guestLibrary }).catch((e: { reason: string }) => e.reason);
    expect(await reason('rpgp')).toBe(
      `Key ID not matched. trusted key id is: ${hex(other)}, but key id in signature info is: ${hex(fpr.slice(-16))}`,
    );
    // sequoia finds a one-pass packet, not a signature, at [0,2]: no key is tried.
    expect(await reason('sequoia')).toBe(NO_KEY);
    expect(await verifySignature(r.stdout, both, 'host').catch((e: { reason: string }) => e.reason)).toBe(
      'Unexpected GPG signature count 2',
    );
  }, 60_000);

  it('the backend option selects the library; an armored keyring yields its first block under both', async () => {
    const other = await gnupg.generateKey('Other', 'other@example.com', { algo: 'rsa2048' });
    const twoBlocks = Buffer.concat([await gnupg.exportPublic(fpr, true), await gnupg.exportPublic(other, true)]);
    const armoredSignature = await gpgSign(['--armor']);
    for (const guestLibrary of ['sequoia', 'rpgp'] as const) {
      const backend = createSignatureBackend({ guestLibrary });
      const guestRing = await backend.readKeyring(twoBlocks, { file: 'keyData' }, 'guest');
      expect(guestRing.descriptions.map((d) => d.fingerprint)).toEqual([fpr]);
      const hostRing = await backend.readKeyring(twoBlocks, { file: 'keyData' }, 'host');
      expect(hostRing.descriptions.map((d) => d.fingerprint)).toEqual([fpr, other]);
      const verdict = await backend.verify(armoredSignature, guestRing, 'guest').then(
        () => 'allowed',
        () => 'denied',
      );
      expect(verdict, guestLibrary).toBe(guestLibrary === 'sequoia' ? 'allowed' : 'denied');
    }
  }, 60_000);
});
