/** docs/guest-vs-host.md §6 (one signature): every row, both modes' decisions and words. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { CI_FIXTURES } from '../helpers/paths.js';
import { DIGEST, IMAGE_FULL, judgeBoth, payloadText, scoped, sign, signedByKeyData } from './scenario.js';

const fixture = (f: string) => fs.readFile(path.join(CI_FIXTURES, f));
const TEST_MANIFEST_DIGEST = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';

describe('§6 one signature, guest vs host', () => {
  it('a valid signature by the primary key is accepted by both', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText(IMAGE_FULL)) },
    });
    expect([guest.allowed, host.allowed]).toEqual([true, true]);
  });

  it("an armored cleartext blob: not a signed message for the guest, the host's store read fails on its first byte", async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await fixture('invalid-cleartext.signature') },
    });
    expect(guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [Failed to parse OpenPGP packet]');
    expect(host.message).toBe(
      `Source image rejected: parsing signature "/sigs/ns/app@${DIGEST.replace(':', '=')}/signature-1": unrecognized signature format, starting with binary 0x2d`,
    );
  });

  it('a signature by a signing subkey: the guest tries primary keys only, the host maps the subkey to its primary', async () => {
    const key = (await fixture('public-key-with-subkey.gpg')).toString('base64');
    const { guest, host, report } = await judgeBoth({
      image: 'docker.io/testing/manifest:latest',
      digest: TEST_MANIFEST_DIGEST,
      policy: scoped(
        [{ type: 'signedBy', keyType: 'GPGKeys', keyData: key, signedIdentity: { type: 'matchRepository' } }],
        'docker.io/testing/manifest',
      ),
      signatures: { 'signature-1': await fixture('subkey.signature') },
    });
    expect(guest.chain[1]).toBe(
      'The signatures do not satisfied! Reject reason: [signature verify failed! There is no pubkey can verify the signature!]',
    );
    expect(host.allowed).toBe(true);
    expect(host.outcomes[0]?.signatures[0]?.reason).toContain('older hosts (skopeo 1.9.3 / c/image 5.23) reject it');
    expect(report.divergences[0]?.rule).toBe('subkey signature');
  });

  it('an expired key: the guest does not check expiry, the host rejects the signature', async () => {
    const created = new Date(Date.now() - 10 * 86400_000);
    const { privateKey, publicKey } = await openpgp.generateKey({
      userIDs: [{ name: 'expired', email: 'e@example.com' }],
      type: 'ecc',
      keyExpirationTime: 86400,
      date: created,
      format: 'object',
    });
    const message = await openpgp.createMessage({
      binary: new TextEncoder().encode(payloadText(IMAGE_FULL)),
      date: created,
    });
    // openpgp's declarations type the result through a package it does not ship; bytes in give bytes out.
    const blob = (await openpgp.sign({
      message,
      signingKeys: privateKey,
      format: 'binary',
      date: new Date(created.getTime() + 1000),
    })) as Uint8Array;
    const keyData = Buffer.from(publicKey.write()).toString('base64');
    const { guest, host, report } = await judgeBoth({
      policy: scoped([{ type: 'signedBy', keyType: 'GPGKeys', keyData }]),
      signatures: { 'signature-1': blob },
    });
    expect(guest.allowed).toBe(true);
    expect(host.allowed).toBe(false);
    expect(host.outcomes[0]?.signatures[0]?.code).toBe('E_KEY_EXPIRED');
    expect(report.divergences[0]?.rule).toBe('expired key');
  });

  it('critical.type: a string whose value the guest does not check; the host requires `atomic container signature`', async () => {
    const { guest, host, report } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText(IMAGE_FULL, DIGEST, { type: 'something else' })) },
    });
    expect(guest.allowed).toBe(true);
    expect(host.allowed).toBe(false);
    expect(host.message).toContain('something else');
    expect(report.divergences[0]?.rule).toBe('payload strictness');
  });

  it('unknown keys in critical: ignored by the guest, `Unknown key "x"` on the host', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText(IMAGE_FULL, DIGEST, { critical: ',"extra":1' })) },
    });
    expect(guest.allowed).toBe(true);
    expect(host.message).toBe('Source image rejected: Unknown key "extra"');
  });

  it('duplicate JSON keys: `duplicate field` in the guest (serde_derive), `Duplicate key "x"` on the host', async () => {
    const text = payloadText(IMAGE_FULL).replace(
      '"identity":{',
      '"identity":{"docker-reference":"elsewhere.example.com/x:1",',
    );
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(text) },
    });
    expect(guest.allowed).toBe(false);
    expect(guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [duplicate field `docker-reference`]');
    expect(host.message).toBe('Source image rejected: Duplicate key "docker-reference"');
  });

  it('`optional` absent: fine for the guest, required by the host', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText(IMAGE_FULL, DIGEST, { optional: null })) },
    });
    expect(guest.allowed).toBe(true);
    expect(host.allowed).toBe(false);
    expect(host.message).toContain('optional');
  });

  it('order of checks: identity first in the guest, digest first on the host', async () => {
    const other = `sha256:${'3'.repeat(64)}`;
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText('registry.example.com/ns/app:9', other)) },
    });
    expect(guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [Match reference failed.]');
    expect(host.message).toBe(`Source image rejected: Signature for digest ${other} does not match`);
  });

  it('digest mismatch: each side words it', async () => {
    const other = `sha256:${'3'.repeat(64)}`;
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText(IMAGE_FULL, other)) },
    });
    expect(guest.chain[1]).toBe(
      `The signatures do not satisfied! Reject reason: [SigPayload's manifest digest does not match, the input is ${DIGEST}, but in SigPayload it is ${other}]`,
    );
    expect(host.message).toBe(`Source image rejected: Signature for digest ${other} does not match`);
  });

  it('identity mismatch: `Match reference failed.` / `Signature for identity "…" is not accepted`', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText('registry.example.com/ns/other:1.0')) },
    });
    expect(guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [Match reference failed.]');
    expect(host.message).toBe(
      'Source image rejected: Signature for identity "registry.example.com/ns/other:1.0" is not accepted',
    );
  });

  it('several signatures: one valid is enough on both sides; none valid lists every reason', async () => {
    const bad = await sign(payloadText('registry.example.com/ns/other:1.0'));
    const good = await sign(payloadText(IMAGE_FULL));
    const one = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': bad, 'signature-2': good },
    });
    expect([one.guest.allowed, one.host.allowed]).toEqual([true, true]);
    const other = `sha256:${'3'.repeat(64)}`;
    const none = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': bad, 'signature-2': await sign(payloadText(IMAGE_FULL, other)) },
    });
    expect(none.guest.chain[1]).toMatch(/^The signatures do not satisfied! Reject reason: \[.+, .+\]$/);
    expect(none.guest.chain[1]).toContain('Match reference failed.');
    expect(none.guest.chain[1]).toContain(`but in SigPayload it is ${other}`);
    expect(none.host.message).toBe(
      `Source image rejected: None of the signatures were accepted, reasons: Signature for identity "registry.example.com/ns/other:1.0" is not accepted; Signature for digest ${other} does not match`,
    );
  });
});
