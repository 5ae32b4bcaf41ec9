/**
 * A failure or a signal part-way through leaves the rootfs as it was: the directory backend
 * undoes its journal; on a loop-mounted image the same happens and the image is always
 * unmounted; a debugfs-staged image is only replaced when everything worked.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRootfs } from '../../src/stage/stage.js';
import { applyToDirectory } from '../../src/rootfs/directory-target.js';
import { debugfsCatFile, e2fsckClean, makeBareExt4, makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { makeCaCert, makeInput, makeKey, makeStore, REGISTRY } from './fixtures.js';
import { snapshot } from './snapshot.js';
import { cliRunnableBy } from '../helpers/cli-as-user.js';
import type { StageInput } from '../../src/stage/types.js';

/** Enough changes for apply to report progress (every 256 changes) before it finishes. */
const SIGNATURES = 400;
let work: string;
let store: string;
let input: StageInput;

beforeAll(async () => {
  work = await tempDir('kbs-rollback-');
  const key = await makeKey('signer');
  store = path.join(work, 'store');
  const images = Array.from({ length: SIGNATURES }, (_, i) => ({
    reference: `${REGISTRY}/team/app${i}:v1`,
    repo: `team/app${i}`,
  }));
  await makeStore(store, key, images);
  input = await makeInput(key, {
    caPem: await makeCaCert(path.join(work, 'ca'), 'Rollback CA'),
    address: '192.0.2.10',
    keyPath: '/etc/containers/keys/signer.gpg',
  });
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** Sends `signal` to this process the first time apply (not planning) reports progress part-way. */
function signalDuringApply(signal: NodeJS.Signals): ((done: number, total: number) => void) & { sentAt?: number } {
  let sent = false;
  const fn: ((done: number, total: number) => void) & { sentAt?: number } = (done, total) => {
    // planning reports done/total over 2 × signatures; apply over the number of changes
    if (!sent && total !== 2 * SIGNATURES && done > 0 && done < total) {
      sent = true;
      fn.sentAt = done;
      process.emit(signal, signal);
    }
  };
  return fn;
}

describe('failure part-way', () => {
  it('SIGTERM during apply into a directory: every change undone, the rootfs is byte-identical', async () => {
    const root = path.join(work, 'dir');
    await makeGuestTree(root);
    const before = await snapshot(root);
    const onProgress = signalDuringApply('SIGTERM');
    await expect(stageRootfs({ rootfs: root, input, signatureStores: [store], onProgress })).rejects.toMatchObject({
      code: 'E_INTERRUPTED',
    });
    expect(onProgress.sentAt).toBeGreaterThan(0); // the signal came after changes had been made
    expect(await snapshot(root)).toEqual(before);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('an I/O error mid-way (a name taken by a directory) rolls back the files already written', async () => {
    const root = path.join(work, 'dir-err');
    await makeGuestTree(root);
    const before = await snapshot(root);
    const data = Buffer.from('x');
    await expect(
      applyToDirectory(root, [
        { op: 'write', path: ['etc', 'hosts'], data, mode: 0o644, replaces: true },
        { op: 'mkdir', path: ['newdir'], mode: 0o755 },
        { op: 'write', path: ['newdir', 'a'], data, mode: 0o644, replaces: false },
        { op: 'write', path: ['etc', 'ssl'], data, mode: 0o644, replaces: true },
      ]),
    ).rejects.toMatchObject({
      code: 'E_PATH_ESCAPE',
      message: '/etc/ssl is no longer a regular file; refusing to replace or remove it',
    });
    expect(await snapshot(root)).toEqual(before);
  });

  it('SIGINT during apply into a loop-mounted image: files as before, unmounted, e2fsck clean', async () => {
    const tree = path.join(work, 'tree');
    await makeGuestTree(tree);
    const img = path.join(work, 'img');
    await makeBareExt4(tree, img);
    const onProgress = signalDuringApply('SIGINT');
    await expect(stageRootfs({ rootfs: img, input, signatureStores: [store], onProgress })).rejects.toMatchObject({
      code: 'E_INTERRUPTED',
    });
    expect(onProgress.sentAt).toBeGreaterThan(0);
    // no loop device (and so no mount) is left on this image; other test files may mount their own meanwhile
    expect((await run('losetup', ['-j', img])).toString()).toBe('');
    expect((await debugfsCatFile(img, 0, '/etc/hosts')).toString()).toBe('127.0.0.1 localhost\n');
    expect((await debugfsCatFile(img, 0, '/etc/ssl/certs/ca-certificates.crt')).toString()).toBe('# host bundle\n');
    const ls = (await import('node:child_process'))
      .execFileSync('debugfs', ['-R', 'ls -p /var/lib', img], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString();
    expect(ls).not.toMatch(/containers|kbs-bundler/);
    expect((await e2fsckClean(img, 0)).code).toBe(0);
  });

  it('SIGINT while staging through debugfs: the image file is not touched at all', async () => {
    const tree = path.join(work, 'tree2');
    await makeGuestTree(tree);
    const img = path.join(work, 'img2');
    await makeBareExt4(tree, img);
    const sha = async () =>
      createHash('sha256')
        .update(await fs.readFile(img))
        .digest('hex');
    const before = await sha();
    let sent = false;
    const onProgress = (done: number, total: number) => {
      if (!sent && done === total) {
        sent = true;
        process.emit('SIGINT', 'SIGINT');
      }
    };
    await expect(
      stageRootfs({ rootfs: img, input, signatureStores: [store], noMount: true, onProgress }),
    ).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
    expect(await sha()).toBe(before);
    expect((await fs.readdir(work)).filter((f) => f.includes('kbs-staging'))).toEqual([]);
  });
});

describe('a disk image that fills up while staging', () => {
  const fullImage = async (name: string) => {
    const tree = path.join(work, `${name}-tree`);
    await makeGuestTree(tree);
    // 400 signatures do not fit: 1 MiB, 1 KiB blocks, few inodes
    const img = path.join(work, `${name}.img`);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfs.ext4', ['-q', '-F', '-b', '1024', '-N', '128', '-d', tree, img, '1M']);
    return img;
  };
  const sha = async (f: string) =>
    createHash('sha256')
      .update(await fs.readFile(f))
      .digest('hex');

  it('through debugfs: the error is reported and the image is byte-identical', async () => {
    const img = await fullImage('full-debugfs');
    const before = await sha(img);
    await expect(stageRootfs({ rootfs: img, input, signatureStores: [store], noMount: true })).rejects.toMatchObject({
      code: 'E_DEBUGFS',
    });
    expect(await sha(img)).toBe(before);
  });

  it('through a loop mount: ENOSPC rolls back, the image is unmounted and e2fsck clean', async () => {
    const img = await fullImage('full-mount');
    await expect(stageRootfs({ rootfs: img, input, signatureStores: [store] })).rejects.toMatchObject({
      code: 'E_ROOTFS_WRITE',
      message: expect.stringMatching(/ENOSPC.*every change made so far was undone/) as unknown,
    });
    expect((await run('losetup', ['-j', img])).toString()).toBe('');
    const { execFileSync } = await import('node:child_process');
    const ls = execFileSync('debugfs', ['-R', 'ls -p /var/lib', img], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    expect(ls).not.toMatch(/containers|kbs-bundler/);
    expect((await debugfsCatFile(img, 0, '/etc/hosts')).toString()).toBe('127.0.0.1 localhost\n');
    expect((await e2fsckClean(img, 0)).code).toBe(0);
  });

  it('through debugfs as an unprivileged user who owns only the image: restored from the backup', async () => {
    const dir = path.join(work, 'ro-dir');
    await fs.mkdir(dir, { mode: 0o755 });
    const img = path.join(dir, 'full.img');
    await fs.rename(await fullImage('full-nobody'), img);
    const { execFileSync } = await import('node:child_process');
    execFileSync('chown', ['nobody', img]);
    execFileSync('chmod', ['-R', 'a+rX', work]);
    const before = await sha(img);
    const { cli, remove } = cliRunnableBy('nobody');
    const cfg = path.join(work, 'full.yaml');
    await fs.writeFile(
      cfg,
      `policy:\n  default: [{type: reject}]\n  scopes:\n    "${REGISTRY}":\n      - type: signedBy\n        keys: [key.gpg]\n`,
    );
    await fs.writeFile(path.join(work, 'key.gpg'), input.keyrings[0]!.keyring.bytes);
    let code = 0;
    let stderr = '';
    try {
      execFileSync(
        'runuser',
        ['-u', 'nobody', '--', process.execPath, cli, 'stage', '-c', cfg, '--rootfs', img, '--signatures', store],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    } finally {
      remove();
    }
    expect(stderr).toContain('debugfs');
    expect(code).toBe(2);
    expect(await sha(img)).toBe(before);
    expect((await fs.stat(img)).uid).toBe(65534);
  });
});
