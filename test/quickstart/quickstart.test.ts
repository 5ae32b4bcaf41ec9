/**
 * `kbs-bundler quickstart`: the offline rehearsal writes a key, a signature, bundle.yaml, the KBS tree and a
 * staged rootfs that real tools accept (skopeo standalone-verify of the staged signature, gpg reading the
 * policy's keyData), says ALLOWED for the signed sample and DENIED for the tampered copy, re-runs without
 * changing a byte, and refuses a directory that is not its own.
 */
import { promises as fs, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuickstart } from '../../src/quickstart/index.js';
import { makeGnupgHome } from '../helpers/gpg.js';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { skopeo } from '../helpers/skopeo.js';
import { snapshot } from '../stage/snapshot.js';

const IMAGE = 'registry.example.com:5000/demo/app:1.0';
const DIGEST = 'sha256:61e2c29bbf7dcec97c6abbd027fa3a2260689e60a7dcbd28c716eb4a8d328f2c';
const SIG_DIR = `demo/app@sha256=${DIGEST.slice('sha256:'.length)}`;
const GUEST_SIG = `var/lib/containers/sigstore/${SIG_DIR}/signature-1`;
const DENIAL = 'message: Image policy rejected: Denied by policy: rejected by `signedBy` rule';

let work: string;
let dir: string;
let first: CliResult;

