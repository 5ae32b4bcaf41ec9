/**
 * `kbs-bundler audit` of a lookaside tree on disk prints exactly the same with `--jobs 1` (in-process),
 * `--jobs 2` (a worker judges what the main thread has read so far while it reads on) and the default:
 * the same report for good, corrupt, foreign-key, mismatched, unsigned and oversize signatures spread
 * over nested repositories, and the same error when the store cannot be read part-way through or at all.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SIGNATURE_SIZE } from '../../src/signature/index.js';
import { CI_FIXTURES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

/** The manifest digest the containers/image CI signatures were made for. */
const DIGEST = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const KEYS = ['public-key.gpg', 'public-key-with-subkey.gpg'].map((f) => path.join(CI_FIXTURES, f));
const ci = (f: string) => readFileSync(path.join(CI_FIXTURES, f));

let tmp: string;
/** Blobs of every kind, each with the digest of the image it is put under (a wrong one for `mismatch`). */
let kinds: Array<{ kind: string; bytes: Uint8Array; digest: string }>;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-audit-jobs-'));
  const other = `sha256:${'ab'.repeat(32)}`;
  kinds = [
    { kind: 'good', bytes: ci('dir-img-valid/signature-1'), digest: DIGEST },
    { kind: 'subkey', bytes: ci('dir-img-valid-subkey/signature-1'), digest: DIGEST },
    { kind: 'corrupt', bytes: ci('corrupt.signature'), digest: DIGEST },
    { kind: 'foreign-key', bytes: ci('unknown-key.signature'), digest: DIGEST },
    { kind: 'expired', bytes: ci('expired.signature'), digest: DIGEST },
    { kind: 'mismatch', bytes: ci('image.signature'), digest: other },
    { kind: 'invalid-reference', bytes: ci('invalid-reference.signature'), digest: DIGEST },
    { kind: 'not-signed', bytes: Buffer.from('not a signature'), digest: DIGEST },
    { kind: 'empty', bytes: new Uint8Array(0), digest: DIGEST },
    { kind: 'oversize', bytes: new Uint8Array(MAX_SIGNATURE_SIZE + 1).fill(0x5a), digest: DIGEST },
  ];
}, 60_000);

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function put(
  base: string,
  repositoryPath: string,
  digest: string,
  name: string,
  bytes: Uint8Array,
): Promise<string> {
  const dir = path.join(base, `${repositoryPath}@sha256=${digest.slice(7)}`);
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return file;
}

/** `images` images under 10 namespaces (some nested deeper), 1 to 3 signatures each, kinds mixed. */
async function mixedStore(base: string, images: number): Promise<void> {
  for (let i = 0; i < images; i++) {
    const repo = i % 7 === 0 ? `team-${i % 10}/sub/app-${i}` : `team-${i % 10}/app-${i}`;
    for (let s = 1; s <= 1 + (i % 3); s++) {
      const { bytes, digest } = kinds[(i * 3 + s) % kinds.length]!;
      await put(base, repo, digest, `signature-${s}`, bytes);
    }
  }
  // What the reader passes over or follows, as in-process: hidden files, a directory that is no
  // image, a symlink to a signature file (followed) and to an image directory (not followed).
  const good = await put(base, 'team-1/linked', DIGEST, 'signature-1', kinds[0]!.bytes);
  await fs.writeFile(path.join(path.dirname(good), '.signature-tmp-1'), 'half-written');
  await fs.symlink(good, path.join(path.dirname(good), 'signature-2'));
  await fs.mkdir(path.join(base, 'team-2/notes'), { recursive: true });
  await fs.writeFile(path.join(base, 'team-2/notes/signature-1'), kinds[0]!.bytes);
  await fs.symlink(path.dirname(good), path.join(base, `team-3/alias@sha256=${DIGEST.slice(7)}`));
}

/** Progress lines say how far the audit had come at some moment: they differ from run to run. */
const withoutProgress = (stderr: string) => stderr.replace(/^(verifying: \d+\/\d+|audit: .*)\n/gm, '');

