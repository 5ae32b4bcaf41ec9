import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRootfs } from '../../src/stage/stage.js';
import { unstageRootfs } from '../../src/stage/unstage.js';
import { RECORD_PATH } from '../../src/stage/record.js';
import {
  debugfsCatFile,
  debugfsStat,
  e2fsckClean,
  makeBareExt4,
  makeGuestTree,
  makeInitrd,
  makeMbrExt4,
  MIB,
  run,
  tempDir,
} from '../rootfs/images.js';
import { makeCaCert, makeInput, makeKey, makeStore, REGISTRY, type TestKey } from './fixtures.js';
import { snapshot } from './snapshot.js';
import type { StageInput } from '../../src/stage/types.js';

let work: string;
let tree: string;
let key: TestKey;
let store: string;
let digest: string;
let input: StageInput;
let sigGuestPath: string;
let sigBytes: Buffer;

const sha = async (f: string) =>
  createHash('sha256')
    .update(await fs.readFile(f))
    .digest('hex');

beforeAll(async () => {
  work = await tempDir('kbs-stage-img-');
  tree = path.join(work, 'tree');
  await makeGuestTree(tree);
  key = await makeKey('signer');
  store = path.join(work, 'store');
  [digest] = (await makeStore(store, key, [{ reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' }])) as [string];
  const caPem = await makeCaCert(path.join(work, 'ca'), 'Test Registry CA');
  input = await makeInput(key, { caPem, address: '192.0.2.10', keyPath: '/etc/containers/keys/signer.gpg' });
  sigGuestPath = `/var/lib/containers/sigstore/team/app@sha256=${digest.slice(7)}/signature-1`;
  sigBytes = await fs.readFile(path.join(store, `team/app@sha256=${digest.slice(7)}/signature-1`));
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function expectStagedImage(img: string, offset: number): Promise<void> {
  expect(await debugfsCatFile(img, offset, sigGuestPath)).toEqual(sigBytes);
  expect(await debugfsStat(img, offset, sigGuestPath)).toEqual({ type: 'regular', mode: 0o644, uid: 0, gid: 0 });
  expect(await debugfsStat(img, offset, path.dirname(sigGuestPath))).toEqual({
    type: 'directory',
    mode: 0o755,
    uid: 0,
    gid: 0,
  });
  expect(Buffer.from(await debugfsCatFile(img, offset, '/etc/containers/keys/signer.gpg'))).toEqual(
    Buffer.from(key.publicBytes),
  );
  expect((await debugfsCatFile(img, offset, '/etc/hosts')).toString()).toContain(
    '192.0.2.10 registry.example.com\n# END kbs-bundler',
  );
  expect((await debugfsCatFile(img, offset, '/etc/ssl/certs/ca-certificates.crt')).toString()).toContain(
    '-----BEGIN CERTIFICATE-----',
  );
  expect(
    (JSON.parse((await debugfsCatFile(img, offset, RECORD_PATH)).toString()) as { files: unknown[] }).files,
  ).toHaveLength(2);
  const fsck = await e2fsckClean(img, offset);
  expect(fsck.code, fsck.output).toBe(0);
}

describe.each([
  ['bare ext4', 0],
  ['MBR, filesystem at 3 MiB (DAX header)', 3 * MIB],
  ['MBR, filesystem at 1 MiB', 1 * MIB],
])('stage into a disk image: %s', (_name, offset) => {
  const make = async (img: string) =>
    offset === 0 ? makeBareExt4(tree, img) : makeMbrExt4(tree, img, offset).then(() => undefined);

  it('through a loop mount (root): read back with debugfs, e2fsck clean, re-run changes no byte, unstage restores the files', async () => {
    const img = path.join(work, `mount-${offset}.img`);
    await make(img);
    const pristine = await sha(img);
    const dry = await stageRootfs({ rootfs: img, input, signatureStores: [store], dryRun: true });
    expect(dry.plan.counts).toMatchObject({ create: 3, append: 2 });
    expect(await sha(img)).toBe(pristine); // a dry run mounts read-only (noload) or reads through debugfs: no byte changes
    const r = await stageRootfs({ rootfs: img, input, signatureStores: [store] });
    expect(r.method).toBe(`loop mount at offset ${offset}`);
    expect(r.applied).toBe(true);
    await expectStagedImage(img, offset);
    const staged = await sha(img);
    const again = await stageRootfs({ rootfs: img, input, signatureStores: [store] });
    expect(again.plan.changes).toEqual([]);
    expect(await sha(img)).toBe(staged);
    const un = await unstageRootfs({ rootfs: img });
    expect(un.applied).toBe(true);
    expect((await debugfsCatFile(img, offset, '/etc/hosts')).toString()).toBe('127.0.0.1 localhost\n');
    expect((await debugfsCatFile(img, offset, '/etc/ssl/certs/ca-certificates.crt')).toString()).toBe(
      '# host bundle\n',
    );
    expect((await run('debugfs', ['-R', 'ls -p /var/lib', `${img}?offset=${offset}`])).toString()).not.toMatch(
      /containers|kbs-bundler/,
    );
    expect((await e2fsckClean(img, offset)).code).toBe(0);
  });

  it('through debugfs (--no-mount): read back with a real mount', async () => {
    const img = path.join(work, `debugfs-${offset}.img`);
    await make(img);
    const size = (await fs.stat(img)).size;
    const r = await stageRootfs({ rootfs: img, input, signatureStores: [store], noMount: true });
    expect(r.method).toBe(`debugfs (no mount) at offset ${offset}`);
    expect(r.applied).toBe(true);
    expect((await fs.stat(img)).size).toBe(size);
    await expectStagedImage(img, offset);
    const mnt = path.join(work, `mnt-${offset}`);
    await fs.mkdir(mnt);
    await run('mount', ['-o', `loop,ro,offset=${offset}`, img, mnt]);
    try {
      const st = await fs.stat(path.join(mnt, sigGuestPath));
      expect(st.mode & 0o7777).toBe(0o644);
      expect(st.uid).toBe(0);
      expect(await fs.readFile(path.join(mnt, sigGuestPath))).toEqual(sigBytes);
    } finally {
      await run('umount', [mnt]);
    }
    const again = await stageRootfs({ rootfs: img, input, signatureStores: [store], noMount: true });
    expect(again.applied).toBe(false);
    const un = await unstageRootfs({ rootfs: img, noMount: true });
    expect(un.method).toBe(`debugfs (no mount) at offset ${offset}`);
    expect(un.applied).toBe(true);
    expect((await debugfsCatFile(img, offset, '/etc/hosts')).toString()).toBe('127.0.0.1 localhost\n');
    expect((await run('debugfs', ['-R', 'ls -p /var/lib', `${img}?offset=${offset}`])).toString()).not.toMatch(
      /containers|kbs-bundler/,
    );
    expect((await run('debugfs', ['-R', 'ls -p /etc', `${img}?offset=${offset}`])).toString()).not.toMatch(
      /\/containers\//,
    );
    expect((await e2fsckClean(img, offset)).code).toBe(0);
  });
});

describe('a dm-verity measured image', () => {
  let img: string;
  let parts: { p1: { offset: number; size: number }; p2?: { offset: number; size: number } };
  const verify = async (rootHash: string, salt: string) => {
    const loop = (
      await run('losetup', [
        '-r',
        '-f',
        '--show',
        '-o',
        String(parts.p1.offset),
        '--sizelimit',
        String(parts.p1.size),
        img,
      ])
    )
      .toString()
      .trim();
    try {
      return await run('veritysetup', [
        'verify',
        '--no-superblock',
        `--hash-offset=${parts.p2!.offset}`,
        `--salt=${salt}`,
        loop,
        img,
        rootHash,
      ]).then(
        () => true,
        () => false,
      );
    } finally {
      await run('losetup', ['-d', loop]);
    }
  };

  beforeAll(async () => {
    img = path.join(work, 'measured.img');
    parts = await makeMbrExt4(tree, img, 1 * MIB, { secondMiB: 1 });
    const loop = (
      await run('losetup', [
        '-r',
        '-f',
        '--show',
        '-o',
        String(parts.p1.offset),
        '--sizelimit',
        String(parts.p1.size),
        img,
      ])
    )
      .toString()
      .trim();
    try {
      await run('veritysetup', ['format', '--no-superblock', `--hash-offset=${parts.p2!.offset}`, loop, img]);
    } finally {
      await run('losetup', ['-d', loop]);
    }
  }, 30_000);

  it('is refused by default, with the reason, and left untouched', async () => {
    const before = await sha(img);
    await expect(stageRootfs({ rootfs: img, input, signatureStores: [store] })).rejects.toMatchObject({
      code: 'E_ROOTFS_VERITY',
      message: expect.stringContaining('--reverity') as unknown,
    });
    const dry = await stageRootfs({ rootfs: img, input, signatureStores: [store], dryRun: true });
    expect(dry.notes.join(' ')).toContain('--reverity');
    expect(await sha(img)).toBe(before);
  });

  it('with --reverity: staged, hash tree re-made (veritysetup verify passes), kernel_verity_params printed', async () => {
    const r = await stageRootfs({ rootfs: img, input, signatureStores: [store], reverity: true });
    expect(r.applied).toBe(true);
    const v = r.verity!;
    expect(v.kernelVerityParams).toBe(
      `root_hash=${v.rootHash},salt=${v.salt},data_blocks=${parts.p1.size / 4096},data_block_size=4096,hash_block_size=4096`,
    );
    expect(await verify(v.rootHash, v.salt)).toBe(true);
    expect(await verify('0'.repeat(64), v.salt)).toBe(false);
    await expectStagedImage(img, parts.p1.offset);
  });
});

describe('stage into an initrd', () => {
  it('appends one gzip newc archive; the original bytes stay in front; cpio reads it all; unstage cuts it back', async () => {
    const initrd = path.join(work, 'initrd.img');
    await makeInitrd(tree, initrd);
    const original = await fs.readFile(initrd);
    const r = await stageRootfs({ rootfs: initrd, input, signatureStores: [store] });
    expect(r.kind).toBe('initrd');
    const staged = await fs.readFile(initrd);
    expect(staged.subarray(0, original.length)).toEqual(original);
    expect(staged.length).toBeGreaterThan(original.length);
    // the whole initrd as the kernel sees it: zcat decompresses every member in turn
    // gzip -dc decompresses every member; cpio stops at each trailer, so run it once per archive
    const whole = path.join(work, 'initrd.cpio');
    await fs.writeFile(whole, await run('gzip', ['-dc', initrd]));
    const list = (await run('sh', ['-c', '(cpio -t --quiet; cpio -t --quiet) < "$1"', 'sh', whole]))
      .toString()
      .split('\n');
    expect(list).toContain(sigGuestPath.slice(1));
    expect(list).toContain('etc/containers/keys/signer.gpg');
    expect(list).toContain('var/lib/containers/sigstore');
    // extract both archives in order (later entries win) and look at the result
    const out = path.join(work, 'initrd-out');
    await fs.mkdir(out);
    await run('sh', ['-c', '(cpio -idu --quiet; cpio -idu --quiet) < "$1"', 'sh', whole], { cwd: out });
    expect(await fs.readFile(path.join(out, sigGuestPath))).toEqual(sigBytes);
    expect((await fs.stat(path.join(out, sigGuestPath))).mode & 0o7777).toBe(0o644);
    expect(await fs.readFile(path.join(out, 'etc/hosts'), 'utf8')).toContain('192.0.2.10 registry.example.com');
    // again: nothing to add
    const again = await stageRootfs({ rootfs: initrd, input, signatureStores: [store] });
    expect(again.plan.changes).toEqual([]);
    expect(await fs.readFile(initrd)).toEqual(staged);
    const un = await unstageRootfs({ rootfs: initrd });
    expect(un.applied).toBe(true);
    expect(await fs.readFile(initrd)).toEqual(original);
  });
});

describe('--tar', () => {
  it('writes an overlay tarball and leaves the rootfs alone; extracted onto a copy it equals staging directly', async () => {
    const a = path.join(work, 'tar-a');
    const b = path.join(work, 'tar-b');
    await makeGuestTree(a);
    await makeGuestTree(b);
    const before = await snapshot(a);
    const tarFile = path.join(work, 'overlay.tar');
    await stageRootfs({ rootfs: a, input, signatureStores: [store], tar: tarFile });
    expect(await snapshot(a)).toEqual(before);
    const listing = (await run('tar', ['-tvf', tarFile])).toString();
    expect(listing).toContain(`root/root`);
    expect(listing).toMatch(/-rw-r--r-- root\/root .* var\/lib\/containers\/sigstore\/team\/app@sha256=/);
    await run('tar', ['-xpf', tarFile, '-C', a]);
    await stageRootfs({ rootfs: b, input, signatureStores: [store] });
    const sa = await snapshot(a);
    const sb = await snapshot(b);
    // directory mtimes are not compared; modes, owners and bytes are
    expect(sa).toEqual(sb);
  });
});

describe('an erofs image', () => {
  const readBack = async (img: string, offset: number) => {
    const out = await fs.mkdtemp(path.join(work, 'erofs-check-')); // under work: removed with it
    let fsImage = img;
    if (offset) {
      fsImage = path.join(out, 'fs');
      await run('dd', [`if=${img}`, `of=${fsImage}`, 'bs=1M', `skip=${offset / MIB}`, 'status=none']);
    }
    await run('fsck.erofs', [`--extract=${path.join(out, 't')}`, fsImage]);
    return path.join(out, 't');
  };

  it('is refused without --rebuild (with the way out); with --rebuild it is extracted, staged and made anew', async () => {
    const img = path.join(work, 'bare.erofs');
    await run('mkfs.erofs', ['--quiet', '-zlz4hc', '-Enoinline_data', img, tree]);
    const before = await sha(img);
    await expect(stageRootfs({ rootfs: img, input, signatureStores: [store] })).rejects.toMatchObject({
      code: 'E_ROOTFS_EROFS',
      message: expect.stringContaining('--rebuild') as unknown,
    });
    expect(await sha(img)).toBe(before);
    const r = await stageRootfs({ rootfs: img, input, signatureStores: [store], rebuild: true });
    expect(r.kind).toBe('erofs-image');
    expect(r.applied).toBe(true);
    const t = await readBack(img, 0);
    expect(await fs.readFile(path.join(t, sigGuestPath))).toEqual(sigBytes);
    expect((await fs.stat(path.join(t, sigGuestPath))).mode & 0o7777).toBe(0o644);
    expect(await fs.readFile(path.join(t, 'etc/hosts'), 'utf8')).toContain('192.0.2.10 registry.example.com');
    expect(await fs.readlink(path.join(t, 'usr/lib/ssl/cert.pem'))).toBe('../../../etc/ssl/certs/ca-certificates.crt');
    const again = await stageRootfs({ rootfs: img, input, signatureStores: [store], rebuild: true });
    expect(again.plan.changes).toEqual([]);
  });

  it('in partition 1 of an MBR disk (kata SKIP_DAX_HEADER layout): the partition is rewritten, the table kept', async () => {
    const img = path.join(work, 'mbr-erofs.img');
    const fsFile = path.join(work, 'p1.erofs');
    await run('mkfs.erofs', ['--quiet', '-zlz4hc', '-Enoinline_data', fsFile, tree]);
    await fs.writeFile(img, '');
    await fs.truncate(img, 9 * MIB);
    await run('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', img], {
      input: `label: dos\nstart=2048, size=${8 * 2048}, type=83\n`,
    });
    await run('dd', [`if=${fsFile}`, `of=${img}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
    const mbr = (await fs.readFile(img)).subarray(0, 512);
    const r = await stageRootfs({ rootfs: img, input, signatureStores: [store], rebuild: true });
    expect(r.method).toContain('partition 1 at offset 1048576');
    expect((await fs.readFile(img)).subarray(0, 512)).toEqual(mbr);
    expect((await fs.stat(img)).size).toBe(9 * MIB);
    const t = await readBack(img, MIB);
    expect(await fs.readFile(path.join(t, sigGuestPath))).toEqual(sigBytes);
  });
});
