/**
 * Acceptance: the policy build writes for a registry is loaded by the real skopeo. A local
 * docker-registry (TLS + htpasswd), an image pushed signed by `skopeo copy --sign-by` (gpg) and one
 * pushed unsigned; skopeo pulls with the written security-policy as --policy, the written
 * sigstore-config as its registries.d and the written credential as its authfile.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { pushImage, skopeo } from '../helpers/skopeo.js';

let work: string;
let registry: TestRegistry;
let gnupg: GnupgHome;
let out: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-skopeo-'));
  [registry, gnupg] = await Promise.all([startRegistry(), makeGnupgHome()]);
  const fpr = await gnupg.generateKey('Build Test Signer', 'signer@build.test');
  const other = await gnupg.generateKey('Other Signer', 'other@build.test');
  await fs.writeFile(path.join(work, 'signer.gpg'), await gnupg.exportPublic(fpr, false));
  await fs.writeFile(path.join(work, 'other.asc'), await gnupg.exportPublic(other, true));
  const store = path.join(work, 'sigstore');
  const signedImage = await buildOciImage(path.join(work, 'oci-signed'), '1.0', { marker: 'signed' });
  const unsignedImage = await buildOciImage(path.join(work, 'oci-unsigned'), '1.0', { marker: 'unsigned' });
  await pushImage({
    ociRef: signedImage,
    registry,
    dest: 'demo/signed:1.0',
    signBy: fpr,
    gnupg,
    lookasideStagingDir: store,
  });
  await pushImage({ ociRef: unsignedImage, registry, dest: 'demo/unsigned:1.0' });
  await fs.writeFile(path.join(work, 'password'), `${registry.password}\n`);
  await fs.writeFile(
    path.join(work, 'bundle.yaml'),
    [
      'policy:',
      '  default: [{type: reject}]',
      '  scopes:',
      `    "${registry.host}":`,
      '      - type: signedBy',
      '        keys: [signer.gpg]',
      'signatureStores:',
      '  default: null',
      '  scopes:',
      `    "${registry.host}": file://${store}`,
      'registries:',
      `  "${registry.host}":`,
      `    username: ${registry.username}`,
      '    passwordFile: password',
      `    caFile: ${registry.caFile}`,
      '',
    ].join('\n'),
  );
  out = path.join(work, 'out');
  const r = await runCli([
    'build',
    '-c',
    path.join(work, 'bundle.yaml'),
    '-o',
    out,
    '--host-config',
    path.join(work, 'host'),
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const registriesD = path.join(work, 'registries.d');
  await fs.mkdir(registriesD);
  await fs.copyFile(path.join(out, 'default/sigstore-config/test'), path.join(registriesD, 'guest.yaml'));
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  await gnupg?.cleanup();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

async function pull(image: string, policyFile: string, registriesDir: string) {
  return skopeo(['copy', `docker://${registry.host}/${image}`, `dir:${await fs.mkdtemp(path.join(work, 'pull-'))}`], {
    policyFile,
    registriesDir,
    authFile: path.join(out, 'default/credential/test'),
    certDir: registry.certDir,
  });
}

describe('the written security-policy under real skopeo', () => {
  it('accepts a signature by the second key of a rule with two key files (one armored, one binary)', async () => {
    const text = (await fs.readFile(path.join(work, 'bundle.yaml'), 'utf8')).replace(
      'keys: [signer.gpg]',
      'keys: [other.asc, signer.gpg]',
    );
    await fs.writeFile(path.join(work, 'two-keys.yaml'), text);
    const two = path.join(work, 'two-keys-out');
    const r = await runCli(['build', '-c', path.join(work, 'two-keys.yaml'), '-o', two]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('other@build.test');
    const signed = await pull(
      'demo/signed:1.0',
      path.join(two, 'default/security-policy/test'),
      path.join(work, 'registries.d'),
    );
    expect(signed.code).toBe(0);
    const unsigned = await pull(
      'demo/unsigned:1.0',
      path.join(two, 'default/security-policy/test'),
      path.join(work, 'registries.d'),
    );
    expect(unsigned.stderr).toContain('Source image rejected');
  });

  it('accepts the image skopeo signed with gpg', async () => {
    const r = await pull(
      'demo/signed:1.0',
      path.join(out, 'default/security-policy/test'),
      path.join(work, 'registries.d'),
    );
    expect(r.stderr).not.toContain('rejected');
    expect(r.code).toBe(0);
  });

  it('rejects the unsigned image with "Source image rejected"', async () => {
    const r = await pull(
      'demo/unsigned:1.0',
      path.join(out, 'default/security-policy/test'),
      path.join(work, 'registries.d'),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Source image rejected');
  });

  it('refuses by the default reject rule what no scope names', async () => {
    const r = await skopeo(
      ['copy', `oci:${path.join(work, 'oci-signed')}:1.0`, `dir:${await fs.mkdtemp(path.join(work, 'local-'))}`],
      {
        policyFile: path.join(out, 'default/security-policy/test'),
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('is rejected by policy');
  });

  it('the host-config twins give the same decisions', async () => {
    const host = path.join(work, 'host');
    expect((await pull('demo/signed:1.0', path.join(host, 'policy.json'), path.join(host, 'registries.d'))).code).toBe(
      0,
    );
    const unsigned = await pull('demo/unsigned:1.0', path.join(host, 'policy.json'), path.join(host, 'registries.d'));
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toContain('Source image rejected');
  });
});
