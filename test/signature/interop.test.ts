/**
 * Signatures interchange with the real tools: what `kbs-bundler sign` writes passes `skopeo
 * standalone-verify` and `gpg --verify`; what `skopeo standalone-sign` (gpg keys) writes verifies with ours.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeyring } from '../../src/keys/index.js';
import { parsePayload, verifySignature } from '../../src/signature/index.js';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { CI_FIXTURES, IMAGE_RS_FIXTURES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { skopeo } from '../helpers/skopeo.js';

const MANIFEST = path.join(CI_FIXTURES, 'image.manifest.json');
const DIGEST = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const PASSPHRASE = 'correct horse battery staple';

let gnupg: GnupgHome;
let tmp: string;
let fpr: string;
let secretArmored: string;
let secretBinaryPlain: string;
let publicFile: string;

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-interop-'));
  fpr = await gnupg.generateKey('Interop Signer', 'interop@example.com', { passphrase: PASSPHRASE });
  secretArmored = path.join(tmp, 'secret.asc');
  await fs.writeFile(secretArmored, await gnupg.exportSecret(fpr, true, PASSPHRASE), { mode: 0o600 });
  publicFile = path.join(tmp, 'public.gpg');
  await fs.writeFile(publicFile, await gnupg.exportPublic(fpr, false));
  // A second key without passphrase, exported binary.
  const plainFpr = await gnupg.generateKey('Plain Signer', 'plain@example.com');
  secretBinaryPlain = path.join(tmp, 'plain.gpg');
  await fs.writeFile(secretBinaryPlain, await gnupg.exportSecret(plainFpr, false), { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await gnupg?.cleanup();
  await fs.rm(tmp, { recursive: true, force: true });
});

async function signWithCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(['sign', ...args], { env });
}

function onlySignature(store: string, repo: string): string {
  return path.join(store, `${repo}@sha256=${DIGEST.slice(7)}`, 'signature-1');
}

describe('kbs-bundler sign → skopeo and gpg', () => {
  let store: string;
  let sigFile: string;
  beforeAll(async () => {
    store = path.join(tmp, 'store-a');
    const passFile = path.join(tmp, 'pass.txt');
    await fs.writeFile(passFile, `${PASSPHRASE}\nsecond line ignored\n`, { mode: 0o600 });
    const r = await signWithCli([
      '--key',
      secretArmored,
      '--passphrase-file',
      passFile,
      '--reference',
      'busybox',
      '--manifest',
      MANIFEST,
      '--store',
      store,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      identity: string;
      digest: string;
      signer: string;
      path: string;
      index: number;
    };
    expect(out).toMatchObject({ identity: 'docker.io/library/busybox:latest', digest: DIGEST, signer: fpr, index: 1 });
    sigFile = onlySignature(store, 'library/busybox');
    expect(out.path).toBe(sigFile);
  }, 60_000);

  it('writes a binary signed message with the payload skopeo writes', async () => {
    const blob = readFileSync(sigFile);
    expect([0xc4, 0xa3, 0xc8, 0x90]).toContain(blob[0]);
    const v = await verifySignature(blob, await readPublicKeyring(readFileSync(publicFile), {}), 'host');
    const text = Buffer.from(v.payloadBytes).toString();
    expect(text).toMatch(
      /^\{"critical":\{"identity":\{"docker-reference":"docker\.io\/library\/busybox:latest"\},"image":\{"docker-manifest-digest":"sha256:20bf21ed[0-9a-f]+"\},"type":"atomic container signature"\},"optional":\{"creator":"kbs-bundler \d+\.\d+\.\d+[^"]*","timestamp":\d+\}\}$/,
    );
    const ts = parsePayload(v.payloadBytes, 'host').timestamp!;
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(120);
  });

  it('passes skopeo standalone-verify with the key in a throwaway GNUPGHOME', async () => {
    const r = await skopeo(['standalone-verify', MANIFEST, 'docker.io/library/busybox:latest', fpr, sigFile], {
      env: gnupg.env,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`digest ${DIGEST}`);
  });

  it('passes gpg --verify (GOODSIG and VALIDSIG by the primary key)', async () => {
    const r = await gnupg.gpg(['--status-fd', '2', '--verify', sigFile]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`[GNUPG:] VALIDSIG ${fpr}`);
    expect(r.stderr).toMatch(/\[GNUPG:\] GOODSIG [0-9A-F]{16} Interop Signer/);
  });

  it('is refused by skopeo for another digest or another identity', async () => {
    const other = path.join(CI_FIXTURES, 'dir-img-modified-manifest/manifest.json');
    const wrongDigest = await skopeo(['standalone-verify', other, 'docker.io/library/busybox:latest', fpr, sigFile], {
      env: gnupg.env,
    });
    expect(wrongDigest.code).not.toBe(0);
    expect(wrongDigest.stderr).toContain('does not match');
    const wrongIdentity = await skopeo(
      ['standalone-verify', MANIFEST, 'docker.io/library/alpine:latest', fpr, sigFile],
      { env: gnupg.env },
    );
    expect(wrongIdentity.code).not.toBe(0);
    expect(wrongIdentity.stderr).toContain(
      'Docker reference docker.io/library/busybox:latest does not match docker.io/library/alpine:latest',
    );
  });

  it('signs --sign-identity verbatim and --digest without a manifest, at the next free N', async () => {
    const r = await signWithCli(
      [
        '--key',
        secretArmored,
        '--reference',
        'busybox',
        '--sign-identity',
        'testing/manifest',
        '--digest',
        DIGEST,
        '--store',
        store,
        '--json',
      ],
      {
        KBS_BUNDLER_PASSPHRASE: PASSPHRASE,
      },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ identity: 'testing/manifest', index: 2 });
    const second = path.join(path.dirname(sigFile), 'signature-2');
    const ok = await skopeo(['standalone-verify', MANIFEST, 'testing/manifest', fpr, second], { env: gnupg.env });
    expect(ok.code).toBe(0);
  });
});

describe('key handling through the CLI', () => {
  it('signs with a binary, unencrypted secret key from gpg', async () => {
    const store = path.join(tmp, 'store-b');
    const r = await signWithCli([
      '--key',
      secretBinaryPlain,
      '--reference',
      'quay.io/a/b:1',
      '--digest',
      DIGEST,
      '--store',
      store,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Signed quay.io/a/b:1');
    await fs.access(onlySignature(store, 'a/b'));
  });

  it('refuses a wrong passphrase with exit 2 and one line that does not echo it, writing nothing', async () => {
    const store = path.join(tmp, 'store-c');
    const secret = 'wrong-secret-value-xyz';
    const r = await signWithCli(
      ['--key', secretArmored, '--reference', 'busybox', '--digest', DIGEST, '--store', store],
      { KBS_BUNDLER_PASSPHRASE: secret },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kbs-bundler: ${secretArmored}: wrong passphrase for the secret key\n`);
    expect(r.stdout + r.stderr).not.toContain(secret);
    await expect(fs.access(store)).rejects.toThrow();
  });

  it('refuses a public key given as the signing key', async () => {
    const r = await signWithCli([
      '--key',
      publicFile,
      '--reference',
      'busybox',
      '--digest',
      DIGEST,
      '--store',
      path.join(tmp, 'store-d'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `kbs-bundler: ${publicFile}: is a public key; give the secret key (gpg --export-secret-keys)\n`,
    );
  });

  it('refuses --manifest with --digest, and a bad digest', async () => {
    const both = await signWithCli([
      '--key',
      secretBinaryPlain,
      '--reference',
      'a',
      '--digest',
      DIGEST,
      '--manifest',
      MANIFEST,
      '--store',
      tmp,
    ]);
    expect(both.code).toBe(2);
    const bad = await signWithCli([
      '--key',
      secretBinaryPlain,
      '--reference',
      'a',
      '--digest',
      'sha256:1234',
      '--store',
      tmp,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--digest: "sha256:1234": invalid checksum digest length');
  });
});

describe('skopeo standalone-sign → kbs-bundler', () => {
  it('verifies in host and guest mode, identity verbatim', async () => {
    const out = path.join(tmp, 'skopeo.sig');
    const passFile = path.join(tmp, 'skopeo-pass.txt');
    await fs.writeFile(passFile, PASSPHRASE, { mode: 0o600 });
    const r = await skopeo(
      ['standalone-sign', '--passphrase-file', passFile, MANIFEST, 'example.com/ns/app:v1', fpr, '-o', out],
      { env: gnupg.env },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ring = await readPublicKeyring(readFileSync(publicFile), {});
    for (const mode of ['host', 'guest'] as const) {
      const v = await verifySignature(readFileSync(out), ring, mode);
      expect(v.signerFingerprint).toBe(fpr);
      expect(parsePayload(v.payloadBytes, mode)).toMatchObject({
        dockerReference: 'example.com/ns/app:v1',
        manifestDigest: DIGEST,
      });
    }
  });
});

describe('--dry-run', () => {
  it('sign and keygen check their inputs and write nothing', async () => {
    const store = path.join(tmp, 'dry-store');
    const r = await signWithCli([
      '--key',
      secretBinaryPlain,
      '--reference',
      'busybox',
      '--digest',
      DIGEST,
      '--store',
      store,
      '--dry-run',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, identity: 'docker.io/library/busybox:latest' });
    await expect(fs.access(store)).rejects.toThrow();
    const k = await runCli(['keygen', '--name', 'Dry', '--out', path.join(tmp, 'dry-keys'), '--dry-run']);
    expect(k.code).toBe(0);
    await expect(fs.access(path.join(tmp, 'dry-keys'))).rejects.toThrow();
  });
});

describe('kbs-bundler keygen', () => {
  it('writes an armored public key and a 0600 secret key that sign what skopeo verifies', async () => {
    const dir = path.join(tmp, 'keygen');
    const passFile = path.join(tmp, 'keygen-pass.txt');
    await fs.writeFile(passFile, 'keygen pass\n', { mode: 0o600 });
    const r = await runCli([
      'keygen',
      '--name',
      'Keygen Test',
      '--email',
      'k@example.com',
      '--out',
      dir,
      '--passphrase-file',
      passFile,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      fingerprint: string;
      publicKey: string;
      secretKey: string;
      algorithm: string;
      encrypted: boolean;
    };
    expect(out.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(out).toMatchObject({ algorithm: 'rsa3072', encrypted: true });
    expect((await fs.stat(out.secretKey)).mode & 0o777).toBe(0o600);
    expect(readFileSync(out.publicKey, 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const ring = await readPublicKeyring(readFileSync(out.publicKey), {});
    expect(ring.descriptions[0]).toMatchObject({
      fingerprint: out.fingerprint,
      algorithm: 'rsa3072',
      userIds: ['Keygen Test <k@example.com>'],
    });
    expect(r.stdout + r.stderr).not.toContain('keygen pass');
    // A second run refuses to overwrite.
    const again = await runCli(['keygen', '--name', 'X', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    // Sign with it; gpg (with only the public key) and skopeo accept the signature.
    const store = path.join(tmp, 'store-keygen');
    const s = await signWithCli([
      '--key',
      out.secretKey,
      '--passphrase-file',
      passFile,
      '--reference',
      'busybox',
      '--manifest',
      MANIFEST,
      '--store',
      store,
    ]);
    expect(s.code).toBe(0);
    const home = await makeGnupgHome();
    try {
      const imp = await home.gpg(['--import', out.publicKey]);
      expect(imp.code).toBe(0);
      const v = await skopeo(
        ['standalone-verify', MANIFEST, 'busybox:latest', out.fingerprint, onlySignature(store, 'library/busybox')],
        { env: home.env },
      );
      expect(v.stderr).toBe('');
      expect(v.code).toBe(0);
    } finally {
      await home.cleanup();
    }
  }, 60_000);
});

/** A store with one image and four signatures: good, unknown key, subkey, invalid payload. */
async function auditStore(): Promise<string> {
  const store = path.join(tmp, 'audit-store');
  const dir = path.join(store, `testing/manifest@sha256=${DIGEST.slice(7)}`);
  await fs.mkdir(dir, { recursive: true });
  const files = ['dir-img-valid/signature-1', 'unknown-key.signature', 'subkey.signature', 'invalid-blob.signature'];
  for (const [i, f] of files.entries())
    await fs.copyFile(path.join(CI_FIXTURES, f), path.join(dir, `signature-${i + 1}`));
  return store;
}

