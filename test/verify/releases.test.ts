/**
 * The releases verify and lint follow: named in --help, text and --json; --guest-release and
 * --host-release select an older release's decision. The old host decision is checked against skopeo
 * 1.9.3 (containers/image 5.23), which refuses signatures made by a signing subkey.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { runCli } from '../helpers/run-cli.js';
import { skopeo } from '../helpers/skopeo.js';
import { judgeBoth } from './scenario.js';

const DIGEST = `sha256:${'2'.repeat(64)}`;
let work: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-releases-'));
  await fs.writeFile(
    path.join(work, 'empty-scope.json'),
    JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { 'registry.example.com': [] } } }),
  );
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('verify and lint name the release they follow', () => {
  it('--help gives the current releases as defaults', async () => {
    const v = await runCli(['verify', '--help']);
    expect(v.stdout).toMatch(/--guest-release <version>[\s\S]*\(default:\s+"v0\.21\.0"\)/);
    expect(v.stdout).toMatch(/--host-release <version>[\s\S]*\(default:\s+"5\.37\.0"\)/);
    const l = await runCli(['lint', '--help']);
    expect(l.stdout).toMatch(/--guest-release <version>[\s\S]*\(default:\s+"v0\.21\.0"\)/);
  });

  it('--json and the text report say which releases decided', async () => {
    const args = ['verify', 'registry.example.com/app:1', '--policy', path.join(work, 'empty-scope.json')];
    const j = await runCli([...args, '--digest', DIGEST, '--mode', 'both', '--json']);
    expect((JSON.parse(j.stdout) as { releases: unknown }).releases).toEqual({ guest: 'v0.21.0', host: '5.37.0' });
    const old = await runCli([...args, '--digest', DIGEST, '--guest-release', '0.13', '--json']);
    expect((JSON.parse(old.stdout) as { releases: unknown }).releases).toEqual({ guest: 'v0.13.0' });
    const text = await runCli([...args, '--digest', DIGEST]);
    expect(text.stdout).toContain('decided as image-rs of guest-components v0.21.0');
  });

  it('an empty requirement list allows from v0.14.0 and fails the pull before', async () => {
    const args = [
      'verify',
      'registry.example.com/app:1',
      '--policy',
      path.join(work, 'empty-scope.json'),
      '--digest',
      DIGEST,
    ];
    expect((await runCli(args)).code).toBe(0);
    const old = await runCli([...args, '--guest-release', 'v0.13.0']);
    expect(old.code).toBe(1);
    expect(old.stdout).toContain('List of verification policy requirements must not be empty');
  });

  it('a release that is not one is bad input: one line, exit 2', async () => {
    const r = await runCli([
      'verify',
      'a:1',
      '--policy',
      path.join(work, 'empty-scope.json'),
      '--digest',
      DIGEST,
      '--guest-release',
      'latest',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--guest-release');
  });
});

describe('--host-release: signatures by a signing subkey (skopeo 1.9.3 as the oracle of the old host)', () => {
  let gnupg: GnupgHome;
  let keyData: string;
  let signature: Uint8Array;
  let digest: string;
  let skopeoResult: { code: number; stderr: string };
  const IDENTITY = 'registry.example.com/ns/app:1.0';

  beforeAll(async () => {
    gnupg = await makeGnupgHome();
    const primary = await gnupg.generateKey('subkey signer', 'subkey@example.com', { algo: 'ed25519', usage: 'cert' });
    const add = await gnupg.gpg([
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--quick-add-key',
      primary,
      'ed25519',
      'sign',
      'never',
    ]);
    if (add.code !== 0) throw new Error(add.stderr);
    keyData = (await gnupg.exportPublic(primary)).toString('base64');
    await fs.writeFile(path.join(work, 'key.gpg'), await gnupg.exportPublic(primary));
    const oci = await buildOciImage(path.join(work, 'oci'), '1.0');
    const src = path.join(work, 'src');
    const copied = await skopeo(['copy', oci, `dir:${src}`]);
    if (copied.code !== 0) throw new Error(copied.stderr);
    const manifest = path.join(src, 'manifest.json');
    digest = (await skopeo(['manifest-digest', manifest])).stdout.trim();
    const sign = await skopeo(
      ['standalone-sign', manifest, IDENTITY, primary, '--output', path.join(src, 'signature-1')],
      { env: gnupg.env },
    );
    if (sign.code !== 0) throw new Error(sign.stderr);
    signature = new Uint8Array(await fs.readFile(path.join(src, 'signature-1')));
    const policy = path.join(work, 'subkey-policy.json');
    const rule = {
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyPath: path.join(work, 'key.gpg'),
      signedIdentity: { type: 'exactReference', dockerReference: IDENTITY },
    };
    await fs.writeFile(policy, JSON.stringify({ default: [{ type: 'reject' }], transports: { dir: { '': [rule] } } }));
    skopeoResult = await skopeo(['copy', `dir:${src}`, `dir:${path.join(work, 'dst')}`], { policyFile: policy });
  }, 180_000);
  afterAll(async () => {
    await gnupg?.cleanup();
  });

  it('skopeo 1.9.3 refuses the subkey signature; --host-release 5.23 decides the same, the current host accepts it', async () => {
    expect(skopeoResult.code).not.toBe(0);
    expect(skopeoResult.stderr).toMatch(/Signature by key [0-9A-F]+ is not accepted/);
    const judge = (hostRelease?: string) =>
      judgeBoth({
        image: IDENTITY,
        digest,
        policy: {
          default: [{ type: 'reject' }],
          transports: {
            docker: {
              'registry.example.com/ns/app': [
                {
                  type: 'signedBy',
                  keyType: 'GPGKeys',
                  keyData,
                  signedIdentity: { type: 'exactReference', dockerReference: IDENTITY },
                },
              ],
            },
          },
        },
        signatures: { 'signature-1': signature },
        ...(hostRelease ? { hostRelease } : {}),
      });
    const old = await judge('5.23');
    expect(old.host.allowed).toBe(false);
    expect(old.host.message).toMatch(/Signature by key [0-9A-F]+ is not accepted/);
    expect(old.host.message).toBe(
      `Source image rejected: ${/Signature by key [0-9A-F]+ is not accepted/.exec(skopeoResult.stderr)?.[0]}`,
    );
    expect((await judge()).host.allowed).toBe(true);
  });
});
