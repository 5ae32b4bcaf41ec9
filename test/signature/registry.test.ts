/**
 * Acceptance with a real registry (docker-registry, TLS + htpasswd on loopback): an image signed by
 * `kbs-bundler sign` is pulled by `skopeo copy` under a signedBy policy; a signature for another identity
 * or digest is refused; a signature made by `skopeo copy --sign-by` verifies with kbs-bundler.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeyring } from '../../src/keys/index.js';
import { parsePayload, verifySignature } from '../../src/signature/index.js';
import { readSignatureStore } from '../../src/store/index.js';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { inspectRaw, pushImage, skopeo, writeRegistriesD } from '../helpers/skopeo.js';

let work: string;
let registry: TestRegistry;
let gnupg: GnupgHome;
let secretKey: string;
let publicKey: string;
let gpgFpr: string;
let digest: string;
let otherDigest: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-sigreg-'));
  [registry, gnupg] = await Promise.all([startRegistry(), makeGnupgHome()]);
  const keygen = await runCli(['keygen', '--name', 'Registry Signer', '--out', path.join(work, 'keys'), '--json']);
  expect(keygen.code).toBe(0);
  ({ secretKey, publicKey } = JSON.parse(keygen.stdout) as { secretKey: string; publicKey: string });
  gpgFpr = await gnupg.generateKey('Skopeo Signer', 'skopeo@example.com');
  const image = await buildOciImage(path.join(work, 'oci'), '1.0', { marker: 'sig-registry' });
  const other = await buildOciImage(path.join(work, 'oci-other'), '1.0', { marker: 'sig-registry-other' });
  ({ digest } = await pushImage({ ociRef: image, registry, dest: 'team/app:1.0' }));
  ({ digest: otherDigest } = await pushImage({ ociRef: other, registry, dest: 'team/other:1.0' }));
  await pushImage({
    ociRef: image,
    registry,
    dest: 'team/gpgsigned:1.0',
    signBy: gpgFpr,
    gnupg,
    lookasideStagingDir: path.join(work, 'skopeo-store'),
  });
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  await gnupg?.cleanup();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

async function pullWith(store: string, image: string) {
  const policy = path.join(work, `policy-${path.basename(store)}.json`);
  await fs.writeFile(
    policy,
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: { docker: { [registry.host]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: publicKey }] } },
    }),
  );
  const registriesDir = path.join(work, `registries.d-${path.basename(store)}`);
  await writeRegistriesD(registriesDir, registry.host, store);
  return skopeo(['copy', `docker://${registry.host}/${image}`, `dir:${await fs.mkdtemp(path.join(work, 'pull-'))}`], {
    policyFile: policy,
    registriesDir,
    authFile: registry.authFile,
    certDir: registry.certDir,
  });
}

describe('kbs-bundler sign → skopeo copy from a registry under signedBy', () => {
  it('is pulled when signed for the pulled reference and its manifest', async () => {
    const manifest = path.join(work, 'manifest.json');
    const raw = await inspectRaw(registry, 'team/app:1.0');
    expect(raw.digest).toBe(digest);
    await fs.writeFile(manifest, raw.bytes);
    const store = path.join(work, 'store-good');
    const s = await runCli([
      'sign',
      '--key',
      secretKey,
      '--reference',
      `${registry.host}/team/app:1.0`,
      '--manifest',
      manifest,
      '--store',
      store,
    ]);
    expect(s.code).toBe(0);
    const r = await pullWith(store, 'team/app:1.0');
    expect(r.stderr).not.toContain('rejected');
    expect(r.code).toBe(0);
    // Without a signature the same policy refuses it.
    const unsigned = await pullWith(path.join(work, 'store-empty'), 'team/app:1.0');
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toContain('A signature was required, but no signature exists');
  });

  it('is refused when the signature names another identity', async () => {
    const store = path.join(work, 'store-identity');
    const s = await runCli([
      'sign',
      '--key',
      secretKey,
      '--reference',
      `${registry.host}/team/app:1.0`,
      '--sign-identity',
      `${registry.host}/team/app:2.0`,
      '--digest',
      digest,
      '--store',
      store,
    ]);
    expect(s.code).toBe(0);
    const r = await pullWith(store, 'team/app:1.0');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Signature for identity ${registry.host}/team/app:2.0 is not accepted`);
  });

  it('is refused when the signature is for another digest', async () => {
    const store = path.join(work, 'store-digest');
    // A signature for team/other's manifest, copied into team/app's signature directory.
    const s = await runCli([
      'sign',
      '--key',
      secretKey,
      '--reference',
      `${registry.host}/team/app:1.0`,
      '--digest',
      otherDigest,
      '--store',
      store,
      '--json',
    ]);
    expect(s.code).toBe(0);
    const written = (JSON.parse(s.stdout) as { path: string }).path;
    const target = path.join(store, `team/app@sha256=${digest.slice(7)}`);
    await fs.mkdir(target, { recursive: true });
    await fs.copyFile(written, path.join(target, 'signature-1'));
    const r = await pullWith(store, 'team/app:1.0');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('does not match');
  });
});

describe('skopeo copy --sign-by → kbs-bundler', () => {
  it('reads the staged lookaside signature and verifies it in both modes', async () => {
    const list = await readSignatureStore(path.join(work, 'skopeo-store'));
    expect(list.map((s) => [s.repositoryPath, s.digest, s.name])).toEqual([['team/gpgsigned', digest, 'signature-1']]);
    const ring = await readPublicKeyring(await gnupg.exportPublic(gpgFpr), {});
    for (const mode of ['host', 'guest'] as const) {
      const v = await verifySignature(list[0]!.bytes, ring, mode);
      expect(v.signerFingerprint).toBe(gpgFpr);
      expect(parsePayload(v.payloadBytes, mode)).toMatchObject({
        dockerReference: `${registry.host}/team/gpgsigned:1.0`,
        manifestDigest: digest,
      });
    }
    await fs.writeFile(path.join(work, 'gpg.pub'), await gnupg.exportPublic(gpgFpr, true));
    const ok = await runCli([
      'audit',
      '--store',
      path.join(work, 'skopeo-store'),
      '--keys',
      path.join(work, 'gpg.pub'),
    ]);
    expect(ok.stdout).toContain('signature-1: good');
    expect(ok.code).toBe(0);
    expect(readFileSync(list[0]!.source)[0]).toBe(0xa3);
  });
});
