/** `kbs-bundler verify` and `lint` as a user runs them: output, --json, exit codes. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { CI_FIXTURES } from '../helpers/paths.js';
import {
  IMAGE_RS_RESOURCES,
  OTHER_SIGNED_DIGEST,
  SIGNED_DIGEST,
  kbsTreeFromOfflineJson,
  rootfsWithImageRsSignatures,
  tempDir,
  writeTree,
} from './fixtures.js';

let work: string;
let kbs: string;
let rootfs: string;
const SIGNED = 'quay.io/kata-containers/confidential-containers:signed';

beforeAll(async () => {
  work = await tempDir('cli');
  kbs = await kbsTreeFromOfflineJson(IMAGE_RS_RESOURCES, path.join(work, 'kbs'));
  rootfs = await rootfsWithImageRsSignatures(path.join(work, 'rootfs'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('kbs-bundler verify', () => {
  it('ALLOWED in image-rs mode (exit 0) with the scope, the rule and the accepted signature', async () => {
    const r = await runCli(['verify', SIGNED, '--kbs', kbs, '--rootfs', rootfs, '--digest', SIGNED_DIGEST]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ALLOWED quay\.io\/kata-containers\/confidential-containers:signed/);
    expect(r.stdout).toContain('scope: docker:"quay.io/kata-containers/confidential-containers"');
    expect(r.stdout).toContain('1. signedBy GPGKeys keyPath kbs:///default/gpg-public-key/test');
    expect(r.stdout).toMatch(/✓ \/etc\/containers\/quay_verification\/signatures\/.*signature-1: accepted/);
  });

  it('DENIED in containers-image mode (exit 1) for the expired key', async () => {
    const r = await runCli([
      'verify',
      SIGNED,
      '--kbs',
      kbs,
      '--rootfs',
      rootfs,
      '--digest',
      SIGNED_DIGEST,
      '--mode',
      'containers-image',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'message: Source image rejected: Signature by key 67B24AACC459679E0283D7EE58F6ED07EEA6B429 is not accepted',
    );
  });

  it('--mode both reports the divergence; --json carries the same', async () => {
    const r = await runCli([
      'verify',
      SIGNED,
      '--kbs',
      kbs,
      '--rootfs',
      rootfs,
      '--digest',
      SIGNED_DIGEST,
      '--mode',
      'both',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      `ALLOWED ${SIGNED} (${SIGNED_DIGEST}): ALLOWED by image-rs (guest), DENIED by containers/image (host)`,
    );
    expect(r.stdout).toContain('The guest and the host decide differently:');
    expect(r.stdout).toContain('  - expired key: ');
    const j = await runCli([
      'verify',
      SIGNED,
      '--kbs',
      kbs,
      '--rootfs',
      rootfs,
      '--digest',
      SIGNED_DIGEST,
      '--mode',
      'both',
      '--json',
    ]);
    const report = JSON.parse(j.stdout) as {
      allowed: boolean;
      decisions: Array<{ side: string; allowed: boolean; scope: string }>;
      divergences: Array<{ rule: string }>;
    };
    expect(report.allowed).toBe(true);
    expect(report.decisions.map((d) => [d.side, d.allowed])).toEqual([
      ['guest', true],
      ['host', false],
    ]);
    expect(report.divergences.map((d) => d.rule)).toEqual(['expired key']);
  });

  it(':other_signed is DENIED with the guest message and its cause', async () => {
    const r = await runCli([
      'verify',
      'quay.io/kata-containers/confidential-containers:other_signed',
      '--kbs',
      kbs,
      '--rootfs',
      rootfs,
      '--digest',
      OTHER_SIGNED_DIGEST,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('message: Image policy rejected: Denied by policy: rejected by `signedBy` rule');
    expect(r.stdout).toContain(
      'caused by: The signatures do not satisfied! Reject reason: [signature verify failed! There is no pubkey can verify the signature!]',
    );
  });

  it('--manifest FILE with --policy and --sigstore-config loose files', async () => {
    const dir = path.join(work, 'loose');
    const manifest = path.join(CI_FIXTURES, 'dir-img-valid', 'manifest.json');
    const digestHex = '20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
    await writeTree(dir, {
      'policy.json': JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: { 'docker.io/testing/manifest': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k.gpg' }] },
        },
      }),
      'registries.yaml': 'default-docker:\n  sigstore: file:///s\n',
      'root/k.gpg': await fs.readFile(path.join(CI_FIXTURES, 'public-key.gpg')),
      [`root/s/testing/manifest@sha256=${digestHex}/signature-1`]: await fs.readFile(
        path.join(CI_FIXTURES, 'dir-img-valid', 'signature-1'),
      ),
    });
    const args = [
      'verify',
      'testing/manifest:latest',
      '--policy',
      path.join(dir, 'policy.json'),
      '--sigstore-config',
      path.join(dir, 'registries.yaml'),
      '--rootfs',
      path.join(dir, 'root'),
      '--manifest',
      manifest,
    ];
    const host = await runCli([...args, '--mode', 'containers-image']);
    expect(host.code).toBe(0);
    const guest = await runCli(args);
    expect(guest.code).toBe(1);
    expect(guest.stdout).toContain('Reject reason: [Match reference failed.]');
  });

  it('bad input exits 2 with one line: no digest source, bad digest, missing repository, unknown mode', async () => {
    const none = await runCli(['verify', SIGNED, '--kbs', kbs]);
    expect([none.code, none.stderr.trim()]).toEqual([
      2,
      'kbs-bundler: give exactly one of --manifest FILE, --digest sha256:… or --fetch',
    ]);
    const bad = await runCli(['verify', SIGNED, '--kbs', kbs, '--digest', 'sha256:xyz']);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      'kbs-bundler: --digest: "sha256:xyz": invalid checksum digest length',
    ]);
    const missing = await runCli(['verify', SIGNED, '--kbs', path.join(work, 'nope'), '--digest', SIGNED_DIGEST]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('KBS repository not found');
    const mode = await runCli(['verify', SIGNED, '--kbs', kbs, '--digest', SIGNED_DIGEST, '--mode', 'podman']);
    expect([mode.code, mode.stderr.trim()]).toEqual([
      2,
      'kbs-bundler: --mode: must be one of image-rs, containers-image, both',
    ]);
  });
});

describe('resource names', () => {
  it('--kbs-repository/--kbs-tag pick other resources; a repository without the policy is bad input', async () => {
    const other = path.join(work, 'kbs-other');
    for (const type of ['security-policy', 'sigstore-config', 'gpg-public-key']) {
      await writeTree(other, { [`acme/${type}/prod`]: await fs.readFile(path.join(kbs, 'default', type, 'test')) });
    }
    // The policy's keyPath still names kbs:///default/gpg-public-key/test: resolved in the same repository.
    await writeTree(other, {
      'default/gpg-public-key/test': await fs.readFile(path.join(kbs, 'default/gpg-public-key/test')),
    });
    const ok = await runCli([
      'verify',
      SIGNED,
      '--kbs',
      other,
      '--kbs-repository',
      'acme',
      '--kbs-tag',
      'prod',
      '--rootfs',
      rootfs,
      '--digest',
      SIGNED_DIGEST,
    ]);
    expect(ok.code).toBe(0);
    const missing = await runCli(['verify', SIGNED, '--kbs', other, '--rootfs', rootfs, '--digest', SIGNED_DIGEST]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(
      `kbs-bundler: ${other}: has no default/security-policy/test (and no --policy given): a guest told to fetch it fails every pull, a guest with no policy configured checks nothing`,
    );
  });
});

describe('help', () => {
  it('verify --help and lint --help list their options, exit 0', async () => {
    const v = await runCli(['verify', '--help']);
    expect(v.code).toBe(0);
    for (const flag of [
      '--kbs',
      '--rootfs',
      '--manifest',
      '--digest',
      '--fetch',
      '--mode',
      '--kbs-repository',
      '--kbs-tag',
      '--policy',
      '--sigstore-config',
      '--platform',
      '--ca-file',
      '--insecure',
      '--json',
    ]) {
      expect(v.stdout).toContain(flag);
    }
    const l = await runCli(['lint', '--help']);
    expect(l.code).toBe(0);
    expect(l.stdout).toContain('--config');
  });
});

describe('kbs-bundler lint', () => {
  it("reports the expired key of image-rs's repository with its fix, exit 1", async () => {
    const r = await runCli(['lint', '--kbs', kbs, '--rootfs', rootfs]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'L_KEY_EXPIRED kbs:///default/security-policy/test transports.docker["quay.io/kata-containers/confidential-containers"][0]',
    );
    expect(r.stdout).toContain(
      'fix:     extend it (gpg --quick-set-expire 67B24AACC459679E0283D7EE58F6ED07EEA6B429 2y)',
    );
    expect(r.stdout).toMatch(
      /L_SIGNATURE_DIVERGES .*\n {2}problem: signature \/etc\/containers\/quay_verification\/signatures\/kata-containers\/confidential-containers@sha256=febcf61c.*\/signature-1 verifies in the guest but the host refuses it: Signature by key 67B24AACC459679E0283D7EE58F6ED07EEA6B429 is not accepted/,
    );
    expect(r.stdout.startsWith('2 findings:')).toBe(true);
  });

  it('a clean repository gives no findings, exit 0', async () => {
    const dir = path.join(work, 'clean');
    await writeTree(dir, {
      'default/security-policy/test': JSON.stringify({
        default: [{ type: 'insecureAcceptAnything' }],
        transports: {
          docker: {
            'registry.example.com/ns': [
              {
                type: 'signedBy',
                keyType: 'GPGKeys',
                keyData: (await fs.readFile(path.join(CI_FIXTURES, 'public-key.gpg'))).toString('base64'),
              },
            ],
          },
        },
      }),
      'default/sigstore-config/test': 'default-docker:\n  sigstore: file:///var/lib/containers/sigstore\n',
    });
    const r = await runCli(['lint', '--kbs', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ guestRelease: 'v0.21.0', findings: [] });
  });
});
