/**
 * The image layouts kata hosts have: an image still mounted through a loop device, a symlinked
 * image (kata-deploy's kata-containers.img → a versioned file), a root-owned image and a user who
 * is not root. Each through the CLI, with the real peers: losetup and mount, runuser.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunnableBy } from '../helpers/cli-as-user.js';
import { runCli } from '../helpers/run-cli.js';
import { debugfsCatFile, debugfsStat, makeGuestTree, makeMbrExt4, MIB, run, tempDir } from '../rootfs/images.js';
import { makeKey, makeStore, REGISTRY, type TestKey } from './fixtures.js';

const OFFSET = 3 * MIB;
let work: string;
let tree: string;
let key: TestKey;
let cfg: string;

const sha = async (f: string) =>
  createHash('sha256')
    .update(await fs.readFile(f))
    .digest('hex');

beforeAll(async () => {
  work = await tempDir('kbs-img-safety-');
  await fs.chmod(work, 0o755);
  tree = path.join(work, 'tree');
  await makeGuestTree(tree);
  key = await makeKey('signer');
  await fs.mkdir(path.join(work, 'keys'));
  await fs.writeFile(path.join(work, 'keys/signer.gpg'), key.publicBytes);
  await makeStore(path.join(work, 'store'), key, [{ reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' }]);
  cfg = path.join(work, 'bundle.yaml');
  await fs.writeFile(
    cfg,
    [
      'policy:',
      '  default: [{type: reject}]',
      '  scopes:',
      `    "${REGISTRY}":`,
      '      - type: signedBy',
      '        keys: [keys/signer.gpg]',
      '        keyPath: /etc/containers/keys/signer.gpg',
      'signatures: [store]',
      '',
    ].join('\n'),
  );
  await run('chmod', ['-R', 'a+rX', work]);
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function image(name: string): Promise<string> {
  const img = path.join(work, name);
  await makeMbrExt4(tree, img, OFFSET);
  return img;
}

/** Runs `fn` with the image's partition attached at its offset (and mounted when `mount`), always undone. */
async function whileAttached(
  img: string,
  mount: boolean,
  fn: (loop: string, mnt: string | undefined) => Promise<void>,
): Promise<void> {
  const loop = (await run('losetup', ['-o', String(OFFSET), '-f', '--show', img])).toString().trim();
  const mnt = mount ? await fs.mkdtemp(path.join(work, 'mnt-')) : undefined;
  try {
    if (mnt) await run('mount', [loop, mnt]);
    await fn(loop, mnt);
  } finally {
    if (mnt) {
      await run('umount', [mnt]).catch(() => undefined);
      await fs.rmdir(mnt).catch(() => undefined);
    }
    await run('losetup', ['-d', loop]).catch(() => undefined);
  }
}

