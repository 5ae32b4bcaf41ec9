/**
 * keyData that the two sides' OpenPGP libraries read differently, built with gpg. The host verdict is
 * skopeo's (`skopeo copy` from a dir: image under a policy carrying the same keyData: containers/image
 * with gpgme); the guest's follows rPGP, which reads only the first armored block and ignores the CRC.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { skopeo } from '../helpers/skopeo.js';
import { IMAGE_FULL, judgeBoth, payloadText, scoped } from './scenario.js';

const MANIFEST = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}',
);
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

let gnupg: GnupgHome;
let dir: string;
let first: string;
let second: string;
let dsa: string;

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  first = await gnupg.generateKey('First', 'first@example.com', { algo: 'rsa2048' });
  second = await gnupg.generateKey('Second', 'second@example.com', { algo: 'rsa2048' });
  dsa = await gnupg.generateKey('Dsa', 'dsa@example.com', { algo: 'dsa2048' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-keydata-'));
}, 180_000);

afterAll(async () => {
  await gnupg?.cleanup();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function signBy(fpr: string): Promise<Buffer> {
  const r = await gnupg.gpg(['--sign', '--local-user', fpr], payloadText(IMAGE_FULL, DIGEST));
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** skopeo copy of a dir: image holding `signature` under a policy with `keyData`: true when allowed. */
async function skopeoAllows(keyData: Buffer, signature: Buffer): Promise<boolean> {
  const src = await fs.mkdtemp(path.join(dir, 'src-'));
  const config = Buffer.from('{}');
  await fs.writeFile(path.join(src, createHash('sha256').update(config).digest('hex')), config);
  await fs.writeFile(path.join(src, 'manifest.json'), MANIFEST);
  await fs.writeFile(path.join(src, 'version'), 'Directory Transport Version: 1.1\n');
  await fs.writeFile(path.join(src, 'signature-1'), signature);
  const policyFile = path.join(src, '..', `${path.basename(src)}-policy.json`);
  const rule = {
    type: 'signedBy',
    keyType: 'GPGKeys',
    keyData: keyData.toString('base64'),
    signedIdentity: { type: 'exactReference', dockerReference: IMAGE_FULL },
  };
  await fs.writeFile(
    policyFile,
    JSON.stringify({ default: [{ type: 'reject' }], transports: { dir: { '': [rule] } } }),
  );
  const r = await skopeo(['copy', `dir:${src}`, `dir:${src}-copy`], { policyFile });
  return r.code === 0;
}

async function verdicts(keyData: Buffer, signature: Buffer) {
  const { guest, host } = await judgeBoth({
    digest: DIGEST,
    manifest: MANIFEST,
    policy: scoped([{ type: 'signedBy', keyType: 'GPGKeys', keyData: keyData.toString('base64') }]),
    signatures: { 'signature-1': signature },
  });
  return { guest, host, skopeo: await skopeoAllows(keyData, signature) };
}

describe('keyData read as each side reads it', () => {
  it('two armored key blocks: the guest reads the first only and denies a signature by the second', async () => {
    const keyData = Buffer.concat([await gnupg.exportPublic(first, true), await gnupg.exportPublic(second, true)]);
    const bySecond = await verdicts(keyData, await signBy(second));
    expect(bySecond.skopeo).toBe(true);
    expect(bySecond.host.allowed).toBe(true);
    expect(bySecond.guest.allowed).toBe(false);
    expect(bySecond.guest.chain[1]).toBe(
      'The signatures do not satisfied! Reject reason: [signature verify failed! There is no pubkey can verify the signature!]',
    );
    const byFirst = await verdicts(keyData, await signBy(first));
    expect([byFirst.skopeo, byFirst.host.allowed, byFirst.guest.allowed]).toEqual([true, true, true]);
  }, 120_000);

  it('a DSA signing key: gpgme verifies with it, so does the host', async () => {
    const v = await verdicts(await gnupg.exportPublic(dsa), await signBy(dsa));
    expect(v.skopeo).toBe(true);
    expect(v.host.allowed).toBe(true);
    expect(v.guest.allowed).toBe(true);
  }, 120_000);

  it('a secret-key export: gpgme imports it and verifies with its public part', async () => {
    const v = await verdicts(await gnupg.exportSecret(first, true), await signBy(first));
    expect(v.skopeo).toBe(true);
    expect(v.host.allowed).toBe(true);
  }, 120_000);

  it('an armored key with a bad CRC-24: gpg refuses it, rPGP ignores the checksum', async () => {
    const armored = (await gnupg.exportPublic(first, true)).toString();
    const crcLine = /^=[A-Za-z0-9+/]{4}$/m.exec(armored)![0];
    const keyData = Buffer.from(armored.replace(crcLine, crcLine === '=AAAA' ? '=BBBB' : '=AAAA'));
    const v = await verdicts(keyData, await signBy(first));
    expect(v.skopeo).toBe(false);
    expect(v.host.allowed).toBe(false);
    expect(v.host.message).toMatch(/CRC error/);
    expect(v.guest.allowed).toBe(true);
  }, 120_000);
});
