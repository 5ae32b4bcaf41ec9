/** docs/guest-vs-host.md §4 (policy parsing): every row, both modes' decisions and words. */
import { describe, expect, it } from 'vitest';
import { IMAGE_FULL, judgeBoth, payloadText, publicKeyData, scoped, sign, signedByKeyData } from './scenario.js';

const ACCEPT = [{ type: 'insecureAcceptAnything' }];

describe('§4 policy parsing, guest vs host', () => {
  it('`default` missing: both deny, in their own words', async () => {
    const { guest, host } = await judgeBoth({ policy: { transports: { docker: {} } } });
    expect(guest.message).toBe('Initialize signature validator failed: Invalid image policy file');
    expect(host.message).toBe('invalid policy in "policy.json": Default policy is missing');
    expect([guest.allowed, host.allowed]).toEqual([false, false]);
  });

  it('`transports` missing: the guest refuses the policy, the host allows', async () => {
    const { guest, host, report } = await judgeBoth({ policy: { default: ACCEPT } });
    expect(guest.message).toBe('Initialize signature validator failed: Invalid image policy file');
    expect(host.allowed).toBe(true);
    expect(report.divergences[0]?.rule).toBe('missing transports');
  });

  it('unknown keys: ignored by the guest, `Unknown key "x"` on the host', async () => {
    const { guest, host, report } = await judgeBoth({
      policy: { default: [{ type: 'insecureAcceptAnything', comment: 'x' }], transports: {}, x: 1 },
    });
    expect(guest.allowed).toBe(true);
    expect(host.message).toBe('invalid policy in "policy.json": Unknown key "comment"');
    expect(report.divergences[0]?.rule).toBe('unknown keys');
  });

  it('empty requirement list (incl. "default": []): the guest allows, the host refuses the policy', async () => {
    const { guest, host, report } = await judgeBoth({ policy: { default: [], transports: {} } });
    expect(guest.allowed).toBe(true);
    expect(host.message).toBe(
      'invalid policy in "policy.json": List of verification policy requirements must not be empty',
    );
    expect(report.divergences[0]?.rule).toBe('empty requirement list');
  });

  it('unknown `type`: `Invalid image policy file` / `Unknown policy requirement type at …` (the value not quoted)', async () => {
    const { guest, host } = await judgeBoth({ policy: scoped([{ type: 'signedByMagic' }]) });
    expect(guest.message).toBe('Initialize signature validator failed: Invalid image policy file');
    expect(host.message).toBe(
      'invalid policy in "policy.json": Unknown policy requirement type at transports.docker["registry.example.com/ns/app"][0].type (one of insecureAcceptAnything, reject, signedBy, sigstoreSigned, signedBaseLayer)',
    );
  });

  it('signedBy.keyType other than GPGKeys: both deny, each with its text', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData({ keyType: 'X509Certificates' })]),
      signatures: { 'signature-1': await sign(payloadText(IMAGE_FULL)) },
    });
    expect(guest.chain[1]).toBe('Unknown key type in policy config: only support GPGKeys now.');
    expect(host.message).toBe('Source image rejected: Unimplemented "keyType" value "X509Certificates"');
  });

  it('keyPaths: silently ignored by the guest (Neither keyPath or keyData specified.), supported by the host', async () => {
    const sig = await sign(payloadText(IMAGE_FULL));
    const { guest, host, report } = await judgeBoth({
      policy: scoped([{ type: 'signedBy', keyType: 'GPGKeys', keyPaths: ['/keys/a.gpg'] }]),
      signatures: { 'signature-1': sig },
      files: { 'keys/a.gpg': Buffer.from(await publicKeyData(), 'base64') },
    });
    expect(guest.chain[1]).toBe('Neither keyPath or keyData specified.');
    expect(host.allowed).toBe(true);
    expect(report.divergences.map((d) => d.rule)).toEqual(['keyPaths']);
  });

  it('neither keyPath nor keyData: guest text / host text', async () => {
    const { guest, host } = await judgeBoth({ policy: scoped([{ type: 'signedBy', keyType: 'GPGKeys' }]) });
    expect(guest.chain[1]).toBe('Neither keyPath or keyData specified.');
    expect(host.message).toBe(
      'invalid policy in "policy.json": Exactly one of keyPath, keyPaths and keyData must be specified, none of them present',
    );
  });

  it('both keyPath and keyData: guest text / host text', async () => {
    const { guest, host } = await judgeBoth({ policy: scoped([await signedByKeyData({ keyPath: '/k.gpg' })]) });
    expect(guest.chain[1]).toBe('Both keyPath and keyData specified.');
    expect(host.message).toBe(
      'invalid policy in "policy.json": Exactly one of keyPath, keyPaths and keyData must be specified, more than one present',
    );
  });

  it('keyData is standard base64 with padding on both sides; a line break is fine on the host only', async () => {
    const sig = await sign(payloadText(IMAGE_FULL));
    const data = await publicKeyData();
    const ok = await judgeBoth({ policy: scoped([await signedByKeyData()]), signatures: { 'signature-1': sig } });
    expect([ok.guest.allowed, ok.host.allowed]).toEqual([true, true]);
    const wrapped = await judgeBoth({
      policy: scoped([await signedByKeyData({ keyData: `${data.slice(0, 64)}\n${data.slice(64)}` })]),
      signatures: { 'signature-1': sig },
    });
    expect(wrapped.guest.chain[1]).toBe('Invalid symbol, offset 64.');
    expect(wrapped.host.allowed).toBe(true);
    expect(wrapped.report.divergences.map((d) => d.rule)).toEqual(['keyData base64']);
    // The armored key plus trailing newlines, so that its base64 needs padding.
    const raw = Buffer.from(data, 'base64');
    const padded =
      [1, 2, 3]
        .map((n) => Buffer.concat([raw, Buffer.from('\n'.repeat(n))]).toString('base64'))
        .find((b) => b.endsWith('=')) ?? '';
    const withPadding = await judgeBoth({
      policy: scoped([await signedByKeyData({ keyData: padded })]),
      signatures: { 'signature-1': sig },
    });
    expect([withPadding.guest.allowed, withPadding.host.allowed]).toEqual([true, true]);
    const unpadded = await judgeBoth({
      policy: scoped([await signedByKeyData({ keyData: padded.replace(/=+$/, '') })]),
      signatures: { 'signature-1': sig },
    });
    expect(unpadded.guest.chain[1]).toBe('Invalid padding');
    expect(unpadded.host.message).toMatch(/^invalid policy in "policy.json": illegal base64 data at input byte \d+$/);
  });

  it('signedIdentity default is matchRepoDigestOrExact on both sides: a signature for another tag is refused', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': await sign(payloadText('registry.example.com/ns/app:2.0')) },
    });
    expect(guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [Match reference failed.]');
    expect(host.message).toBe(
      'Source image rejected: Signature for identity "registry.example.com/ns/app:2.0" is not accepted',
    );
  });

  it('`reject`: each side names the image its own way', async () => {
    const { guest, host } = await judgeBoth({
      image: 'busybox',
      policy: { default: [{ type: 'reject' }], transports: {} },
    });
    expect(guest.message).toBe(
      'Image policy rejected: Denied by policy: Policy `reject` rejects image docker.io/library/busybox:latest',
    );
    expect(host.message).toBe('Source image rejected: Running image docker://busybox:latest is rejected by policy.');
  });

  it('the wrapper users see: guest `Image policy rejected: Denied by policy: rejected by `signedBy` rule`, host `Source image rejected: …`', async () => {
    const { guest, host } = await judgeBoth({ policy: scoped([await signedByKeyData()]) });
    expect(guest.message).toBe('Image policy rejected: Denied by policy: rejected by `signedBy` rule');
    expect(host.message).toMatch(/^Source image rejected: /);
  });
});

describe('§4 policy parsing, host paranoia beyond the table', () => {
  it('a repeated field: `Duplicate key "x"` on the host, serde\'s duplicate field in the guest', async () => {
    const text = '{"default":[{"type":"reject"}],"default":[{"type":"insecureAcceptAnything"}],"transports":{}}';
    const { guest, host } = await judgeBoth({ policy: text });
    expect(host.message).toBe('invalid policy in "policy.json": Duplicate key "default"');
    expect(guest.chain).toEqual([
      'Initialize signature validator failed: Invalid image policy file',
      'duplicate field `default`',
    ]);
  });

  it('a repeated scope key: the guest keeps the last (a map), the host refuses it', async () => {
    const text =
      '{"default":[{"type":"reject"}],"transports":{"docker":{"registry.example.com":[{"type":"reject"}],"registry.example.com":[{"type":"insecureAcceptAnything"}]}}}';
    const { guest, host } = await judgeBoth({ policy: text });
    expect(guest.allowed).toBe(true);
    expect(host.message).toBe('invalid policy in "policy.json": Duplicate key "registry.example.com"');
  });
});