const mode = async (f: string) => ((await fs.stat(f)).mode & 0o777).toString(8);
const read = (f: string) => fs.readFile(path.join(dir, f));

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-quickstart-'));
  dir = path.join(work, 'qs');
  first = await runCli(['quickstart', '--dir', dir]);
}, 120_000);
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('quickstart into a new directory', () => {
  it('tells the story: each step, ALLOWED for the signed sample, DENIED with the reason for the tampered copy, exit 0', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const lines = first.stdout.split('\n');
    expect(lines).toContain(`1. Writing the quickstart into ${dir}`);
    expect(lines).toContain('2. Generated an RSA 3072 signing key (EXAMPLE ONLY: its secret key has no passphrase)');
    expect(lines).toContain('8. Guest check of the signed manifest: ALLOWED');
    expect(lines).toContain('9. Guest check of the tampered copy: DENIED');
    expect(lines).toContain(`     ${DENIAL}`);
    expect(first.stdout).toContain(`     ${path.join(dir, 'kbs')}\n`);
    expect(first.stdout).toContain('The guest would pull the signed image and refuse the tampered one');
    for (const next of [
      'gpg --quick-gen-key',
      '--rootfs /opt/kata/share/kata-containers/kata-containers.img',
      'render initdata -c',
      'kubectl apply -f sign-test.yaml',
    ]) {
      expect(first.stdout).toContain(next);
    }
  });

  it('writes the secret key 0600 and marked example-only, the password 0600, the credential resource 0600', async () => {
    expect(await mode(path.join(dir, 'EXAMPLE-ONLY-secret-key.asc'))).toBe('600');
    expect(await mode(path.join(dir, 'EXAMPLE-ONLY-registry-password'))).toBe('600');
    expect(await mode(path.join(dir, 'kbs/default/credential/test'))).toBe('600');
    expect(await mode(path.join(dir, 'kbs/default/security-policy/test'))).toBe('644');
    const secret = await openpgp.readPrivateKey({ armoredKey: (await read('EXAMPLE-ONLY-secret-key.asc')).toString() });
    expect(secret.isDecrypted()).toBe(true);
    expect(secret.getUserIDs()).toEqual([
      'kbs-bundler quickstart signer (EXAMPLE ONLY, do not trust) <quickstart@example.com>',
    ]);
    expect(secret.getAlgorithmInfo()).toEqual({ algorithm: 'rsaEncryptSign', bits: 3072 });
    const password = (await read('EXAMPLE-ONLY-registry-password')).toString().trim();
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(first.stdout).not.toContain(password);
    const auths = JSON.parse((await read('kbs/default/credential/test')).toString()) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Buffer.from(auths.auths['registry.example.com:5000']?.auth ?? '', 'base64').toString()).toBe(
      `demo:${password}`,
    );
  });

  it('renders bundle.yaml from templates/quickstart and the KBS policy carries the generated key as keyData', async () => {
    const bundleText = (await read('bundle.yaml')).toString();
    expect(bundleText).not.toContain('{{');
    expect(bundleText.split('\n').slice(0, 3)).toEqual(
      (await fs.readFile(path.join(TEMPLATES, 'quickstart/bundle.yaml'), 'utf8')).split('\n').slice(0, 3),
    );
    const bundle = parseYaml(bundleText) as {
      policy: { scopes: Record<string, Array<{ keys: string[] }>> };
      registries: Record<string, { address: string }>;
    };
    expect(bundle.policy.scopes['registry.example.com:5000']?.[0]?.keys).toEqual(['public-key.asc']);
    expect(bundle.registries['registry.example.com:5000']?.address).toBe('192.0.2.10');

    const policy = JSON.parse((await read('kbs/default/security-policy/test')).toString()) as {
      default: unknown;
      transports: { docker: Record<string, Array<{ type: string; keyType: string; keyData: string }>> };
    };
    expect(policy.default).toEqual([{ type: 'reject' }]);
    const rule = policy.transports.docker['registry.example.com:5000']?.[0];
    expect([rule?.type, rule?.keyType]).toEqual(['signedBy', 'GPGKeys']);
    const publicKey = await read('public-key.asc');
    expect(Buffer.from(rule?.keyData ?? '', 'base64').equals(publicKey)).toBe(true);
    const fromPolicy = await openpgp.readKey({ armoredKey: Buffer.from(rule?.keyData ?? '', 'base64').toString() });
    const fingerprint = fromPolicy.getFingerprint().toUpperCase();
    expect(first.stdout).toContain(`fingerprint ${fingerprint}`);
    const secret = await openpgp.readPrivateKey({ armoredKey: (await read('EXAMPLE-ONLY-secret-key.asc')).toString() });
    expect(secret.getFingerprint().toUpperCase()).toBe(fingerprint);
  });

  it('stages the signature at the guest sigstore path, where skopeo verifies it with the generated key; CA and hosts appended', async () => {
    const staged = await read(path.join('rootfs', GUEST_SIG));
    expect(staged.equals(await read(`sigstore/${SIG_DIR}/signature-1`))).toBe(true);
    const gnupg = await makeGnupgHome();
    try {
      const imported = await gnupg.gpg(['--import'], await read('public-key.asc'));
      expect(imported.code).toBe(0);
      const fpr = (await openpgp.readKey({ armoredKey: (await read('public-key.asc')).toString() }))
        .getFingerprint()
        .toUpperCase();
      const v = await skopeo(
        ['standalone-verify', path.join(dir, 'manifest.json'), IMAGE, fpr, path.join(dir, 'rootfs', GUEST_SIG)],
        { env: gnupg.env },
      );
      expect([v.code, v.stdout.trim()]).toEqual([0, `Signature verified, digest ${DIGEST}`]);
    } finally {
      await gnupg.cleanup();
    }
    expect((await read('rootfs/etc/hosts')).toString()).toMatch(
      /^127\.0\.0\.1 localhost\n[^]*\n192\.0\.2\.10 registry\.example\.com\n/,
    );
    const ca = (await read('registry-ca.crt')).toString().trim();
    expect((await read('rootfs/etc/ssl/certs/ca-certificates.crt')).toString()).toContain(ca);
  });
});

