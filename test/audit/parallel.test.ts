/**
 * `audit` on worker threads gives exactly the in-process audit's report: the same findings, in store
 * order, for every kind of signature (good, bad, unknown key, subkey, revoked, expired key, not signed,
 * too large, digest mismatch, invalid payload and identity, non-RSA keys). The worker threads run the
 * compiled library (dist/, built by `npm run build`), as the CLI does; the CLI itself is compared
 * between `--jobs 1` and every core on a store on disk.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, readPublicKeyring, type Keyring } from '../../src/keys/index.js';
import { decodeFindings, encodeFindings } from '../../src/audit/wire.js';
import { auditFinding } from '../../src/audit/index.js';
import { MAX_SIGNATURE_SIZE, signImage } from '../../src/signature/index.js';
import type { StoredSignature } from '../../src/store/index.js';
import { CI_FIXTURES, IMAGE_RS_FIXTURES, REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

/** The built audit and store modules: workers load dist/, so the test drives dist/ too. */
type Library = typeof import('../../src/audit/index.js') & typeof import('../../src/store/index.js');

const DIGEST = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const CI_BLOBS = [
  'image.signature',
  'no-optional-fields.signature',
  'corrupt.signature',
  'expired.signature',
  'invalid-blob.signature',
  'invalid-reference.signature',
  'unknown-key.signature',
  'subkey.signature',
  'subkey-revoked.signature',
  'unsigned-literal.signature',
  'unsigned-encrypted.signature',
  'invalid-cleartext.signature',
  'invalid-blob.signature-v3',
  'corrupt.signature-v3',
  'subkey.signature-v3',
  'unknown-key.signature-v3',
  'dir-img-valid/signature-1',
  'dir-img-valid-subkey/signature-1',
];
const RSA_KEYS = ['public-key.gpg', 'public-key-with-subkey.gpg', 'public-key-with-revoked-subkey.gpg'].map((f) =>
  path.join(CI_FIXTURES, f),
);
const IMAGE_RS_KEY = path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/pubkey.gpg');

let dist: Library;
let tmp: string;
/** Blobs with the digest each was made for; the store picks from these. */
let pool: Array<{ bytes: Uint8Array; digest: string }>;
let rsaKeyrings: Keyring[];
let edKeyring: Keyring;
let edPublicFile: string;

/** Deterministic pseudo-random numbers (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` signatures in store order, each image its own repository, kinds mixed so that neighbours differ. */
function store(n: number, seed = 1): StoredSignature[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => {
    const pick = pool[Math.floor(next() * pool.length)]!;
    const mismatch = next() < 0.1; // the right signature for another image
    const digest = mismatch ? `sha256:${(i + 1).toString(16).padStart(64, '0')}` : pick.digest;
    return {
      repositoryPath: `ns/app-${String(i).padStart(5, '0')}`,
      digest,
      name: 'signature-1',
      bytes: pick.bytes,
      source: `test:${i}`,
    };
  });
}

