/**
 * image-rs's own KBS repository (offline-fs-kbc resources) with its signatures.tar staged in a
 * rootfs where the sigstore-config points: the outcomes image-rs's tests expect, and the host's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { openKbsRepository } from '../../src/kbs/read.js';
import { openRootfsReader, type RootfsReader } from '../../src/rootfs/reader.js';
import {
  defaultSignatureBackend,
  loadVerifyInputs,
  manifestFromDigest,
  verifyImage,
  type VerifyReport,
} from '../../src/verify/index.js';
import {
  IMAGE_RS_RESOURCES,
  OTHER_SIGNED_DIGEST,
  SIGNED_DIGEST,
  kbsTreeFromOfflineJson,
  rootfsWithImageRsSignatures,
  tempDir,
} from './fixtures.js';

let kbsDir: string;
let rootfsDir: string;
let rootfs: RootfsReader;

beforeAll(async () => {
  kbsDir = await kbsTreeFromOfflineJson(IMAGE_RS_RESOURCES, await tempDir('kbs'));
  rootfsDir = await rootfsWithImageRsSignatures(await tempDir('rootfs'));
  rootfs = await openRootfsReader(rootfsDir);
});
afterAll(async () => {
  await rootfs.close();
  await fs.rm(kbsDir, { recursive: true, force: true });
  await fs.rm(rootfsDir, { recursive: true, force: true });
});

async function verify(image: string, digest: string): Promise<VerifyReport> {
  const repository = await openKbsRepository(kbsDir);
  const inputs = await loadVerifyInputs({ image, repository, rootfs, manifest: manifestFromDigest(digest) });
  return verifyImage(inputs, 'both', defaultSignatureBackend);
}

describe("image-rs's offline-fs-kbc repository", () => {
  it(':signed is allowed by the guest and denied by the host because the key expired; the divergence names it', async () => {
    const report = await verify('quay.io/kata-containers/confidential-containers:signed', SIGNED_DIGEST);
    const [guest, host] = report.decisions;
    expect(guest?.allowed).toBe(true);
    expect(guest?.scope).toBe('docker:"quay.io/kata-containers/confidential-containers"');
    expect(guest?.outcomes[0]?.signatures[0]).toMatchObject({
      accepted: true,
      signer: '67B24AACC459679E0283D7EE58F6ED07EEA6B429',
    });
    expect(host?.allowed).toBe(false);
    expect(host?.message).toMatch(/^Source image rejected: /);
    expect(host?.outcomes[0]?.signatures[0]?.code).toBe('E_KEY_EXPIRED');
    expect(report.allowed).toBe(true);
    expect(report.divergences.map((d) => d.rule)).toEqual(['expired key']);
  });

  it(':other_signed is denied by both (key D8D28A0E43238696 is not in the keyring)', async () => {
    const report = await verify('quay.io/kata-containers/confidential-containers:other_signed', OTHER_SIGNED_DIGEST);
    const [guest, host] = report.decisions;
    expect(guest?.allowed).toBe(false);
    expect(guest?.message).toBe('Image policy rejected: Denied by policy: rejected by `signedBy` rule');
    expect(guest?.chain[1]).toMatch(/^The signatures do not satisfied! Reject reason: \[/);
    expect(host?.allowed).toBe(false);
    expect(host?.message).toMatch(/^Source image rejected: /);
    expect(report.divergences).toEqual([]);
  });

  it(':signed at the :other_signed digest is denied: the signature names another tag', async () => {
    const report = await verify('quay.io/kata-containers/confidential-containers:other_signed', SIGNED_DIGEST);
    expect(report.decisions[0]?.chain[1]).toBe(
      'The signatures do not satisfied! Reject reason: [Match reference failed.]',
    );
  });

  it('quay.io/prometheus/busybox:latest is allowed by the default insecureAcceptAnything', async () => {
    const report = await verify('quay.io/prometheus/busybox:latest', SIGNED_DIGEST);
    expect(report.decisions.map((d) => [d.allowed, d.scope])).toEqual([
      [true, 'default'],
      [true, 'default'],
    ]);
  });

  it('a digest with no signature directory is denied with the guest and host texts', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const report = await verify('quay.io/kata-containers/confidential-containers:signed', digest);
    const [guest, host] = report.decisions;
    expect(guest?.chain[1]).toBe(
      `Read Sigstore Dir failed: Os { code: 2, kind: NotFound, message: "No such file or directory" }, path: /etc/containers/quay_verification/signatures/kata-containers/confidential-containers@sha256=${'a'.repeat(64)}`,
    );
    expect(host?.message).toBe('Source image rejected: A signature was required, but no signature exists');
  });
});
