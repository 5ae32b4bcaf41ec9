import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { readPublicKeyring } from '../../src/keys/index.js';
import { parsePayload, SignatureError, verifySignature } from '../../src/signature/index.js';
import { lookasideDir, readSignatureStore, writeSignature } from '../../src/store/index.js';
import { CI_FIXTURES, IMAGE_RS_FIXTURES } from '../helpers/paths.js';

const D = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const HEX = D.slice(7);
let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-store-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const strip = (list: Awaited<ReturnType<typeof readSignatureStore>>) =>
  list.map(({ repositoryPath, digest, name, bytes }) => ({
    repositoryPath,
    digest,
    name,
    bytes: Buffer.from(bytes).toString('hex'),
  }));

describe('writeSignature', () => {
  it('uses the lookaside layout and picks the first free N when signature-1..3 exist, never overwriting', async () => {
    const dir = lookasideDir(tmp, 'library/busybox', D);
    expect(dir).toBe(path.join(tmp, `library/busybox@sha256=${HEX}`));
    await fs.mkdir(dir, { recursive: true });
    for (const n of [1, 2, 3]) await fs.writeFile(path.join(dir, `signature-${n}`), `old-${n}`);
    const r = await writeSignature(tmp, 'library/busybox', D, Buffer.from('new'));
    expect(r).toEqual({ path: path.join(dir, 'signature-4'), index: 4 });
    for (const n of [1, 2, 3]) expect(readFileSync(path.join(dir, `signature-${n}`), 'utf8')).toBe(`old-${n}`);
    expect(readFileSync(path.join(dir, 'signature-4'), 'utf8')).toBe('new');
    expect((await fs.stat(path.join(dir, 'signature-4'))).mode & 0o777).toBe(0o644);
    expect((await fs.readdir(dir)).sort()).toEqual(['signature-1', 'signature-2', 'signature-3', 'signature-4']);
    expect(await fs.readdir(path.dirname(dir))).toEqual([path.basename(dir)]);
  });

  it('starts at signature-1 in a new store and gives each concurrent writer its own N', async () => {
    const results = await Promise.all([1, 2, 3, 4].map((i) => writeSignature(tmp, 'a/b', D, Buffer.from(`s${i}`))));
    expect(results.map((r) => r.index).sort()).toEqual([1, 2, 3, 4]);
    const contents = new Set(results.map((r) => readFileSync(r.path, 'utf8')));
    expect(contents.size).toBe(4);
  });

  it('refuses repository paths with .., absolute paths and bad digests, writing nothing', async () => {
    for (const repo of ['../etc', 'a/../../b', '/abs/path', 'a//b', 'UPPER/case', '']) {
      await expect(writeSignature(tmp, repo, D, Buffer.from('x')), repo).rejects.toThrow(InputError);
    }
    await expect(writeSignature(tmp, 'a/b', 'sha256:xyz', Buffer.from('x'))).rejects.toThrow(InputError);
    expect(await fs.readdir(tmp)).toEqual([]);
  });
});

describe('readSignatureStore', () => {
  it('reads a lookaside dir, a tarball (plain and gzip) and a dir: layout the same way', async () => {
    const store = path.join(tmp, 'store');
    const sig1 = readFileSync(path.join(CI_FIXTURES, 'dir-img-valid-2/signature-1'));
    const sig2 = readFileSync(path.join(CI_FIXTURES, 'dir-img-valid-2/signature-2'));
    await writeSignature(store, 'testing/manifest', D, sig1);
    await writeSignature(store, 'testing/manifest', D, sig2);
    const fromDir = await readSignatureStore(store);
    expect(strip(fromDir)).toEqual([
      { repositoryPath: 'testing/manifest', digest: D, name: 'signature-1', bytes: sig1.toString('hex') },
      { repositoryPath: 'testing/manifest', digest: D, name: 'signature-2', bytes: sig2.toString('hex') },
    ]);
    execFileSync('tar', ['-cf', path.join(tmp, 'signatures.tar'), '-C', store, '.']);
    execFileSync('tar', ['-czf', path.join(tmp, 'signatures.tar.gz'), '-C', store, 'testing']);
    expect(strip(await readSignatureStore(path.join(tmp, 'signatures.tar')))).toEqual(strip(fromDir));
    expect(strip(await readSignatureStore(path.join(tmp, 'signatures.tar.gz')))).toEqual(strip(fromDir));
    // The dir: layout of the same image (containers-image fixture) carries the same signatures.
    const layout = await readSignatureStore(`dir:${path.join(CI_FIXTURES, 'dir-img-valid-2')}`);
    expect(strip(layout).map((s) => ({ ...s, repositoryPath: 'testing/manifest' }))).toEqual(strip(fromDir));
  });

  it('reads signature-10 after signature-2 and keeps other file names (the guest reads any name)', async () => {
    const dir = lookasideDir(tmp, 'x/y', D);
    await fs.mkdir(dir, { recursive: true });
    for (const n of ['signature-10', 'signature-2', 'signature-1', 'other']) await fs.writeFile(path.join(dir, n), n);
    expect((await readSignatureStore(tmp)).map((s) => s.name)).toEqual([
      'signature-1',
      'signature-2',
      'signature-10',
      'other',
    ]);
  });

  it('reads the image-rs tarball, whose signature verifies in guest mode with the expired key', async () => {
    const list = await readSignatureStore(path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/signatures.tar'));
    expect(list.map((s) => [s.repositoryPath, s.digest.slice(0, 15), s.name])).toEqual([
      ['kata-containers/confidential-containers', 'sha256:7250923b', 'signature-1'],
      ['kata-containers/confidential-containers', 'sha256:febcf61c', 'signature-1'],
    ]);
    const ring = await readPublicKeyring(
      readFileSync(path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/pubkey.gpg')),
      {},
    );
    const signed = list[1]!;
    const v = await verifySignature(signed.bytes, ring, 'guest');
    expect(v.signerFingerprint).toBe('67B24AACC459679E0283D7EE58F6ED07EEA6B429');
    expect(v.keyExpired).toBe('2022-09-23T10:17:44.000Z');
    const p = parsePayload(v.payloadBytes, 'guest');
    expect(p.dockerReference).toBe('quay.io/kata-containers/confidential-containers:signed');
    expect(p.manifestDigest).toBe(signed.digest);
    // The host refuses the same signature: the key has expired.
    const host = await verifySignature(signed.bytes, ring, 'host').catch((e: unknown) => e);
    expect((host as SignatureError).code).toBe('E_KEY_EXPIRED');
    // The other one is by a key not in pubkey.gpg.
    const other = await verifySignature(list[0]!.bytes, ring, 'guest').catch((e: unknown) => e);
    expect((other as SignatureError).code).toBe('E_SIG_UNKNOWN_KEY');
  });

  it('names a missing store, and refuses a file that is not a tar archive', async () => {
    await expect(readSignatureStore(path.join(tmp, 'nope'))).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
    await fs.writeFile(path.join(tmp, 'bad.tar'), 'definitely not a tar archive');
    await expect(readSignatureStore(path.join(tmp, 'bad.tar'))).rejects.toMatchObject({ code: 'E_BAD_STORE' });
  });
});
