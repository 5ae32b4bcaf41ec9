/**
 * The example bundle end to end: `build` writes the KBS repository, `stage` puts the signatures into
 * a rootfs, `verify` allows the example image from that rootfs as a directory, an ext4 image (read
 * through debugfs) and a gzip'd initrd; `lint` finds nothing once staged and the missing signatures before.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from './fixtures.js';

const BUNDLE = path.join(TEMPLATES, 'example/bundle.yaml');
const MANIFEST = path.join(TEMPLATES, 'example/manifest.json');
const IMAGE = 'registry.example.com:5000/demo/app:1.0';
let work: string;
let kbs: string;
let root: string;
let empty: string;

beforeAll(async () => {
  work = await tempDir('e2e');
  kbs = path.join(work, 'kbs');
  root = path.join(work, 'root');
  empty = path.join(work, 'empty');
  await fs.mkdir(root);
  await fs.mkdir(empty);
  const build = await runCli(['build', '-c', BUNDLE, '-o', kbs]);
  if (build.code !== 0) throw new Error(build.stderr);
  // --force: the test rootfs has no CA bundle to append the registry CA to.
  const stage = await runCli(['stage', '-c', BUNDLE, '--rootfs', root, '--force']);
  if (stage.code !== 0) throw new Error(stage.stderr);
}, 120_000);
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('build → stage → verify', () => {
  it('lint finds the missing signatures before staging, nothing after', async () => {
    const before = await runCli(['lint', '-c', BUNDLE, '--rootfs', empty, '--json']);
    expect(before.code).toBe(1);
    expect((JSON.parse(before.stdout) as { findings: Array<{ code: string }> }).findings.map((f) => f.code)).toEqual([
      'L_NO_SIGNATURES',
    ]);
    const after = await runCli(['lint', '--kbs', kbs, '--rootfs', root]);
    expect([after.code, after.stdout.trim()]).toEqual([
      0,
      'No findings: the guest and the host read this configuration the same way.\n(linted for image-rs of guest-components v0.21.0)',
    ]);
  });

  it('allowed from a directory rootfs, on both sides', async () => {
    const r = await runCli([
      'verify',
      IMAGE,
      '--kbs',
      kbs,
      '--rootfs',
      root,
      '--manifest',
      MANIFEST,
      '--mode',
      'both',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(
      (JSON.parse(r.stdout) as { decisions: Array<{ allowed: boolean }> }).decisions.map((d) => d.allowed),
    ).toEqual([true, true]);
  });

  it('allowed from an ext4 image and from an initrd of the same tree; denied from an empty rootfs', async () => {
    const img = path.join(work, 'rootfs.img');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, img, '16M']);
    const initrd = path.join(work, 'initrd.img');
    execFileSync('sh', ['-c', `cd "${root}" && find . | cpio -H newc -o --quiet | gzip -9 > "${initrd}"`]);
    for (const rootfs of [img, initrd]) {
      const r = await runCli(['verify', IMAGE, '--kbs', kbs, '--rootfs', rootfs, '--manifest', MANIFEST]);
      expect([rootfs, r.code, r.stdout.split('\n')[0]]).toEqual([rootfs, 0, expect.stringMatching(/^ALLOWED /)]);
    }
    const denied = await runCli(['verify', IMAGE, '--kbs', kbs, '--rootfs', empty, '--manifest', MANIFEST]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('caused by: Read Sigstore Dir failed');
  });
});
