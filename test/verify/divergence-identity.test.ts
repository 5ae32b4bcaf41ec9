/**
 * docs/guest-vs-host.md §7 (signedIdentity rules): for each type, a case both sides agree on and the
 * case where the guest's literal comparison and the host's normalised one disagree.
 */
import { describe, expect, it } from 'vitest';
import { DIGEST, judgeBoth, payloadText, scoped, sign, signedByKeyData } from './scenario.js';

async function judge(image: string, signedRef: string, signedIdentity: unknown, scope: string) {
  return judgeBoth({
    image,
    policy: scoped([await signedByKeyData(signedIdentity ? { signedIdentity } : {})], scope),
    signatures: { 'signature-1': await sign(payloadText(signedRef)) },
  });
}

const decisions = (r: { guest: { allowed: boolean }; host: { allowed: boolean } }) => [r.guest.allowed, r.host.allowed];

describe('§7 signedIdentity, guest (literal) vs host (normalised)', () => {
  it('matchExact: equal full strings pass on both', async () => {
    expect(
      decisions(
        await judge(
          'docker.io/library/busybox:1.36',
          'docker.io/library/busybox:1.36',
          { type: 'matchExact' },
          'docker.io/library/busybox',
        ),
      ),
    ).toEqual([true, true]);
  });

  it('matchExact: a signed short name is not normalised by the guest', async () => {
    const r = await judge('busybox:1.36', 'busybox:1.36', { type: 'matchExact' }, 'docker.io/library/busybox');
    expect(decisions(r)).toEqual([false, true]);
    expect(r.guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [Match reference failed.]');
    expect(r.report.divergences[0]?.rule).toBe('literal vs normalised identity');
  });

  it('matchExact: an image pulled by digest is refused by the guest outright', async () => {
    const r = await judge(
      `docker.io/library/busybox@${DIGEST}`,
      `docker.io/library/busybox@${DIGEST}`,
      { type: 'matchExact' },
      'docker.io/library/busybox',
    );
    expect(r.guest.chain[1]).toBe(
      'The signatures do not satisfied! Reject reason: [Can not reference the image with the digest in matchExact policy.]',
    );
    expect(r.host.allowed).toBe(true);
  });

  it('matchRepoDigestOrExact (default): tagged origin needs the literal string in the guest', async () => {
    expect(
      decisions(await judge('busybox:1.36', 'docker.io/library/busybox:1.36', undefined, 'docker.io/library/busybox')),
    ).toEqual([true, true]);
    const r = await judge('busybox:1.36', 'busybox:1.36', undefined, 'docker.io/library/busybox');
    expect(decisions(r)).toEqual([false, true]);
    expect(r.host.allowed).toBe(true);
  });

  it('matchRepoDigestOrExact: origin by digest accepts any tag of the same repository on both', async () => {
    const r = await judge(`busybox@${DIGEST}`, 'busybox:whatever', undefined, 'docker.io/library/busybox');
    expect(decisions(r)).toEqual([true, true]);
  });

  it('matchRepository: same registry/repository on both (the guest parses the signed name too)', async () => {
    expect(
      decisions(await judge('busybox:1.36', 'busybox:other', { type: 'matchRepository' }, 'docker.io/library/busybox')),
    ).toEqual([true, true]);
    const r = await judge(
      'busybox:1.36',
      'docker.io/library/alpine:1.36',
      { type: 'matchRepository' },
      'docker.io/library/busybox',
    );
    expect(decisions(r)).toEqual([false, false]);
    expect(r.host.message).toBe(
      'Source image rejected: Signature for identity "docker.io/library/alpine:1.36" is not accepted',
    );
  });

  it('exactReference: literal equality in the guest, normalised on the host', async () => {
    const same = await judge(
      'registry.example.com/ns/app:1.0',
      'docker.io/library/busybox:1.36',
      { type: 'exactReference', dockerReference: 'docker.io/library/busybox:1.36' },
      'registry.example.com/ns/app',
    );
    expect(decisions(same)).toEqual([true, true]);
    const r = await judge(
      'registry.example.com/ns/app:1.0',
      'docker.io/library/busybox:1.36',
      { type: 'exactReference', dockerReference: 'busybox:1.36' },
      'registry.example.com/ns/app',
    );
    expect(decisions(r)).toEqual([false, true]);
    expect(r.report.divergences[0]?.rule).toBe('literal vs normalised identity');
  });

  it('exactRepository: the guest compares the expanded signed name with the literal value', async () => {
    const same = await judge(
      'registry.example.com/ns/app:1.0',
      'docker.io/library/busybox:x',
      { type: 'exactRepository', dockerRepository: 'docker.io/library/busybox' },
      'registry.example.com/ns/app',
    );
    expect(decisions(same)).toEqual([true, true]);
    const r = await judge(
      'registry.example.com/ns/app:1.0',
      'docker.io/library/busybox:x',
      { type: 'exactRepository', dockerRepository: 'busybox' },
      'registry.example.com/ns/app',
    );
    expect(decisions(r)).toEqual([false, true]);
  });

  it('remapIdentity: both remap at a / boundary', async () => {
    const r = await judge(
      'mirror.example.com/ns/app:1.0',
      'vendor.example.com/ns/app:1.0',
      { type: 'remapIdentity', prefix: 'mirror.example.com/ns', signedPrefix: 'vendor.example.com/ns' },
      'mirror.example.com',
    );
    expect(decisions(r)).toEqual([true, true]);
  });

  it('remapIdentity: the guest replaces a plain string prefix, the host only at a / boundary', async () => {
    const r = await judge(
      'mirror.example.com/ns-extra/app:1.0',
      'vendor.example.com/ns-extra/app:1.0',
      { type: 'remapIdentity', prefix: 'mirror.example.com/ns', signedPrefix: 'vendor.example.com/ns' },
      'mirror.example.com',
    );
    expect(decisions(r)).toEqual([true, false]);
    expect(r.host.message).toBe(
      'Source image rejected: Signature for identity "vendor.example.com/ns-extra/app:1.0" is not accepted',
    );
    expect(r.report.divergences[0]?.rule).toBe('literal vs normalised identity');
  });
});
