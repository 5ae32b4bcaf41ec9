/**
 * containers/image's own `dir-img-*` fixtures, laid out as a lookaside store, judged in
 * containers-image mode: the outcomes c/image's tests expect (policy_eval_signedby_test.go).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openRootfsReader } from '../../src/rootfs/reader.js';
import { defaultSignatureBackend, evaluateSide, manifestFromFile, type SideDecision } from '../../src/verify/index.js';
import { CI_FIXTURES } from '../helpers/paths.js';
import { SIGSTORE_BOTH_KEYS, lookasideRootfs, policyWith, tempDir } from './fixtures.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

const fixture = (...p: string[]) => path.join(CI_FIXTURES, ...p);

/** Judges dir-img-<name> as `testing/manifest:<tag>` under signedBy <key> with matchExact. */
async function judge(
  name: string,
  opts: { tag?: string; key?: string; side?: 'host' | 'guest' } = {},
): Promise<SideDecision> {
  const dir = fixture(`dir-img-${name}`);
  const manifest = await manifestFromFile(path.join(dir, 'manifest.json'));
  const signatures: Record<string, string> = {};
  for (const f of await fs.readdir(dir)) if (f.startsWith('signature-')) signatures[f] = path.join(dir, f);
  const root = await tempDir('ci');
  dirs.push(root);
  await lookasideRootfs(root, 'testing/manifest', manifest.digest, signatures, {
    'keys/key.gpg': await fs.readFile(fixture(opts.key ?? 'public-key.gpg')),
  });
  const rootfs = await openRootfsReader(root);
  const policy = policyWith('docker.io/testing/manifest', [
    { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/keys/key.gpg', signedIdentity: { type: 'matchExact' } },
  ]);
  return evaluateSide(
    {
      image: `testing/manifest:${opts.tag ?? 'latest'}`,
      manifest,
      policy: { bytes: policy, source: 'policy.json' },
      sigstoreConfig: { bytes: new TextEncoder().encode(SIGSTORE_BOTH_KEYS), source: 'registries.d' },
      resources: { get: () => Promise.resolve(undefined) },
      rootfs,
    },
    opts.side ?? 'host',
    defaultSignatureBackend,
  );
}

describe('containers/image dir-img-* fixtures in containers-image mode', () => {
  it('dir-img-valid: allowed as testing/manifest:latest', async () => {
    const d = await judge('valid');
    expect(d.allowed).toBe(true);
    expect(d.outcomes[0]?.signatures.map((s) => [s.accepted, s.signer])).toEqual([
      [true, '08CD26E446E2E95249B7A405E932F44B23E8DD43'],
    ]);
  });

  it('dir-img-valid: rejected as :notlatest (identity)', async () => {
    const d = await judge('valid', { tag: 'notlatest' });
    expect(d.allowed).toBe(false);
    expect(d.message).toBe('Source image rejected: Signature for identity "testing/manifest:latest" is not accepted');
  });

  it('dir-img-valid-2: allowed (two good signatures, the first suffices)', async () => {
    const d = await judge('valid-2');
    expect(d.allowed).toBe(true);
    expect(d.outcomes[0]?.signatures).toHaveLength(1);
  });

  it('dir-img-mixed: allowed, the invalid-blob signature is rejected and the good one accepted', async () => {
    const d = await judge('mixed');
    expect(d.allowed).toBe(true);
    expect(d.outcomes[0]?.signatures.map((s) => s.accepted)).toEqual([false, true]);
  });

  it('dir-img-modified-manifest: rejected for the digest', async () => {
    const d = await judge('modified-manifest');
    expect(d.allowed).toBe(false);
    expect(d.message).toBe(
      'Source image rejected: Signature for digest sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55 does not match',
    );
  });

  it('dir-img-unsigned: rejected, no signature exists', async () => {
    const d = await judge('unsigned');
    expect(d.message).toBe('Source image rejected: A signature was required, but no signature exists');
  });

  it('dir-img-manifest-digest-error: rejected, the schema1 digest cannot be computed', async () => {
    const d = await judge('manifest-digest-error');
    expect(d.allowed).toBe(false);
    expect(d.message).toMatch(/^Source image rejected: .*schema1/);
  });

  it('dir-img-no-manifest: no decision without a manifest (bad input)', async () => {
    await expect(manifestFromFile(fixture('dir-img-no-manifest', 'manifest.json'))).rejects.toThrow(
      /the manifest file does not exist/,
    );
  });

  it('dir-img-valid-subkey: allowed with public-key-with-subkey.gpg (subkey mapped to its primary)', async () => {
    const d = await judge('valid-subkey', { key: 'public-key-with-subkey.gpg' });
    expect(d.allowed).toBe(true);
    expect(d.outcomes[0]?.signatures[0]?.signer).toBe('B9F4CDB9FD8C475BFA340AC38D54A947EE396F36');
  });
});
