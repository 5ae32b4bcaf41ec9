import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectRootfs } from '../../src/rootfs/detect.js';
import { openRootfsReader, type RootfsReader } from '../../src/rootfs/reader.js';
import { makeBareExt4, makeGuestTree, makeInitrd, makeMbrExt4, MIB, run, tempDir } from './images.js';

let work: string;
let tree: string;
const images: Record<string, string> = {};

beforeAll(async () => {
  work = await tempDir();
  tree = path.join(work, 'tree');
  await makeGuestTree(tree);
  images.bare = path.join(work, 'bare.img');
  await makeBareExt4(tree, images.bare);
  images.dax = path.join(work, 'dax.img');
  await makeMbrExt4(tree, images.dax, 3 * MIB);
  images.nodax = path.join(work, 'nodax.img');
  await makeMbrExt4(tree, images.nodax, 1 * MIB);
  images.initrd = path.join(work, 'initrd.img');
  await makeInitrd(tree, images.initrd);
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('detectRootfs', () => {
  it('tells each kind from its bytes, not its name', async () => {
    const renamed = path.join(work, 'rootfs.initrd');
    await fs.copyFile(images.dax as string, renamed);
    expect(await detectRootfs(renamed)).toMatchObject({ kind: 'disk-image', fs: 'ext4', offset: 3 * MIB });
    expect(await detectRootfs(images.bare as string)).toMatchObject({ kind: 'disk-image', fs: 'ext4', offset: 0 });
    expect(await detectRootfs(images.nodax as string)).toMatchObject({
      kind: 'disk-image',
      fs: 'ext4',
      offset: 1 * MIB,
    });
    expect(await detectRootfs(images.initrd as string)).toMatchObject({ kind: 'initrd', compressed: true });
    expect(await detectRootfs(tree)).toMatchObject({ kind: 'directory' });
  });

  it('finds the dm-verity hash partition of a measured image', async () => {
    const img = path.join(work, 'measured.img');
    await makeMbrExt4(tree, img, 1 * MIB, { secondMiB: 1 });
    const layout = await detectRootfs(img);
    expect(layout).toMatchObject({
      kind: 'disk-image',
      offset: MIB,
      verityHash: { index: 2, offset: 17 * MIB, size: MIB },
    });
  });

  it('refuses a GPT disk (kata images use MBR) with a clear message', async () => {
    const img = path.join(work, 'gpt.img');
    await fs.writeFile(img, '');
    await fs.truncate(img, 8 * MIB);
    await run('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', img], {
      input: 'label: gpt\nstart=2048, size=8192\n',
    });
    await expect(detectRootfs(img)).rejects.toMatchObject({
      code: 'E_ROOTFS_GPT',
      message: expect.stringContaining('GPT is not supported') as unknown,
    });
  });

  it('recognises erofs and refuses unknown bytes with a clear message', async () => {
    const img = path.join(work, 'e.erofs');
    await run('mkfs.erofs', ['--quiet', img, tree]);
    expect(await detectRootfs(img)).toMatchObject({ kind: 'disk-image', fs: 'erofs' });
    const reader = await openRootfsReader(img);
    expect(reader.kind).toBe('erofs-image');
    expect(Buffer.from((await reader.readFile('/chain1/certs/ca-certificates.crt')) ?? []).toString()).toBe(
      '# host bundle\n',
    );
    await reader.close();
    const junk = path.join(work, 'junk');
    await fs.writeFile(junk, 'hello');
    await expect(detectRootfs(junk)).rejects.toMatchObject({
      code: 'E_ROOTFS_KIND',
      message: expect.stringContaining('junk: is not a directory') as unknown,
    });
  });
});

describe.each(['directory', 'bare', 'dax', 'nodax', 'initrd'])('openRootfsReader (%s)', (which) => {
  let reader: RootfsReader;
  beforeAll(async () => {
    reader = await openRootfsReader(which === 'directory' ? tree : (images[which] as string));
  });
  afterAll(async () => reader.close());

  it('reads files and lists directories', async () => {
    expect(reader.kind).toBe(which === 'directory' ? 'directory' : which === 'initrd' ? 'initrd' : 'ext4-image');
    expect(Buffer.from((await reader.readFile('/etc/hosts')) ?? []).toString()).toBe('127.0.0.1 localhost\n');
    const names = (await reader.listDir('/etc/ssl/certs'))?.map((e) => e.name);
    expect(names).toEqual(['ca-certificates.crt']);
    const root = await reader.listDir('/');
    expect(root?.find((e) => e.name === 'etc-abs')?.type).toBe('symlink');
    expect(await reader.readFile('/etc/nope')).toBeUndefined();
    expect(await reader.listDir('/etc/hosts')).toBeUndefined();
    expect(await reader.readFile('/etc/hosts/x')).toBeUndefined();
  });

  it('resolves symlinks as the guest does, confined to the rootfs', async () => {
    const text = async (p: string) => Buffer.from((await reader.readFile(p)) ?? Buffer.from('<none>')).toString();
    expect(await text('/usr/lib/ssl/cert.pem')).toBe('# host bundle\n');
    expect(await text('/etc-abs/hosts')).toBe('127.0.0.1 localhost\n'); // absolute link = rootfs-relative
    expect(await text('/var/lib/climb')).toBe('127.0.0.1 localhost\n'); // `..` stops at the root
    expect(await text('/chain1/certs/ca-certificates.crt')).toBe('# host bundle\n');
    expect(await text('/etc/../../../etc/hosts')).toBe('127.0.0.1 localhost\n');
    expect(await reader.readFile('/long-link')).toBeUndefined(); // the x… directory does not exist
    expect((await reader.listDir('/etc-abs'))?.map((e) => e.name)).toContain('hosts');
    await expect(reader.readFile('/loop-a')).rejects.toMatchObject({ code: 'E_SYMLINK_LOOP' });
  });
});

describe('initrd segments', () => {
  it('reads several concatenated archives, gzip and plain, the last entry winning', async () => {
    const second = path.join(work, 'tree2');
    await fs.mkdir(path.join(second, 'etc'), { recursive: true });
    await fs.writeFile(path.join(second, 'etc/hosts'), '10.0.0.1 registry\n');
    await fs.writeFile(path.join(second, 'etc/new'), 'new\n');
    const plain = path.join(work, 'plain.cpio');
    const gz = path.join(work, 'second.gz');
    await makeInitrd(tree, plain, { gzip: false });
    await makeInitrd(second, gz);
    const combined = path.join(work, 'combined.img');
    await fs.writeFile(combined, Buffer.concat([await fs.readFile(plain), Buffer.alloc(512), await fs.readFile(gz)]));
    const reader = await openRootfsReader(combined);
    expect(Buffer.from((await reader.readFile('/etc/hosts')) ?? []).toString()).toBe('10.0.0.1 registry\n');
    expect(Buffer.from((await reader.readFile('/etc/new')) ?? []).toString()).toBe('new\n');
    expect(Buffer.from((await reader.readFile('/usr/lib/ssl/cert.pem')) ?? []).toString()).toBe('# host bundle\n');
    const xz = path.join(work, 'xz.img');
    await fs.writeFile(xz, Buffer.concat([await fs.readFile(gz), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])]));
    await expect(openRootfsReader(xz)).rejects.toMatchObject({ code: 'E_INITRD_COMPRESSION' });
  });
});