describe('audit', () => {
  it('reports good, unknown-key and subkey signatures with guest and host acceptance, exit 1 when not all good', async () => {
    const store = await auditStore();
    const keys = [path.join(CI_FIXTURES, 'public-key.gpg'), path.join(CI_FIXTURES, 'public-key-with-subkey.gpg')];
    const r = await runCli(['audit', '--store', store, '--keys', ...keys, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      images: Array<{
        guestAccepts: boolean;
        hostAccepts: boolean;
        signatures: Array<{
          name: string;
          status: string;
          guest: { accepted: boolean };
          host: { accepted: boolean };
          signer?: { fingerprint: string };
        }>;
      }>;
    };
    expect(report.images).toHaveLength(1);
    const sigs = report.images[0]!.signatures.map((s) => [s.name, s.status, s.guest.accepted, s.host.accepted]);
    expect(sigs).toEqual([
      ['signature-1', 'good', true, true],
      ['signature-2', 'unknown-key', false, false],
      ['signature-3', 'subkey', false, true],
      ['signature-4', 'invalid-payload', false, false],
    ]);
    const text = await runCli(['audit', '--store', store, '--keys', ...keys]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      'signature-1: good by 08CD26E446E2E95249B7A405E932F44B23E8DD43 (skopeo testing key) identity testing/manifest:latest; guest accepts, host accepts',
    );
    expect(text.stdout).toContain('4 signatures in 1 images: 1 good, 1 unknown-key, 1 subkey, 1 invalid-payload');
    const good = await runCli([
      'audit',
      '--store',
      `dir:${path.join(CI_FIXTURES, 'dir-img-valid-2')}`,
      '--keys',
      keys[0]!,
    ]);
    expect(good.code).toBe(0);
  });

  it('audits large stores on every core, in store order, with progress', async () => {
    const store = path.join(tmp, 'audit-many');
    const good = readFileSync(path.join(CI_FIXTURES, 'dir-img-valid/signature-1'));
    const unknown = readFileSync(path.join(CI_FIXTURES, 'unknown-key.signature'));
    for (let i = 0; i < 300; i++) {
      const dir = path.join(store, `ns/app-${String(i).padStart(3, '0')}@sha256=${DIGEST.slice(7)}`);
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(path.join(dir, 'signature-1'), i % 3 === 2 ? unknown : good);
    }
    const r = await runCli([
      'audit',
      '--store',
      store,
      '--keys',
      path.join(CI_FIXTURES, 'public-key.gpg'),
      '--json',
      '--jobs',
      '2',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('verifying: 300/300');
    // Progress comes chunk by chunk (the first line as soon as one is done), then the total.
    expect(r.stderr).toMatch(/^verifying: ([1-9]|[1-9]\d|[12]\d\d)\/300$/m);
    expect(r.stdout).toBe(
      (
        await runCli([
          'audit',
          '--store',
          store,
          '--keys',
          path.join(CI_FIXTURES, 'public-key.gpg'),
          '--json',
          '--jobs',
          '1',
        ])
      ).stdout,
    );
    const report = JSON.parse(r.stdout) as {
      total: number;
      good: number;
      counts: Record<string, number>;
      images: Array<{ repositoryPath: string; signatures: Array<{ status: string }> }>;
    };
    expect(report).toMatchObject({ total: 300, good: 200, counts: { good: 200, 'unknown-key': 100 } });
    report.images.forEach((image, i) => {
      expect(image.repositoryPath).toBe(`ns/app-${String(i).padStart(3, '0')}`);
      expect(image.signatures[0]!.status).toBe(i % 3 === 2 ? 'unknown-key' : 'good');
    });
  });

  it('says where guest and host differ: an expired key (guest accepts), a revoked subkey, a modified manifest', async () => {
    const tar = path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/signatures.tar');
    const r = await runCli([
      'audit',
      '--store',
      tar,
      '--keys',
      path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/pubkey.gpg'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      images: Array<{
        digest: string;
        guestAccepts: boolean;
        hostAccepts: boolean;
        signatures: Array<{
          status: string;
          identity?: string;
          guest: { accepted: boolean; reason?: string };
          host: { accepted: boolean; reason?: string };
        }>;
      }>;
    };
    const signed = report.images.find((i) => i.digest.startsWith('sha256:febcf61c'))!;
    expect(signed).toMatchObject({ guestAccepts: true, hostAccepts: false });
    expect(signed.signatures[0]).toMatchObject({
      status: 'expired-key',
      identity: 'quay.io/kata-containers/confidential-containers:signed',
      guest: { accepted: true },
    });
    expect(signed.signatures[0]!.host.reason).toContain('expired on 2022-09-23');
    const other = report.images.find((i) => i.digest.startsWith('sha256:7250923b'))!;
    expect(other.signatures[0]).toMatchObject({
      status: 'unknown-key',
      guest: { accepted: false, reason: 'signature verify failed! There is no pubkey can verify the signature!' },
    });

    const store = path.join(tmp, 'audit-revoked');
    const dir = path.join(store, `testing/manifest@sha256=${DIGEST.slice(7)}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.copyFile(path.join(CI_FIXTURES, 'subkey-revoked.signature'), path.join(dir, 'signature-1'));
    const revoked = await runCli([
      'audit',
      '--store',
      store,
      '--keys',
      path.join(CI_FIXTURES, 'public-key-with-revoked-subkey.gpg'),
    ]);
    expect(revoked.code).toBe(1);
    expect(revoked.stdout).toContain('signature-1: revoked by 6D88C5A1993648A17B2BB0DC6B8499AF63388D63');
    expect(revoked.stdout).toContain('guest rejects, host rejects');

    const modified = await runCli([
      'audit',
      '--store',
      `dir:${path.join(CI_FIXTURES, 'dir-img-modified-manifest')}`,
      '--keys',
      path.join(CI_FIXTURES, 'public-key.gpg'),
    ]);
    expect(modified.code).toBe(1);
    expect(modified.stdout).toContain('signature-1: digest-mismatch');
    expect(modified.stdout).toContain("guest: SigPayload's manifest digest does not match, the input is sha256:");
  });

  it('takes the trusted keys from a policy (keyData and keyPath) and says which scopes trust each signer', async () => {
    const dir = path.join(tmp, 'audit-policy');
    await fs.mkdir(dir, { recursive: true });
    await fs.copyFile(path.join(CI_FIXTURES, 'public-key-with-subkey.gpg'), path.join(dir, 'subkey.gpg'));
    const policy = {
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          'docker.io/testing/manifest': [
            {
              type: 'signedBy',
              keyType: 'GPGKeys',
              keyData: readFileSync(path.join(CI_FIXTURES, 'public-key.gpg')).toString('base64'),
            },
          ],
          'quay.io/other': [
            { type: 'signedBy', keyType: 'GPGKeys', keyPath: 'subkey.gpg' },
            { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/run/image-security/simple_signing/pubkey.gpg' },
          ],
        },
      },
    };
    await fs.writeFile(path.join(dir, 'policy.json'), JSON.stringify(policy));
    const r = await runCli([
      'audit',
      '--store',
      await auditStore(),
      '--policy',
      path.join(dir, 'policy.json'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'transports.docker["quay.io/other"][1]: keyPath /run/image-security/simple_signing/pubkey.gpg is not readable here',
    );
    const report = JSON.parse(r.stdout) as {
      images: Array<{ signatures: Array<{ name: string; status: string; trustedBy?: string[] }> }>;
    };
    expect(report.images[0]!.signatures.map((s) => [s.name, s.status, s.trustedBy])).toEqual([
      ['signature-1', 'good', ['docker:docker.io/testing/manifest']],
      ['signature-2', 'unknown-key', undefined],
      ['signature-3', 'subkey', ['docker:quay.io/other']],
      ['signature-4', 'invalid-payload', ['docker:docker.io/testing/manifest']],
    ]);
    const bad = await runCli(['audit', '--store', path.join(tmp, 'audit-store')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('kbs-bundler: give --keys KEYRING... and/or --policy FILE\n');
  });
});

describe('non-RSA keys', () => {
  it('an ed25519 key from keygen signs what gpg verifies, and kbs-bundler verifies it through openpgp.js', async () => {
    const dir = path.join(tmp, 'ed25519');
    const k = await runCli(['keygen', '--name', 'Ed Signer', '--algorithm', 'ed25519', '--out', dir, '--json']);
    expect(k.code).toBe(0);
    const keys = JSON.parse(k.stdout) as { fingerprint: string; publicKey: string; secretKey: string };
    const store = path.join(tmp, 'store-ed');
    const s = await signWithCli([
      '--key',
      keys.secretKey,
      '--reference',
      'busybox',
      '--digest',
      DIGEST,
      '--store',
      store,
    ]);
    expect(s.code).toBe(0);
    const blob = readFileSync(onlySignature(store, 'library/busybox'));
    const ring = await readPublicKeyring(readFileSync(keys.publicKey), {});
    expect(ring.descriptions[0]!.algorithm).toBe('ed25519');
    for (const mode of ['host', 'guest'] as const)
      expect((await verifySignature(blob, ring, mode)).signerFingerprint).toBe(keys.fingerprint);
    const home = await makeGnupgHome();
    try {
      expect((await home.gpg(['--import', keys.publicKey])).code).toBe(0);
      const v = await home.gpg(['--status-fd', '2', '--verify'], blob);
      expect(v.stderr).toContain(`[GNUPG:] VALIDSIG ${keys.fingerprint}`);
      // A flipped byte in the signature MPI is refused by both.
      const bad = Buffer.from(blob);
      bad[bad.length - 5] = bad[bad.length - 5]! ^ 0x01;
      await expect(verifySignature(bad, ring, 'host')).rejects.toMatchObject({ code: 'E_SIG_BAD' });
      expect((await home.gpg(['--status-fd', '2', '--verify'], bad)).stderr).not.toContain('VALIDSIG');
    } finally {
      await home.cleanup();
    }
  });
});
