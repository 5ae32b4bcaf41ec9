import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRootfs } from '../../src/stage/stage.js';
import { unstageRootfs } from '../../src/stage/unstage.js';
import { RECORD_PATH } from '../../src/stage/record.js';
import { makeGuestTree, tempDir } from '../rootfs/images.js';
import { makeCaCert, makeInput, makeKey, makeStore, REGISTRY, type TestKey } from './fixtures.js';
import { snapshot } from './snapshot.js';

let work: string;
let key: TestKey;
let store: string;
let digests: string[];
let caPem: string;

beforeAll(async () => {
  work = await tempDir('kbs-stage-');
  key = await makeKey('signer');
  store = path.join(work, 'store');
  digests = await makeStore(store, key, [
    { reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' },
    { reference: `${REGISTRY}/team/db:v2`, repo: 'team/db' },
    { reference: 'docker.io/library/busybox:latest', repo: 'library/busybox' },
  ]);
  caPem = await makeCaCert(path.join(work, 'ca'), 'Test Registry CA');
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function freshRootfs(name: string): Promise<string> {
  const root = path.join(work, name);
  await makeGuestTree(root);
  return root;
}

describe('stage into a directory rootfs', () => {
  it('writes signatures, keyring, CA block and hosts block; twice = same bytes; unstage restores every byte', async () => {
    const root = await freshRootfs('dir1');
    const before = await snapshot(root);
    const input = await makeInput(key, { caPem, address: '192.0.2.10', keyPath: '/etc/containers/keys/signer.gpg' });
    const first = await stageRootfs({ rootfs: root, input, signatureStores: [store] });
    expect(first.blocked).toBe(false);
    expect(first.plan.warnings).toEqual([]);
    expect(first.applied).toBe(true);

    const sigPath = path.join(root, `var/lib/containers/sigstore/team/app@sha256=${digests[0]!.slice(7)}/signature-1`);
    expect(await fs.readFile(sigPath)).toEqual(
      await fs.readFile(path.join(store, `team/app@sha256=${digests[0]!.slice(7)}/signature-1`)),
    );
    expect((await fs.stat(sigPath)).mode & 0o7777).toBe(0o644);
    expect((await fs.stat(path.dirname(sigPath))).mode & 0o7777).toBe(0o755);
    // busybox is insecureAcceptAnything: reported, not copied
    await expect(fs.access(path.join(root, 'var/lib/containers/sigstore/library'))).rejects.toThrow();
    expect(first.plan.skippedSignatures).toEqual([
      expect.objectContaining({
        code: 'uncovered',
        image: expect.stringContaining('docker.io/library/busybox@') as unknown,
      }),
    ]);
    expect(Buffer.from(await fs.readFile(path.join(root, 'etc/containers/keys/signer.gpg')))).toEqual(
      Buffer.from(key.publicBytes),
    );

    const bundle = await fs.readFile(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    expect(bundle.startsWith('# host bundle\n# BEGIN kbs-bundler registry CA certificates')).toBe(true);
    expect(bundle).toContain(caPem.trim());
    expect(bundle.trimEnd().endsWith('# END kbs-bundler registry CA certificates')).toBe(true);
    const hosts = await fs.readFile(path.join(root, 'etc/hosts'), 'utf8');
    expect(hosts).toBe(
      '127.0.0.1 localhost\n# BEGIN kbs-bundler registry addresses (managed by `kbs-bundler stage`; `kbs-bundler unstage` removes it)\n192.0.2.10 registry.example.com\n# END kbs-bundler registry addresses\n',
    );
    const record = JSON.parse(await fs.readFile(path.join(root, RECORD_PATH.slice(1)), 'utf8')) as {
      files: unknown[];
      blocks: Array<{ path: string }>;
    };
    expect(record.files).toHaveLength(3);
    expect(record.blocks.map((b) => b.path)).toEqual(['/etc/hosts', '/etc/ssl/certs/ca-certificates.crt']);

    const afterFirst = await snapshot(root);
    const second = await stageRootfs({ rootfs: root, input, signatureStores: [store] });
    expect(second.plan.changes).toEqual([]);
    expect(second.applied).toBe(false);
    expect(second.plan.counts).toMatchObject({ create: 0, append: 0, replace: 0 });
    expect(await snapshot(root)).toEqual(afterFirst);

    const un = await unstageRootfs({ rootfs: root });
    expect(un.applied).toBe(true);
    expect(un.plan.warnings).toEqual([]);
    expect(await snapshot(root)).toEqual(before);
  });

  it('replaces its blocks on re-run (no duplicates) and the CA once even when two registries share it', async () => {
    const root = await freshRootfs('dir2');
    const input = await makeInput(key, { caPem, address: '192.0.2.10' });
    await stageRootfs({ rootfs: root, input, signatureStores: [store] });
    const input2 = {
      ...input,
      registries: [
        { registry: REGISTRY, caPem, address: '192.0.2.99' },
        { registry: 'other.example.com', caPem, address: '192.0.2.7' },
      ],
    };
    const again = await stageRootfs({ rootfs: root, input: input2, signatureStores: [store] });
    expect(
      again.plan.entries
        .filter((e) => e.action === 'replace')
        .map((e) => e.realPath)
        .sort(),
    ).toEqual(['/etc/hosts', '/etc/ssl/certs/ca-certificates.crt', RECORD_PATH]); // the record keeps each block's digest
    const hosts = await fs.readFile(path.join(root, 'etc/hosts'), 'utf8');
    expect(hosts.match(/BEGIN kbs-bundler/g)).toHaveLength(1);
    expect(hosts).toContain('192.0.2.7 other.example.com\n192.0.2.99 registry.example.com\n');
    expect(hosts).not.toContain('192.0.2.10');
    const bundle = await fs.readFile(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    expect(bundle.split('BEGIN CERTIFICATE').length - 1).toBe(1);
    expect(bundle).toContain(`# other.example.com, ${REGISTRY}: CN=Test Registry CA\n-----BEGIN CERTIFICATE-----`);
    // a cert already in the distro bundle is not added again
    const root3 = await freshRootfs('dir3');
    await fs.appendFile(path.join(root3, 'etc/ssl/certs/ca-certificates.crt'), caPem);
    const r3 = await stageRootfs({ rootfs: root3, input, signatureStores: [] });
    expect(r3.plan.entries.find((e) => e.what === 'ca-bundle')).toMatchObject({ action: 'skip' });
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const root = await freshRootfs('dry');
    const before = await snapshot(root);
    const input = await makeInput(key, { caPem, address: '192.0.2.10', keyPath: '/etc/containers/keys/signer.gpg' });
    const r = await stageRootfs({ rootfs: root, input, signatureStores: [store], dryRun: true });
    expect(r.applied).toBe(false);
    const actions = Object.fromEntries(
      r.plan.entries.filter((e) => e.what !== 'directory').map((e) => [e.realPath, e.action]),
    );
    expect(actions).toMatchObject({
      '/etc/ssl/certs/ca-certificates.crt': 'append',
      '/etc/hosts': 'append',
      '/etc/containers/keys/signer.gpg': 'create',
      [RECORD_PATH]: 'create',
    });
    expect(r.plan.counts.create).toBe(4);
    expect(await snapshot(root)).toEqual(before);
  });
});

describe('keyrings across runs', () => {
  it('a keyring replaced on a later run is still removed by unstage (it did not exist before the first run)', async () => {
    const root = await freshRootfs('key-runs');
    const before = await snapshot(root);
    const input = await makeInput(key, { keyPath: '/etc/containers/keys/signer.gpg' });
    await stageRootfs({ rootfs: root, input, signatureStores: [] });
    const other = await makeKey('second');
    const input2 = {
      ...input,
      guestKeyFiles: [{ guestPath: '/etc/containers/keys/signer.gpg', bytes: other.publicBytes, sourceFile: 'k2' }],
    };
    const r = await stageRootfs({ rootfs: root, input: input2, signatureStores: [] });
    expect(r.plan.entries.find((e) => e.what === 'keyring')?.action).toBe('replace');
    await unstageRootfs({ rootfs: root });
    expect(await snapshot(root)).toEqual(before);
  });

  it('a keyring that replaced an existing guest file is restored by unstage', async () => {
    const root = await freshRootfs('key-orig');
    await fs.mkdir(path.join(root, 'etc/containers/keys'), { recursive: true });
    await fs.writeFile(path.join(root, 'etc/containers/keys/signer.gpg'), 'old key', { mode: 0o600 });
    await fs.chmod(path.join(root, 'etc/containers/keys/signer.gpg'), 0o600);
    const before = await snapshot(root);
    const input = await makeInput(key, { keyPath: '/etc/containers/keys/signer.gpg' });
    const r = await stageRootfs({ rootfs: root, input, signatureStores: [] });
    expect(r.plan.entries.find((e) => e.what === 'keyring')?.action).toBe('replace');
    expect((await fs.stat(path.join(root, 'etc/containers/keys/signer.gpg'))).mode & 0o777).toBe(0o644);
    await unstageRootfs({ rootfs: root });
    expect(await snapshot(root)).toEqual(before);
  });
});

describe('signatures already in the guest', () => {
  it('a blob already there under any name is skipped; a new one takes the first free signature-N', async () => {
    const root = await freshRootfs('existing-sigs');
    const dir = path.join(root, `var/lib/containers/sigstore/team/app@sha256=${digests[0]!.slice(7)}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'signature-1'), "someone else's signature");
    const ours = await fs.readFile(path.join(store, `team/db@sha256=${digests[1]!.slice(7)}/signature-1`));
    const dbDir = path.join(root, `var/lib/containers/sigstore/team/db@sha256=${digests[1]!.slice(7)}`);
    await fs.mkdir(dbDir, { recursive: true });
    await fs.writeFile(path.join(dbDir, 'copied-by-hand'), ours);
    const input = await makeInput(key);
    // the same store twice: identical blobs are staged once
    const r = await stageRootfs({ rootfs: root, input, signatureStores: [store, store] });
    const sigEntries = r.plan.entries
      .filter((e) => e.what === 'signature')
      .map((e) => [e.realPath.split('/').slice(-2).join('/'), e.action]);
    expect(sigEntries).toEqual([
      [`app@sha256=${digests[0]!.slice(7)}/signature-2`, 'create'],
      [`db@sha256=${digests[1]!.slice(7)}/copied-by-hand`, 'skip'],
    ]);
    expect(await fs.readFile(path.join(dir, 'signature-1'), 'utf8')).toBe("someone else's signature");
    expect(await fs.readdir(dbDir)).toEqual(['copied-by-hand']);
    // unstage removes only what stage wrote
    await unstageRootfs({ rootfs: root });
    expect(await fs.readdir(dir)).toEqual(['signature-1']);
    expect(await fs.readdir(dbDir)).toEqual(['copied-by-hand']);
  });
});