describe('re-running and refusing', () => {
  it('a second run into its own output changes nothing (KBS tree, store, rootfs byte for byte) and reports JSON', async () => {
    const before = await snapshot(dir);
    const again = await runCli(['quickstart', '--dir', dir, '--json']);
    expect(again.code).toBe(0);
    expect(await snapshot(dir)).toEqual(before);
    const report = JSON.parse(again.stdout) as {
      target: string;
      storyHeld: boolean;
      digest: string;
      signed: { allowed: boolean };
      tampered: { allowed: boolean; message: string; chain: string[] };
      steps: Array<{ id: string; summary: string }>;
    };
    expect([report.target, report.storyHeld, report.digest, report.signed.allowed, report.tampered.allowed]).toEqual([
      'previous',
      true,
      DIGEST,
      true,
      false,
    ]);
    expect(report.tampered.message).toBe('Image policy rejected: Denied by policy: rejected by `signedBy` rule');
    expect(report.tampered.chain[1]).toMatch(/^Read Sigstore Dir failed: .*NotFound/);
    expect(report.steps.find((s) => s.id === 'key')?.summary).toBe(
      'Re-used the quickstart signing key from the earlier run',
    );
    expect(report.steps.find((s) => s.id === 'stage')?.summary).toBe(
      'Staged into the rootfs: 0 created, 0 appended to, 0 replaced, 3 unchanged',
    );
    expect(again.stdout).not.toContain((await read('EXAMPLE-ONLY-registry-password')).toString().trim());
  });

  it('refuses a non-empty directory that is not quickstart output (exit 2, nothing written); --force writes beside the files', async () => {
    const foreign = path.join(work, 'foreign');
    await fs.mkdir(foreign);
    await fs.writeFile(path.join(foreign, 'notes.txt'), 'mine\n');
    const before = await snapshot(foreign);
    const r = await runCli(['quickstart', '--dir', foreign]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      `kbs-bundler: ${foreign}: is not empty and is not an earlier quickstart output (no .kbs-bundler-quickstart.json); nothing was written. Choose another --dir, or pass --force to write the quickstart files into it`,
    );
    expect(await snapshot(foreign)).toEqual(before);

    const forced = await runCli(['quickstart', '--dir', foreign, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout.split('\n')[0]).toBe(`1. Writing into the non-empty directory ${foreign} (--force)`);
    expect(await fs.readFile(path.join(foreign, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('--dry-run uses ./kbs-bundler-quickstart by default, lists what it would write and writes nothing; a foreign dir is refused in a dry run too', async () => {
    const cwd = path.join(work, 'dry');
    await fs.mkdir(cwd);
    const r = await runCli(['quickstart', '--dry-run', '--json'], { cwd });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      dryRun: boolean;
      dir: string;
      target: string;
      writes: Array<{ path: string }>;
    };
    expect([plan.dryRun, plan.dir, plan.target]).toEqual([true, './kbs-bundler-quickstart', 'new']);
    expect(plan.writes.map((w) => w.path)).toEqual(
      expect.arrayContaining([
        'kbs-bundler-quickstart/EXAMPLE-ONLY-secret-key.asc',
        'kbs-bundler-quickstart/kbs',
        'kbs-bundler-quickstart/rootfs',
      ]),
    );
    expect(await fs.readdir(cwd)).toEqual([]);
    const again = await runCli(['quickstart', '--dry-run', '--json', '--dir', dir]);
    const previous = JSON.parse(again.stdout) as { target: string; writes: Array<{ path: string }> };
    expect(previous.target).toBe('previous');
    expect(previous.writes.map((w) => w.path)).not.toContain(path.join(dir, 'EXAMPLE-ONLY-secret-key.asc'));
    await fs.writeFile(path.join(cwd, 'notes.txt'), 'mine\n');
    const refused = await runCli(['quickstart', '--dry-run', '--dir', cwd]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not empty and is not an earlier quickstart output');
  });

  it('refuses a --dir that is a file (exit 2)', async () => {
    const file = path.join(work, 'a-file');
    await fs.writeFile(file, 'x');
    const r = await runCli(['quickstart', '--dir', file]);
    expect([r.code, r.stderr.trim()]).toEqual([
      2,
      `kbs-bundler: ${file}: exists and is not a directory; choose another --dir`,
    ]);
    expect(await fs.readFile(file, 'utf8')).toBe('x');
  });

  it('reports that the story did not hold when the signed image is denied (signature gone from the rootfs after staging)', async () => {
    const d = path.join(work, 'broken');
    const result = await runQuickstart({
      dir: d,
      onStep: (step) => {
        if (step.id === 'stage') rmSync(path.join(d, 'rootfs', GUEST_SIG));
      },
    });
    expect([result.storyHeld, result.signed.allowed, result.tampered.allowed]).toEqual([false, false, false]);
    expect(result.signed.decisions[0]?.chain[1]).toBe(
      'The signatures do not satisfied! Reject reason: [Can not find any signatures.]',
    );
  });
});