describe('kbs-bundler audit of a lookaside tree: --jobs 1, --jobs 2 and the default print the same', () => {
  it('the same --json and text report and exit code for every kind of signature', async () => {
    const store = path.join(tmp, 'mixed');
    await mixedStore(store, 900);
    for (const extra of [['--json'], []]) {
      const args = ['audit', '--store', store, '--keys', ...KEYS, ...extra];
      const env = { KBS_BUNDLER_DEBUG: '1' };
      const one = await runCli([...args, '--jobs', '1'], { env });
      const two = await runCli([...args, '--jobs', '2'], { env });
      const auto = await runCli(args, { env });
      expect(one.code).toBe(1);
      // Without --jobs: a thread per core.
      expect(auto.stderr).toMatch(new RegExp(`^audit: 1802 signatures on ${os.availableParallelism()} threads, `, 'm'));
      expect(one.stderr).toMatch(/^audit: 1802 signatures on 1 threads, 0 of them in worker threads$/m);
      // The worker did judge (the comparison below would be vacuous otherwise).
      expect(
        Number(/^audit: 1802 signatures on 2 threads, (\d+) of them in worker threads$/m.exec(two.stderr)?.[1]),
      ).toBeGreaterThan(0);
      expect(two.stdout).toBe(one.stdout);
      expect(auto.stdout).toBe(one.stdout);
      expect([two.code, auto.code]).toEqual([1, 1]);
      expect(withoutProgress(two.stderr)).toBe(withoutProgress(one.stderr));
      expect(withoutProgress(auto.stderr)).toBe(withoutProgress(one.stderr));
      for (const r of [one, two, auto]) expect(r.stderr).toMatch(/^verifying: 1802\/1802$/m);
    }
    const report = JSON.parse(
      (await runCli(['audit', '--store', store, '--keys', ...KEYS, '--json', '--jobs', '2'])).stdout,
    ) as {
      total: number;
      counts: Record<string, number>;
      images: Array<{ repositoryPath: string; signatures: Array<{ name: string }> }>;
    };
    expect(report.total).toBe(1802);
    expect(Object.keys(report.counts).sort()).toEqual([
      'bad-signature',
      'digest-mismatch',
      'expired-signature',
      'good',
      'invalid-identity',
      'not-signed',
      'subkey',
      'too-large',
      'unknown-key',
    ]);
    const linked = report.images.find((i) => i.repositoryPath === 'team-1/linked');
    expect(linked?.signatures.map((s) => s.name)).toEqual(['signature-1', 'signature-2']);
    expect(report.images.some((i) => i.repositoryPath === 'team-3/alias' || i.repositoryPath === 'team-2/notes')).toBe(
      false,
    );
  }, 180_000);

  it('the same error when a file cannot be read part-way through the store', async () => {
    // Top-level images are read first; the unreadable file (reading /proc/self/mem at offset 0 fails
    // with EIO, even for root) sits one level down, so it is reached after all of them.
    const store = path.join(tmp, 'unreadable');
    for (let i = 0; i < 1200; i++)
      await put(store, `app-${i}`, kinds[i % kinds.length]!.digest, 'signature-1', kinds[i % kinds.length]!.bytes);
    const dir = path.join(store, `zz/late@sha256=${DIGEST.slice(7)}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.symlink('/proc/self/mem', path.join(dir, 'signature-1'));
    const args = ['audit', '--store', store, '--keys', ...KEYS, '--json'];
    const one = await runCli([...args, '--jobs', '1']);
    const two = await runCli([...args, '--jobs', '2']);
    const auto = await runCli(args);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toBe(`kbs-bundler: ${path.join(dir, 'signature-1')}: cannot be read (EIO)\n`);
    expect((JSON.parse(one.stdout) as { error: { code: string } }).error.code).toBe('E_STORE_READ');
    for (const r of [two, auto]) expect([r.code, r.stderr, r.stdout]).toEqual([one.code, one.stderr, one.stdout]);
  });

  it('the same errors for a store that is not there, not a store, or not a tarball; a bad --jobs before any of them', async () => {
    const notTar = path.join(tmp, 'not.tar');
    await fs.writeFile(notTar, 'this is not a tar archive, nor gzip');
    for (const store of [path.join(tmp, 'missing'), '/dev/null', notTar]) {
      const one = await runCli(['audit', '--store', store, '--keys', KEYS[0]!, '--jobs', '1']);
      expect(one.code, store).toBe(2);
      for (const extra of [['--jobs', '2'], []]) {
        const r = await runCli(['audit', '--store', store, '--keys', KEYS[0]!, ...extra]);
        expect([r.code, r.stderr, r.stdout], `${store} ${extra.join(' ')}`).toEqual([one.code, one.stderr, one.stdout]);
      }
    }
    for (const [store, value] of [
      [path.join(CI_FIXTURES, 'dir-img-valid'), '1.5'],
      [path.join(tmp, 'missing'), '0'],
    ] as const) {
      const jobs = await runCli(['audit', '--store', store, '--keys', KEYS[0]!, '--jobs', value]);
      expect([jobs.code, jobs.stdout]).toEqual([2, '']);
      expect(jobs.stderr.trim()).toMatch(/^kbs-bundler: --jobs: must be a whole number from 1 to 64$/);
    }
  });
});
