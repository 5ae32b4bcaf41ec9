/** Every simple-signing fixture of both reference verifiers gets the outcome their own tests expect. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeyring, type Keyring } from '../../src/keys/index.js';
import { parseNormalizedNamed } from '../../src/reference/index.js';
import * as openpgp from 'openpgp';
import {
  judgeSignature,
  manifestDigest,
  parsePayload,
  SignatureError,
  signImage,
  verifySignature,
  type VerifiedSignature,
} from '../../src/signature/index.js';
import { mergeKeyrings } from '../../src/audit/index.js';
import { CI_FIXTURES, IMAGE_RS_FIXTURES } from '../helpers/paths.js';

const ci = (f: string) => readFileSync(path.join(CI_FIXTURES, f));
const TEST_KEY = '08CD26E446E2E95249B7A405E932F44B23E8DD43';
const IMAGE_DIGEST = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';

let ring: Keyring;
beforeAll(async () => {
  ring = await readPublicKeyring(
    Buffer.concat([ci('public-key.gpg'), ci('public-key-with-subkey.gpg'), ci('public-key-with-revoked-subkey.gpg')]),
    { file: 'keys' },
  );
});

async function hostError(file: string): Promise<SignatureError> {
  const e = await verifySignature(ci(file), ring, 'host').then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, file).toBeInstanceOf(SignatureError);
  return e as SignatureError;
}

describe('containers-image fixtures, host mode', () => {
  it('image.signature: valid, payload as the Go tests read it', async () => {
    for (const key of [ci('public-key.gpg'), ci('public-key-1.gpg')]) {
      const v = await verifySignature(ci('image.signature'), await readPublicKeyring(key, {}), 'host');
      expect(v.signerFingerprint).toBe(TEST_KEY);
      expect(v.keyId).toBe('E932F44B23E8DD43');
      expect(v.bySubkey).toBe(false);
      expect(parsePayload(v.payloadBytes, 'host')).toEqual({
        dockerReference: 'testing/manifest',
        manifestDigest: IMAGE_DIGEST,
        type: 'atomic container signature',
        creator: 'atomic ',
        timestamp: 1458239713,
      });
    }
    expect(manifestDigest(ci('image.manifest.json'))).toBe(IMAGE_DIGEST);
  });

  it('no-optional-fields.signature: valid with optional {}', async () => {
    const v = await verifySignature(ci('no-optional-fields.signature'), ring, 'host');
    const p = parsePayload(v.payloadBytes, 'host');
    expect(p.creator).toBeUndefined();
    expect(p.timestamp).toBeUndefined();
    expect(p.dockerReference).toBe('testing/manifest');
  });

  it.each(['corrupt.signature', 'corrupt.signature-v3'])('%s: bad signature', async (f) => {
    const e = await hostError(f);
    expect(e.code).toBe('E_SIG_BAD');
  });

  it('expired.signature: signature expired', async () => {
    const e = await hostError('expired.signature');
    expect(e.code).toBe('E_SIG_EXPIRED');
    expect(e.reason).toBe('Signature expired on 2025-06-24T10:00:00.000Z');
  });

  it.each(['invalid-blob.signature', 'invalid-blob.signature-v3'])('%s: good signature, payload invalid', async (f) => {
    const v = await verifySignature(ci(f), ring, 'host');
    expect(Buffer.from(v.payloadBytes).toString()).toBe('This is not JSON\n');
    expect(() => parsePayload(v.payloadBytes, 'host')).toThrow(
      'invalid character at line 1, column 1 looking for beginning of value',
    );
  });

  it('invalid-reference.signature: good signature, identity does not parse', async () => {
    const v = await verifySignature(ci('invalid-reference.signature'), ring, 'host');
    const p = parsePayload(v.payloadBytes, 'host');
    expect(p.dockerReference).toBe('UPPERCASEISINVALID');
    expect(() => parseNormalizedNamed(p.dockerReference)).toThrow();
  });

  it.each(['unknown-key.signature', 'unknown-key.signature-v3'])('%s: unknown key 5F9470E3BC6C3B55', async (f) => {
    const e = await hostError(f);
    expect(e.code).toBe('E_SIG_UNKNOWN_KEY');
    expect(e.reason).toBe('Key not found for key ID 5f9470e3bc6c3b55 in signature');
  });

  it.each(['subkey.signature', 'subkey.signature-v3'])(
    '%s: valid on the host, subkey mapped to its primary',
    async (f) => {
      const v = await verifySignature(ci(f), ring, 'host');
      expect(v.signerFingerprint).toBe('B9F4CDB9FD8C475BFA340AC38D54A947EE396F36');
      expect(v.bySubkey).toBe(true);
      expect(v.subkeyFingerprint).toBe('57D1D95BBC53BA0EAFF0718CD75B3109B3BAAEAF');
      expect(parsePayload(v.payloadBytes, 'host').dockerReference).toBe('testing/manifest:latest');
    },
  );

  it.each(['subkey-revoked.signature', 'subkey-revoked.signature-v3'])('%s: revoked subkey', async (f) => {
    const e = await hostError(f);
    expect(e.code).toBe('E_KEY_REVOKED');
    expect(e.reason).toContain('4D33404E00B470050709F3233EF0F93A1F602997');
  });

  it('unsigned literal and encrypted messages are not signed', async () => {
    expect((await hostError('unsigned-literal.signature')).reason).toBe('not signed');
    expect((await hostError('unsigned-encrypted.signature')).code).toBe('E_SIG_FORMAT');
  });

  it('armored cleartext is rejected by the first-byte check', async () => {
    const e = await hostError('invalid-cleartext.signature');
    expect(e.code).toBe('E_SIG_FORMAT');
    expect(e.reason).toBe('unrecognized signature format, starting with binary 0x2d');
  });

  it('dir-img signatures verify; the modified manifest no longer matches the signed digest', async () => {
    for (const f of [
      'dir-img-valid/signature-1',
      'dir-img-valid-2/signature-1',
      'dir-img-valid-2/signature-2',
      'dir-img-mixed/signature-2',
      'dir-img-valid-subkey/signature-1',
    ]) {
      const v = await verifySignature(ci(f), ring, 'host');
      expect(parsePayload(v.payloadBytes, 'host').manifestDigest, f).toBe(
        manifestDigest(ci('dir-img-valid/manifest.json')),
      );
    }
    const v = await verifySignature(ci('dir-img-modified-manifest/signature-1'), ring, 'host');
    expect(parsePayload(v.payloadBytes, 'host').manifestDigest).not.toBe(
      manifestDigest(ci('dir-img-modified-manifest/manifest.json')),
    );
  });
});

describe('guest mode on the same fixtures (image-rs rules)', () => {
  it('subkey signatures are refused by the guest, which tries primary keys only', async () => {
    const v = await judgeSignature(ci('subkey.signature'), ring);
    expect(v.host).not.toBeInstanceOf(SignatureError);
    expect(v.guest).toBeInstanceOf(SignatureError);
    expect((v.guest as SignatureError).code).toBe('E_SIG_SUBKEY');
    expect((v.guest as SignatureError).reason).toBe(
      'signature verify failed! There is no pubkey can verify the signature!',
    );
  });

  it('an expired signature is accepted by the guest (no expiry check) but reported', async () => {
    const v = await verifySignature(ci('expired.signature'), ring, 'guest');
    expect(v.signatureExpired).toBe('2025-06-24T10:00:00.000Z');
  });

  it('a message without a one-pass packet is refused with the guest text', async () => {
    const e = await verifySignature(ci('unsigned-literal.signature'), ring, 'guest').catch(
      (x: unknown) => x as SignatureError,
    );
    expect((e as SignatureError).reason).toBe('Signature format error: no OnePassSignature packet found');
  });
});

describe('blob format checks', () => {
  it('refuses an armored signature (host first-byte check; the guest cannot parse it)', async () => {
    const armored = Buffer.from(openpgp.armor(openpgp.enums.armor.message, ci('image.signature')));
    const v = await judgeSignature(armored, ring);
    expect((v.host as SignatureError).reason).toBe('unrecognized signature format, starting with binary 0x2d');
    expect((v.guest as SignatureError).reason).toBe('Failed to parse OpenPGP packet');
  });

  it('accepts the \\x00simple-signing\\n framing on the host and refuses sigstore blobs', async () => {
    const framed = Buffer.concat([Buffer.from('\x00simple-signing\n'), ci('image.signature')]);
    expect((await verifySignature(framed, ring, 'host')).signerFingerprint).toBe(TEST_KEY);
    const e = await verifySignature(
      Buffer.concat([Buffer.from('\x00sigstore-json\n'), Buffer.from('{}')]),
      ring,
      'host',
    ).catch((x: unknown) => x as SignatureError);
    expect((e as SignatureError).code).toBe('E_SIG_FORMAT');
    const empty = await verifySignature(new Uint8Array(), ring, 'host').catch((x: unknown) => x as SignatureError);
    expect((empty as SignatureError).reason).toBe('empty signature blob');
  });

  it('refuses blobs over 4 MiB in both modes', async () => {
    const big = Buffer.concat([ci('image.signature'), Buffer.alloc(4 * 1024 * 1024)]);
    const v = await judgeSignature(big, ring);
    expect((v.host as SignatureError).code).toBe('E_SIG_TOO_LARGE');
    expect((v.guest as SignatureError).code).toBe('E_SIG_TOO_LARGE');
  });

  it('refuses two signature packets on the host (gpgme: one signature expected)', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'a' }],
      format: 'object',
    });
    const { privateKey: second, publicKey: secondPublic } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'b' }],
      format: 'object',
    });
    const message = await openpgp.createMessage({ binary: Buffer.from('{}') });
    // openpgp's declarations type the result through a package it does not ship; bytes in give bytes out.
    const blob = (await openpgp.sign({ message, signingKeys: [privateKey, second], format: 'binary' })) as Uint8Array;
    const keyring = await readPublicKeyring(Buffer.concat([publicKey.write(), secondPublic.write()]), {});
    const e = await verifySignature(blob, keyring, 'host').catch((x: unknown) => x as SignatureError);
    expect((e as SignatureError).reason).toBe('Unexpected GPG signature count 2');
  });
});

describe('mergeKeyrings', () => {
  it('joins an armored and a binary keyring into one whose bytes read back as a binary keyring', async () => {
    const merged = mergeKeyrings([
      await readPublicKeyring(ci('public-key.gpg'), {}),
      await readPublicKeyring(ci('public-key-2.gpg'), {}),
    ]);
    expect(merged.bytes[0]! & 0x80).toBe(0x80);
    const again = await readPublicKeyring(merged.bytes, {});
    expect(again.descriptions.map((d) => d.fingerprint)).toEqual([
      TEST_KEY,
      'F2B501009F78B0B340221A12A3CD242DA6028093',
    ]);
  });
});

describe('guest key-id check', () => {
  it('refuses a signature whose one-pass key id is not the verifying key (the host, like gpg, ignores it)', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'k' }],
      format: 'object',
    });
    const keyring = await readPublicKeyring(publicKey.write(), {});
    const blob = Buffer.from(
      await signImage({ key: privateKey, dockerReference: 'a/b:1', manifestDigest: IMAGE_DIGEST }),
    );
    expect([blob[0], blob[1], blob[2]]).toEqual([0xc4, 0x0d, 0x03]); // new-format one-pass packet, v3
    blob[13] = blob[13]! ^ 0x01; // last byte of the one-pass key id
    const fpr = keyring.descriptions[0]!.fingerprint;
    // image-rs prints the trusted key's whole fingerprint, and the one-pass packet's key id.
    const trusted = fpr.match(/../g)!.map((b) => parseInt(b, 16).toString(16).toUpperCase());
    const claimed = [...trusted.slice(12, 19), (parseInt(fpr.slice(-2), 16) ^ 1).toString(16).toUpperCase()];
    const e = await verifySignature(blob, keyring, 'guest').catch((x: unknown) => x as SignatureError);
    expect(e).toBeInstanceOf(SignatureError);
    expect((e as SignatureError).code).toBe('E_SIG_KEY_ID');
    expect((e as SignatureError).reason).toBe(
      `Key ID not matched. trusted key id is: [${trusted.join(', ')}], but key id in signature info is: [${claimed.join(', ')}]`,
    );
    expect((await verifySignature(blob, keyring, 'host')).signerFingerprint).toBe(fpr);
  });
});

describe('image-rs fixtures, guest mode', () => {
  it('signature/signatures/signature-{1,2} verify with signature/pubring.gpg (SHA-1)', async () => {
    const rs = await readPublicKeyring(readFileSync(path.join(IMAGE_RS_FIXTURES, 'signature/pubring.gpg')), {});
    for (const f of ['signature-1', 'signature-2']) {
      const v: VerifiedSignature = await verifySignature(
        readFileSync(path.join(IMAGE_RS_FIXTURES, 'signature/signatures', f)),
        rs,
        'guest',
      );
      expect(v.signerFingerprint).toBe('2183156095E072685518F8A97EFD4C926F9311E2');
      expect(parsePayload(v.payloadBytes, 'guest')).toMatchObject({
        dockerReference: 'quay.io/ali_os_security/alpine:latest',
        manifestDigest: 'sha256:69704ef328d05a9f806b6b8502915e6a0a4faa4d72018dc42343f511490daf8a',
      });
    }
  });
});
