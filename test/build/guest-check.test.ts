/**
 * What build writes, read back the way the guest reads it: `kbs-bundler verify` (image-rs mode) on
 * the example's repository in both layouts and as a tarball, with each way of delivering the key.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { copyExample } from './tree.js';

const IMAGE = 'registry.example.com:5000/demo/app:1.0';
let example: string;
let work: string;
let rootfs: string;

beforeAll(async () => {
  example = await copyExample();
  work = path.dirname(example);
  rootfs = path.join(work, 'rootfs');
  await fs.mkdir(path.join(rootfs, 'var/lib/containers'), { recursive: true });
  await fs.cp(path.join(example, 'store'), path.join(rootfs, 'var/lib/containers/sigstore'), { recursive: true });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function verify(kbs: string, manifest = path.join(example, 'manifest.json')) {
  return runCli(['verify', IMAGE, '--kbs', kbs, '--rootfs', rootfs, '--manifest', manifest, '--mode', 'image-rs'], {
    cwd: work,
  });
}

describe('the guest accepts what build writes', () => {
  it('nested, flat and tarball forms of the example allow the signed manifest and deny a modified one', async () => {
    const built = await runCli(
      ['build', '-c', 'example/bundle.yaml', '-o', 'flat', '--layout', 'flat', '--tar', 'nested.tar'],
      { cwd: work },
    );
    expect(built.code).toBe(0);
    for (const kbs of ['flat', 'nested.tar']) {
      const r = await verify(kbs);
      expect(r.stdout).toContain('ALLOWED');
      expect(r.code).toBe(0);
    }
    const modified = path.join(work, 'modified.json');
    await fs.writeFile(
      modified,
      (await fs.readFile(path.join(example, 'manifest.json'), 'utf8')).replace('1048576', '1048577'),
    );
    const denied = await verify('flat', modified);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('DENIED');
  });

  it('resolves a kbs:/// keyPath to the key resource build wrote', async () => {
    const text = (await fs.readFile(path.join(example, 'bundle.yaml'), 'utf8')).replace(
      '- example-public-key.asc   # embedded as base64 keyData (no keyPath given)',
      '- example-public-key.asc\n        keyPath: kbs:///default/gpg-public-key/test',
    );
    expect(text).toContain('keyPath: kbs:///');
    await fs.writeFile(path.join(example, 'kbs-key.yaml'), text);
    expect((await runCli(['build', '-c', 'example/kbs-key.yaml', '-o', 'kbs-key'], { cwd: work })).code).toBe(0);
    const r = await verify('kbs-key');
    expect(r.stdout).toContain('ALLOWED');
    expect(r.code).toBe(0);
  });

  it('uses a guest-path keyPath once the key file is in the rootfs', async () => {
    const text = (await fs.readFile(path.join(example, 'bundle.yaml'), 'utf8')).replace(
      '- example-public-key.asc   # embedded as base64 keyData (no keyPath given)',
      '- example-public-key.asc\n        keyPath: /etc/containers/keys/example.gpg',
    );
    await fs.writeFile(path.join(example, 'guest-key.yaml'), text);
    const built = await runCli(['build', '-c', 'example/guest-key.yaml', '-o', 'guest-key', '--json'], { cwd: work });
    expect(built.code).toBe(0);
    expect((JSON.parse(built.stdout) as { guestKeyFiles: unknown }).guestKeyFiles).toEqual([
      { guestPath: '/etc/containers/keys/example.gpg', size: 1367 },
    ]);
    expect(built.stderr).toBe('');
    const missing = await verify('guest-key');
    expect(missing.code).toBe(1);
    await fs.mkdir(path.join(rootfs, 'etc/containers/keys'), { recursive: true });
    await fs.copyFile(
      path.join(example, 'example-public-key.asc'),
      path.join(rootfs, 'etc/containers/keys/example.gpg'),
    );
    const r = await verify('guest-key');
    expect(r.stdout).toContain('ALLOWED');
    expect(r.code).toBe(0);
  });
});

describe('build warnings', () => {
  it('warns (exit 0) about a keyPath under /run, which the agent hides behind a tmpfs', async () => {
    const text = (await fs.readFile(path.join(example, 'bundle.yaml'), 'utf8')).replace(
      '- example-public-key.asc   # embedded as base64 keyData (no keyPath given)',
      '- example-public-key.asc\n        keyPath: /run/image-security/simple_signing/pubkey.gpg',
    );
    await fs.writeFile(path.join(example, 'run-key.yaml'), text);
    const r = await runCli(['build', '-c', 'example/run-key.yaml', '--dry-run'], { cwd: work });
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe(
      'warning: keyPath /run/image-security/simple_signing/pubkey.gpg is under /run: the kata agent mounts a tmpfs on /run at boot, so files staged there are hidden at run time; use a path such as /etc/containers/...',
    );
  });
});