beforeAll(async () => {
  const built = (module: string) => import(pathToFileURL(path.join(REPO_ROOT, 'dist', module)).href);
  dist = { ...(await built('audit/index.js')), ...(await built('store/index.js')) } as Library;
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-audit-parallel-'));
  pool = CI_BLOBS.map((f) => ({ bytes: readFileSync(path.join(CI_FIXTURES, f)), digest: DIGEST }));
  // Not a signature at all, empty, and one byte over the limit.
  pool.push({ bytes: Buffer.from('not a signature'), digest: DIGEST }, { bytes: new Uint8Array(0), digest: DIGEST });
  pool.push({ bytes: new Uint8Array(MAX_SIGNATURE_SIZE + 1).fill(0xa3), digest: DIGEST });
  // The image-rs tarball's signatures: one by an expired key (guest accepts, host rejects), one by an unknown key.
  for (const sig of await dist.readSignatureStore(path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/signatures.tar')))
    pool.push({ bytes: sig.bytes, digest: sig.digest });
  // ed25519 signatures (openpgp.js path), each for its own image and identity.
  const ed = await generateSigningKey({
    name: 'Ed Audit',
    algorithm: 'ed25519',
    date: new Date('2024-01-01T00:00:00Z'),
  });
  const key = await openpgp.readPrivateKey({ armoredKey: ed.secretArmored });
  for (let i = 0; i < 24; i++) {
    const digest = `sha256:${(0xed0000 + i).toString(16).padStart(64, '0')}`;
    pool.push({
      bytes: await signImage({
        key,
        dockerReference: `registry.example.com/ed/app-${i}:v${i}`,
        manifestDigest: digest,
        timestamp: 1_735_689_600 + i,
      }),
      digest,
    });
  }
  edPublicFile = path.join(tmp, 'ed.asc');
  await fs.writeFile(edPublicFile, ed.publicArmored);
  edKeyring = await readPublicKeyring(Buffer.from(ed.publicArmored), { file: edPublicFile });
  rsaKeyrings = [];
  for (const f of [...RSA_KEYS, IMAGE_RS_KEY]) rsaKeyrings.push(await readPublicKeyring(readFileSync(f), { file: f }));
}, 120_000);

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('findings between threads', () => {
  it('decode(encode(findings)) gives back every finding with the same keys, whatever the kind', async () => {
    const keyring = dist.mergeKeyrings([...rsaKeyrings, edKeyring]);
    const findings = [];
    for (const { bytes, digest } of pool) {
      findings.push(await auditFinding(bytes, digest, keyring));
      findings.push(await auditFinding(bytes, `sha256:${'1'.repeat(64)}`, keyring));
    }
    // Every shape occurs: rejected by one side only, by both, signer with and without subkey, no signer.
    expect(new Set(findings.map((f) => f.status))).toEqual(
      new Set([
        'good',
        'bad-signature',
        'unknown-key',
        'not-signed',
        'too-large',
        'invalid-payload',
        'invalid-identity',
        'digest-mismatch',
        'expired-key',
        'expired-signature',
        'subkey',
        'revoked',
      ]),
    );
    expect(findings.some((f) => f.signer?.subkeyFingerprint !== undefined)).toBe(true);
    expect(findings.some((f) => f.guestReason === undefined && f.hostReason !== undefined)).toBe(true);
    expect(findings.some((f) => f.guestReason !== undefined && f.hostReason === undefined)).toBe(true);
    const wire = structuredClone(encodeFindings(findings));
    expect(decodeFindings(wire)).toStrictEqual(findings);
    expect(() => decodeFindings(wire.slice(1))).toThrow(/whole findings/);
  });
});

describe('auditSignaturesOnAllCores (compiled library, worker threads)', () => {
  it('worker threads judge every signature, and the report equals the in-process one (RSA keys: no openpgp.js in workers)', async () => {
    const sigs = store(1500, 7);
    const expected = await dist.auditSignatures(sigs, dist.mergeKeyrings(rsaKeyrings));
    const stats = { threads: 0, inWorkers: 0 };
    const progress: number[] = [];
    const report = await dist.auditSignaturesOnAllCores(sigs, rsaKeyrings, {
      threads: 3,
      workersOnly: true,
      minForWorkers: 0,
      stats,
      onProgress: (done) => progress.push(done),
    });
    expect(stats).toEqual({ threads: 3, inWorkers: 1500 });
    expect(report).toStrictEqual(expected);
    expect(JSON.stringify(report)).toBe(JSON.stringify(expected));
    expect(progress.at(-1)).toBe(1500);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // The store is varied enough that a dropped, moved or altered finding could not go unnoticed.
    expect(Object.keys(expected.counts).length).toBeGreaterThanOrEqual(9);
  });

  it('the same with a non-RSA key (workers rebuild its key index from plain data) and with the calling thread sharing the work', async () => {
    const keyrings = [...rsaKeyrings, edKeyring];
    const sigs = store(1200, 11);
    const expected = await dist.auditSignatures(sigs, dist.mergeKeyrings(keyrings));
    expect(expected.counts.good).toBeGreaterThan(0);
    const scopes = new Map([[edKeyring.descriptions[0]!.fingerprint, ['docker:registry.example.com/ed']]]);
    const withScopes = await dist.auditSignatures(sigs, dist.mergeKeyrings(keyrings), undefined, scopes);
    const stats = { threads: 0, inWorkers: 0 };
    expect(
      await dist.auditSignaturesOnAllCores(sigs, keyrings, { threads: 2, workersOnly: true, minForWorkers: 0, stats }),
    ).toStrictEqual(expected);
    expect(stats.inWorkers).toBe(1200);
    expect(
      await dist.auditSignaturesOnAllCores(sigs, keyrings, {
        threads: 2,
        minForWorkers: 0,
        scopesByFingerprint: scopes,
      }),
    ).toStrictEqual(withScopes);
    const threads = await dist.startAuditThreads(keyrings, { threads: 2 });
    expect(await threads.audit(sigs, { scopesByFingerprint: scopes })).toStrictEqual(withScopes);
  });

  it('workers judge an Ed25519 keyring from its key index, without parsing its bytes again: same report', async () => {
    // Bytes that no longer parse: the workers never read them, they get the index as plain data.
    const broken: Keyring = { ...edKeyring, bytes: Buffer.from('not a keyring') };
    const keyrings = [...rsaKeyrings, broken];
    const sigs = store(400, 3);
    const expected = await dist.auditSignatures(sigs, dist.mergeKeyrings(keyrings));
    const stats = { threads: 0, inWorkers: 0 };
    expect(
      await dist.auditSignaturesOnAllCores(sigs, keyrings, { threads: 2, workersOnly: true, minForWorkers: 0, stats }),
    ).toStrictEqual(expected);
    expect(stats.inWorkers).toBe(400);
  });

  it('a progress callback that throws rejects the audit, in-process and on worker threads alike', async () => {
    const sigs = store(300, 9);
    const onProgress = () => {
      throw new Error('stop');
    };
    await expect(dist.auditSignaturesOnAllCores(sigs, rsaKeyrings, { threads: 1, onProgress })).rejects.toThrow('stop');
    await expect(
      dist.auditSignaturesOnAllCores(sigs, rsaKeyrings, {
        threads: 2,
        workersOnly: true,
        minForWorkers: 0,
        onProgress,
      }),
    ).rejects.toThrow('stop');
  });

  it('small stores and threads: 1 stay in-process', async () => {
    const sigs = store(50, 5);
    const stats = { threads: 0, inWorkers: 0 };
    const expected = await dist.auditSignatures(sigs, dist.mergeKeyrings(rsaKeyrings));
    expect(await dist.auditSignaturesOnAllCores(sigs, rsaKeyrings, { stats })).toStrictEqual(expected);
    expect(stats).toEqual({ threads: 1, inWorkers: 0 });
    expect(await dist.auditSignaturesOnAllCores(store(3000, 5), rsaKeyrings, { threads: 1, stats })).toBeDefined();
    expect(stats).toEqual({ threads: 1, inWorkers: 0 });
  });
});

describe('AuditThreads.auditStore (compiled library): workers judge while the store is read', () => {
  /** Writes `sigs` as a lookaside tree under `dir`, each image at the top level. */
  async function writeTree(dir: string, sigs: readonly StoredSignature[]): Promise<void> {
    for (const sig of sigs) {
      const d = path.join(dir, `${sig.repositoryPath.replace('/', '-')}@sha256=${sig.digest.slice(7)}`);
      await fs.mkdir(d, { recursive: true });
      await fs.writeFile(path.join(d, sig.name), sig.bytes);
    }
  }
  /** Started, then given the time to load, so that they are fed from the first batches read. */
  async function readyThreads(keyrings: Keyring[], threads: number) {
    const pool = await dist.startAuditThreads(keyrings, { threads });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return pool;
  }

  it('readSignatureStore gives every signature once to onRead, in batches, the same objects it returns in store order', async () => {
    const dir = path.join(tmp, 'on-read');
    await writeTree(dir, store(700, 17));
    const batches: StoredSignature[][] = [];
    const sorted = await dist.readSignatureStore(dir, { onRead: (batch) => batches.push([...batch]) });
    expect(batches.length).toBeGreaterThan(2);
    const given = batches.flat();
    const sameObjects = (a: readonly StoredSignature[], b: readonly StoredSignature[]) =>
      a.length === b.length && new Set([...a, ...b]).size === a.length;
    expect(given.length).toBe(700);
    expect(sameObjects(given, sorted)).toBe(true);
    const plain = (list: readonly StoredSignature[]) =>
      list.map((sig) => ({ ...sig, bytes: Buffer.from(sig.bytes).toString('hex') }));
    expect(plain(sorted)).toEqual(plain(await dist.readSignatureStore(dir)));
    const tar = path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/signatures.tar');
    const once: StoredSignature[][] = [];
    const fromTar = await dist.readSignatureStore(tar, { onRead: (batch) => once.push([...batch]) });
    expect(once.length).toBe(1);
    expect(fromTar).toHaveLength(2);
    expect(sameObjects(once.flat(), fromTar)).toBe(true);
  });

  it('the report equals the in-process one, the worker judging alone or beside the calling thread', async () => {
    const dir = path.join(tmp, 'as-read');
    await writeTree(dir, store(2500, 19));
    const keyrings = [...rsaKeyrings, edKeyring];
    const expected = await dist.auditSignatures(await dist.readSignatureStore(dir), dist.mergeKeyrings(keyrings));
    expect(Object.keys(expected.counts).length).toBeGreaterThanOrEqual(9);
    for (const workersOnly of [true, false]) {
      const stats = { threads: 0, inWorkers: 0 };
      const progress: Array<[number, number]> = [];
      const pool = await readyThreads(keyrings, 2);
      const report = await pool.auditStore(dir, {
        workersOnly,
        stats,
        onProgress: (done, total) => progress.push([done, total]),
      });
      expect(report).toStrictEqual(expected);
      expect(JSON.stringify(report)).toBe(JSON.stringify(expected));
      expect(stats.threads).toBe(2);
      expect(stats.inWorkers).toBeGreaterThan(workersOnly ? 2499 : 0);
      expect(progress.at(-1)).toEqual([2500, 2500]);
      expect(progress.every(([, total]) => total === 2500)).toBe(true);
    }
    const inProcess = await dist.startAuditThreads(keyrings, { threads: 1 });
    expect(await inProcess.auditStore(dir)).toStrictEqual(expected);
    // A non-RSA keyring whose bytes no longer parse: the workers judge it from its key index all the same.
    const broken = [...rsaKeyrings, { ...edKeyring, bytes: Buffer.from('not a keyring') }];
    const stats = { threads: 0, inWorkers: 0 };
    expect(
      await (await dist.startAuditThreads(broken, { threads: 2 })).auditStore(dir, { workersOnly: true, stats }),
    ).toStrictEqual(expected);
    expect(stats.inWorkers).toBe(2500);
  });

  it('a store that cannot be read part-way through rejects with the reader’s own error, whatever the workers were given', async () => {
    const dir = path.join(tmp, 'eio');
    await writeTree(dir, store(1500, 23));
    // Read after every top-level image; reading /proc/self/mem at offset 0 fails with EIO, even for root.
    const late = path.join(dir, `zz/late@sha256=${'c'.repeat(64)}`);
    await fs.mkdir(late, { recursive: true });
    await fs.symlink('/proc/self/mem', path.join(late, 'signature-1'));
    const error = await dist.readSignatureStore(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_STORE_READ', problem: 'cannot be read (EIO)' });
    for (const workersOnly of [true, false]) {
      const pool = await readyThreads(rsaKeyrings, 2);
      const got = await pool.auditStore(dir, { workersOnly }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(got).toBeInstanceOf((error as Error).constructor);
      expect(got).toMatchObject({ code: 'E_STORE_READ', message: (error as Error).message });
    }
    for (const missing of [path.join(tmp, 'no-such-store'), '/dev/null']) {
      const expected = await dist.readSignatureStore(missing).catch((e: unknown) => e);
      const pool = await dist.startAuditThreads(rsaKeyrings, { threads: 2 });
      const got = await pool.auditStore(missing).catch((e: unknown) => e);
      expect(got).toBeInstanceOf((expected as Error).constructor);
      expect(got).toMatchObject({ code: (expected as { code: string }).code, message: (expected as Error).message });
    }
  });
});

describe('defaultAuditThreads', () => {
  it('is one thread per core', () => {
    expect(dist.defaultAuditThreads()).toBe(os.availableParallelism());
    expect(dist.defaultAuditThreads(8)).toBe(8);
    expect(dist.defaultAuditThreads(0)).toBe(1);
  });
});

describe('isSmallStore', () => {
  it('is true for a dir: layout and a small tarball, false for a lookaside tree and what it cannot read', async () => {
    expect(dist.isSmallStore(`dir:${path.join(CI_FIXTURES, 'dir-img-valid')}`)).toBe(true);
    expect(dist.isSmallStore(path.join(CI_FIXTURES, 'dir-img-valid'))).toBe(true);
    expect(dist.isSmallStore(path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/signatures.tar'))).toBe(true);
    const big = path.join(tmp, 'big.tar');
    await fs.writeFile(big, Buffer.alloc(1 << 20));
    expect(dist.isSmallStore(big)).toBe(false);
    expect(dist.isSmallStore(tmp)).toBe(false);
    expect(dist.isSmallStore(path.join(tmp, 'missing'))).toBe(false);
  });
});

describe('kbs-bundler audit: --jobs 1 and every core print the same', () => {
  it('same --json and text report, same exit code, on a store on disk with a policy (the bundled CLI finds its worker)', async () => {
    const dir = path.join(tmp, 'cli-store');
    const sigs = store(1500, 13);
    for (const sig of sigs) {
      const d = path.join(dir, `${sig.repositoryPath}@sha256=${sig.digest.slice(7)}`);
      await fs.mkdir(d, { recursive: true });
      await fs.writeFile(path.join(d, sig.name), sig.bytes);
    }
    const policy = path.join(tmp, 'policy.json');
    const signedBy = (f: string) => ({ type: 'signedBy', keyType: 'GPGKeys', keyPath: f });
    await fs.writeFile(
      policy,
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: { 'docker.io/ns': RSA_KEYS.map(signedBy), 'registry.example.com/ed': [signedBy(edPublicFile)] },
        },
      }),
    );
    for (const extra of [['--json'], []]) {
      const args = ['audit', '--store', dir, '--keys', IMAGE_RS_KEY, '--policy', policy, ...extra];
      const one = await runCli([...args, '--jobs', '1']);
      const all = await runCli([...args, '--jobs', '2'], { env: { KBS_BUNDLER_DEBUG: '1' } });
      const auto = await runCli(args);
      expect(one.code).toBe(1);
      expect(one.stdout.length).toBeGreaterThan(1000);
      expect(all.stdout).toBe(one.stdout);
      expect(auto.stdout).toBe(one.stdout);
      expect([all.code, auto.code]).toEqual([1, 1]);
      expect(all.stderr).toMatch(/^audit: 1500 signatures on 2 threads, \d+ of them in worker threads$/m);
      const withoutProgress = (s: string) => s.replace(/^(verifying: \d+\/\d+|audit: .*)\n/gm, '');
      expect(withoutProgress(all.stderr)).toBe(withoutProgress(one.stderr));
      expect(all.stderr).toContain('verifying: 1500/1500');
    }
    const report = JSON.parse(
      (await runCli(['audit', '--store', dir, '--keys', ...RSA_KEYS, IMAGE_RS_KEY, edPublicFile, '--json'])).stdout,
    ) as { counts: Record<string, number> };
    expect(Object.keys(report.counts).length).toBeGreaterThanOrEqual(9);
  });

  it('the same errors: an unreadable store, a bad --jobs', async () => {
    const bad = path.join(tmp, 'bad.tar');
    await fs.writeFile(bad, 'this is not a tar archive, nor gzip');
    for (const args of [
      ['--store', bad],
      ['--store', path.join(tmp, 'missing')],
    ]) {
      const one = await runCli(['audit', ...args, '--keys', RSA_KEYS[0]!, '--jobs', '1']);
      const all = await runCli(['audit', ...args, '--keys', RSA_KEYS[0]!]);
      expect(one.code).toBe(2);
      expect([all.code, all.stderr, all.stdout]).toEqual([one.code, one.stderr, one.stdout]);
    }
    const jobs = await runCli([
      'audit',
      '--store',
      path.join(CI_FIXTURES, 'dir-img-valid'),
      '--keys',
      RSA_KEYS[0]!,
      '--jobs',
      '0',
    ]);
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toContain('--jobs');
  });
});