describe('an image that is loop-attached or mounted', () => {
  it('stage and unstage refuse it (exit 2, one line naming the loop device and the mount point); the image is untouched', async () => {
    const img = await image('mounted.img');
    const ino = (await fs.stat(img)).ino;
    await whileAttached(img, true, async (loop, mnt) => {
      // the guide's manual step, made through the mount
      await fs.mkdir(path.join(mnt!, 'etc'), { recursive: true });
      await fs.writeFile(path.join(mnt!, 'etc/pubkey.gpg'), key.publicBytes);
      for (const args of [
        ['stage', '-c', cfg, '--rootfs', img],
        ['stage', '-c', cfg, '--rootfs', img, '--no-mount'],
        ['unstage', '--rootfs', img],
      ]) {
        const r = await runCli(args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(`${img}: is in use by ${loop} (mounted at ${mnt})`);
      }
      expect((await fs.stat(img)).ino).toBe(ino);
    });
    // after unmounting, the file written through the mount is still in the image
    expect(Buffer.from(await debugfsCatFile(img, OFFSET, '/etc/pubkey.gpg'))).toEqual(Buffer.from(key.publicBytes));
    expect((await run('losetup', ['-j', img])).toString()).toBe('');
  });

  it('a loop device without a mount is refused too, by another name for the same file', async () => {
    const img = await image('attached.img');
    const link = path.join(work, 'attached-link.img');
    await fs.symlink(img, link);
    const before = await sha(img);
    await whileAttached(img, false, async (loop) => {
      const r = await runCli(['stage', '-c', cfg, '--rootfs', link]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${link}: is in use by ${loop};`);
      expect(r.stderr).toContain(`losetup -d ${loop}`);
    });
    expect(await sha(img)).toBe(before);
  });
});

describe('a symlinked image (kata-containers.img → a versioned file)', () => {
  it.each([
    ['through a loop mount', []],
    ['through debugfs on a copy', ['--no-mount']],
  ])('%s: the real file is staged, the link stays, owner and mode are kept, no copy is left', async (_n, flags) => {
    const name = flags.length ? 'debugfs' : 'mount';
    const realDir = path.join(work, `versions-${name}`);
    const linkDir = path.join(work, `share-${name}`);
    await fs.mkdir(realDir);
    await fs.mkdir(linkDir);
    const real = path.join(realDir, 'kata-containers-2.5.0.img');
    await makeMbrExt4(tree, real, OFFSET);
    await fs.chown(real, 1234, 5678);
    await fs.chmod(real, 0o640);
    const link = path.join(linkDir, 'kata-containers.img');
    await fs.symlink(path.relative(linkDir, real), link);

    const r = await runCli(['stage', '-c', cfg, '--rootfs', link, ...flags]);
    expect(r.code, r.stderr).toBe(0);
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    expect(await fs.readlink(link)).toBe(path.relative(linkDir, real));
    const st = await fs.stat(real);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1234, 5678, 0o640]);
    expect(Buffer.from(await debugfsCatFile(real, OFFSET, '/etc/containers/keys/signer.gpg'))).toEqual(
      Buffer.from(key.publicBytes),
    );
    expect(await fs.readdir(linkDir)).toEqual(['kata-containers.img']);
    expect(await fs.readdir(realDir)).toEqual(['kata-containers-2.5.0.img']);

    const u = await runCli(['unstage', '--rootfs', link, ...flags]);
    expect(u.code, u.stderr).toBe(0);
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    expect(await debugfsStat(real, OFFSET, '/etc/containers/keys/signer.gpg').catch(() => 'gone')).toBe('gone');
    const after = await fs.stat(real);
    expect([after.uid, after.gid, after.mode & 0o7777]).toEqual([1234, 5678, 0o640]);
  });
});

describe('a user who may not write the image', () => {
  it('stage as nobody on a root-owned image: one line, exit 2, before any backup or copy is made', async () => {
    const dir = path.join(work, 'shared');
    await fs.mkdir(dir);
    await fs.chmod(dir, 0o1777); // the directory is writable: a copy could be made there
    const img = path.join(dir, 'root-owned.img');
    await makeMbrExt4(tree, img, OFFSET);
    await fs.chmod(img, 0o644);
    const before = await sha(img);
    const tmp = path.join(work, 'nobody-tmp');
    await fs.mkdir(tmp);
    await run('chown', ['nobody', tmp]);
    const { cli, remove } = cliRunnableBy('nobody');
    try {
      for (const args of [
        ['stage', '-c', cfg, '--rootfs', img],
        ['unstage', '--rootfs', img],
      ]) {
        const r = await runCli(args, { entry: cli, env: { TMPDIR: tmp }, asUser: 'nobody' });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(
          `${img}: is not writable by this user (owner uid 0, gid 0, mode 0644, running as uid`,
        );
      }
    } finally {
      remove();
    }
    expect(await sha(img)).toBe(before);
    expect(await fs.readdir(tmp)).toEqual([]);
    expect(await fs.readdir(dir)).toEqual(['root-owned.img']);
  });
});
