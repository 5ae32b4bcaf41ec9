/**
 * A lookaside store holding a file that is not a signature: containers/image recognises each
 * `signature-N` by its first byte while reading the store, and one it does not recognise fails the
 * read, so the image is denied even when a later file is a good signature; the guest reads every
 * file and accepts the good one. skopeo (copy with a signedBy policy, the store a `file://`
 * lookaside) is the oracle for the host.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { pushImage, skopeo, writeRegistriesD } from '../helpers/skopeo.js';
import { tempDir, writeTree } from './fixtures.js';

const STORE = '/var/lib/containers/sigstore';

let work: string;
let registry: TestRegistry;
let gnupg: GnupgHome;
let digest: string;
let goodSignature: Buffer;
let armoredSignature: Buffer;
let lookaside: string;
let policyFile: string;
let kbs: string;

beforeAll(async () => {
  work = await tempDir('host-store-format');
  registry = await startRegistry();
  gnupg = await makeGnupgHome();
  const alice = await gnupg.generateKey('Alice', 'alice@example.com');
  lookaside = path.join(work, 'lookaside');
  const image = await buildOciImage(path.join(work, 'oci'), '1.0');
  digest = (
    await pushImage({
      ociRef: image,
      registry,
      dest: 'demo/app:1.0',
      signBy: alice,
      gnupg,
      lookasideStagingDir: lookaside,
    })
  ).digest;
  goodSignature = await fs.readFile(path.join(sigDir(), 'signature-1'));
  // The same payload, signed by the same key, ASCII-armored (gpg --armor --sign).
  const payload = await gnupg.gpg(['--decrypt'], goodSignature);
  expect(payload.code).toBe(0);
  const armored = await gnupg.gpg(['--armor', '--sign', '--local-user', alice], payload.stdout);
  expect(armored.code).toBe(0);
  armoredSignature = armored.stdout;

  const policy = JSON.stringify({
    default: [{ type: 'reject' }],
    transports: {
      docker: {
        [`${registry.host}/demo`]: [
          { type: 'signedBy', keyType: 'GPGKeys', keyData: (await gnupg.exportPublic(alice)).toString('base64') },
        ],
      },
    },
  });
  policyFile = path.join(work, 'policy.json');
  await fs.writeFile(policyFile, policy);
  kbs = path.join(work, 'kbs');
  await writeTree(kbs, {
    'default/security-policy/test': policy,
    'default/sigstore-config/test': `docker:\n  ${registry.host}:\n    sigstore: file://${STORE}\n`,
  });
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  await gnupg?.cleanup();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

function sigDir(): string {
  return path.join(lookaside, `demo/app@${digest.replace(':', '=')}`);
}

/** Makes the image's store hold exactly `files`, in the lookaside and in the guest rootfs. */
async function storeHolds(files: Record<string, Buffer>): Promise<string> {
  await fs.rm(sigDir(), { recursive: true, force: true });
  await fs.mkdir(sigDir(), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await fs.writeFile(path.join(sigDir(), name), bytes);
  const rootfs = path.join(work, 'rootfs');
  await fs.rm(rootfs, { recursive: true, force: true });
  await fs.mkdir(path.join(rootfs, path.dirname(STORE)), { recursive: true });
  await fs.cp(lookaside, path.join(rootfs, STORE), { recursive: true });
  return rootfs;
}

/** skopeo's decision: null when it copies the image, else its error with the store's path as the guest sees it. */
async function skopeoDecision(): Promise<string | null> {
  const registriesDir = path.join(work, 'registries.d');
  await writeRegistriesD(registriesDir, registry.host, lookaside);
  const out = path.join(work, 'copied');
  await fs.rm(out, { recursive: true, force: true });
  const r = await skopeo(['copy', `docker://${registry.host}/demo/app:1.0`, `dir:${out}`], {
    policyFile,
    registriesDir,
    authFile: registry.authFile,
    certDir: registry.certDir,
  });
  await fs.rm(out, { recursive: true, force: true });
  if (r.code === 0) return null;
  const message = /Source image rejected: .*/.exec(r.stderr)?.[0] ?? r.stderr;
  return message.replace(/"$/, '').split(lookaside).join(STORE).replace(/\\"/g, '"');
}

async function verifyBoth(rootfs: string) {
  const r = await runCli([
    'verify',
    `${registry.host}/demo/app:1.0`,
    '--kbs',
    kbs,
    '--rootfs',
    rootfs,
    '--digest',
    digest,
    '--mode',
    'both',
    '--json',
  ]);
  const report = JSON.parse(r.stdout) as {
    decisions: Array<{ allowed: boolean; message: string }>;
    divergences: Array<{ rule: string }>;
  };
  const [guest, host] = report.decisions;
  return { guest: guest!, host: host!, divergences: report.divergences.map((d) => d.rule) };
}

describe('a store file that is not a signature, host vs guest', () => {
  it('the good signature alone: allowed by skopeo and by both sides', async () => {
    const rootfs = await storeHolds({ 'signature-1': goodSignature });
    expect(await skopeoDecision()).toBeNull();
    const { guest, host } = await verifyBoth(rootfs);
    expect([guest.allowed, host.allowed]).toEqual([true, true]);
  });

  it('an ASCII-armored signature before the good one: the host denies as skopeo does, the guest allows', async () => {
    const rootfs = await storeHolds({ 'signature-1': armoredSignature, 'signature-2': goodSignature });
    const oracle = await skopeoDecision();
    expect(oracle).toContain('unrecognized signature format, starting with binary 0x2d');
    const { guest, host, divergences } = await verifyBoth(rootfs);
    expect(host.allowed).toBe(false);
    expect(host.message).toBe(oracle);
    expect(guest.allowed).toBe(true);
    expect(divergences).toEqual(['signature format']);
  });

  it('garbage before the good signature: the same on the host', async () => {
    const rootfs = await storeHolds({ 'signature-1': Buffer.from('hello\n'), 'signature-2': goodSignature });
    const oracle = await skopeoDecision();
    expect(oracle).toContain('unrecognized signature format, starting with binary 0x68');
    const { guest, host } = await verifyBoth(rootfs);
    expect(host.message).toBe(oracle);
    expect([guest.allowed, host.allowed]).toEqual([true, false]);
  });
});
