import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import type { AuthsFile } from '../../src/registry/auths-schema.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { inspectRaw, pushImage, skopeo } from '../helpers/skopeo.js';

describe('test helpers: docker-registry + umoci + gpg + skopeo', () => {
  let registry: TestRegistry;
  let gnupg: GnupgHome;
  let tmp: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-helpers-'));
    [registry, gnupg] = await Promise.all([startRegistry(), makeGnupgHome()]);
  });
  afterAll(async () => {
    await registry?.stop();
    await gnupg?.cleanup();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('pushes a signed umoci image and skopeo reads it back with the signature in the staging dir', async () => {
    const fpr = await gnupg.generateKey('Test Signer', 'signer@example.com');
    expect(fpr).toMatch(/^[0-9A-F]{40}$/);
    const armored = (await gnupg.exportPublic(fpr, true)).toString();
    expect(armored).toContain('BEGIN PGP PUBLIC KEY BLOCK');

    const ociRef = await buildOciImage(path.join(tmp, 'layout'), '1.0');
    expect(ociRef).toBe(`oci:${path.join(tmp, 'layout')}:1.0`);

    const staging = path.join(tmp, 'sigstore');
    const pushed = await pushImage({
      ociRef,
      registry,
      dest: 'team/busybox:signed',
      signBy: fpr,
      gnupg,
      lookasideStagingDir: staging,
    });
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pushed.reference).toBe(`${registry.host}/team/busybox:signed`);

    const raw = await inspectRaw(registry, 'team/busybox:signed');
    expect(raw.digest).toBe(pushed.digest);

    const sigFile = path.join(staging, `team/busybox@sha256=${pushed.digest.slice('sha256:'.length)}`, 'signature-1');
    const sig = await fs.readFile(sigFile);
    // gpg verifies skopeo's signature with the key we generated.
    const verified = await gnupg.gpg(['--status-fd', '2', '--decrypt'], sig);
    expect(verified.code).toBe(0);
    expect(verified.stderr).toContain(`VALIDSIG ${fpr}`);
    const payload = JSON.parse(verified.stdout.toString()) as {
      critical: { image: Record<string, string>; identity: Record<string, string> };
    };
    expect(payload.critical.image['docker-manifest-digest']).toBe(pushed.digest);
    expect(payload.critical.identity['docker-reference']).toBe(pushed.reference);
  });

  it('makes keys that have already expired (faked creation time)', async () => {
    const fpr = await gnupg.generateKey('Old Signer', 'old@example.com', {
      createdAt: '20200101T000000',
      expire: '1d',
      algo: 'ed25519',
    });
    const listing = (await gnupg.gpg(['--with-colons', '--list-keys', fpr])).stdout.toString();
    const pub = listing
      .split('\n')
      .find((l) => l.startsWith('pub:'))
      ?.split(':');
    expect(pub?.[1]).toBe('e'); // validity: expired
    expect(pub?.[5]).toBe(String(Date.UTC(2020, 0, 1) / 1000));
  });

  it('refuses a wrong password with an unauthorized error', async () => {
    const badAuth = path.join(tmp, 'bad-auth.json');
    const auth = Buffer.from(`${registry.username}:wrong-${registry.password}`).toString('base64');
    await fs.writeFile(badAuth, JSON.stringify({ auths: { [registry.host]: { auth } } }), { mode: 0o600 });
    const r = await skopeo(['inspect', '--raw', `docker://${registry.host}/team/busybox:signed`], {
      authFile: badAuth,
      certDir: registry.certDir,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr.toLowerCase()).toMatch(/unauthorized|401/);
  });

  it('stop() ends the registry and removes its files', async () => {
    const other = await startRegistry({ users: { alice: 'secret-1' } });
    expect(other.username).toBe('alice');
    expect((JSON.parse(await fs.readFile(other.authFile, 'utf8')) as AuthsFile).auths[other.host]?.auth).toBe(
      Buffer.from('alice:secret-1').toString('base64'),
    );
    expect((await fs.stat(other.authFile)).mode & 0o777).toBe(0o600);
    await other.stop();
    const r = await skopeo(['inspect', '--raw', `docker://${other.host}/x:y`], { certDir: registry.certDir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/connection refused/);
    await expect(fs.stat(other.caFile)).rejects.toThrow(/ENOENT/);
  });
});
