/**
 * What unstage gives back, exactly as the README says: every file's bytes, mode and owner, and no
 * directory stage made — in a directory and through a loop mount; through debugfs the files stage
 * rewrote come back with their bytes and mode, owned by root. The filesystem's own metadata (inode
 * numbers, timestamps, mount count, journal) is not part of the promise and is not compared.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRootfs } from '../../src/stage/stage.js';
import { unstageRootfs } from '../../src/stage/unstage.js';
import type { StageInput } from '../../src/stage/types.js';
import { makeBareExt4, makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { makeCaCert, makeInput, makeKey, makeStore, REGISTRY } from './fixtures.js';
import { snapshot } from './snapshot.js';

let work: string;
let tree: string;
let store: string;
let input: StageInput;

beforeAll(async () => {
  work = await tempDir('kbs-undo-');
  tree = path.join(work, 'tree');
  await makeGuestTree(tree);
  // a guest file that is not root's, with a mode of its own: staging appends to it
  await fs.chown(path.join(tree, 'etc/hosts'), 1000, 1001);
  await fs.chmod(path.join(tree, 'etc/hosts'), 0o640);
  const key = await makeKey('signer');
  store = path.join(work, 'store');
  await makeStore(store, key, [{ reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' }]);
  const caPem = await makeCaCert(path.join(work, 'ca'), 'Test Registry CA');
  input = await makeInput(key, { caPem, address: '192.0.2.10', keyPath: '/etc/containers/keys/signer.gpg' });
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function mountedSnapshot(img: string): Promise<Record<string, string>> {
  const mnt = await fs.mkdtemp(path.join(work, 'mnt-'));
  await run('mount', ['-o', 'loop,ro,noload', img, mnt]);
  try {
    return await snapshot(mnt);
  } finally {
    await run('umount', [mnt]);
    await fs.rmdir(mnt);
  }
}

describe('unstage gives back', () => {
  it('in a directory: every file, mode and owner as before', async () => {
    const root = path.join(work, 'dir');
    await run('cp', ['-a', tree, root]);
    const before = await snapshot(root);
    expect((await stageRootfs({ rootfs: root, input, signatureStores: [store] })).applied).toBe(true);
    expect(await snapshot(root)).not.toEqual(before);
    expect((await unstageRootfs({ rootfs: root })).applied).toBe(true);
    expect(await snapshot(root)).toEqual(before);
  });

  it('through a loop mount: every file, mode and owner as before', async () => {
    const img = path.join(work, 'mount.img');
    await makeBareExt4(tree, img);
    const before = await mountedSnapshot(img);
    expect(before['etc/hosts']).toMatch(/^file 640 1000:1001 /);
    expect((await stageRootfs({ rootfs: img, input, signatureStores: [store] })).method).toBe('loop mount at offset 0');
    expect((await mountedSnapshot(img))['etc/hosts']).toMatch(/^file 640 1000:1001 /);
    await unstageRootfs({ rootfs: img });
    expect(await mountedSnapshot(img)).toEqual(before);
  });

  it('through debugfs: every file and mode as before; the files stage rewrote are root-owned', async () => {
    const img = path.join(work, 'debugfs.img');
    await makeBareExt4(tree, img);
    const before = await mountedSnapshot(img);
    await stageRootfs({ rootfs: img, input, signatureStores: [store], noMount: true });
    await unstageRootfs({ rootfs: img, noMount: true });
    expect(await mountedSnapshot(img)).toEqual({
      ...before,
      'etc/hosts': before['etc/hosts']!.replace('1000:1001', '0:0'),
    });
  });
});
