/**
 * Staging through debugfs (--no-mount) writes many signatures in many directories in one debugfs
 * session. Read back through a real loop mount, the image must hold exactly the tree that staging
 * into a directory gives (every path, type, mode, owner and byte), and unstaging through debugfs
 * (which reads every staged file back to check it is unchanged) must give back exactly the tree the
 * image had, but for a signature changed since staging, which it leaves in place.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stageRootfs } from '../../src/stage/stage.js';
import { unstageRootfs } from '../../src/stage/unstage.js';
import type { StageInput } from '../../src/stage/types.js';
import { e2fsckClean, makeBareExt4, makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { makeCaCert, makeInput, makeKey, makeStore, REGISTRY } from './fixtures.js';
import { snapshot } from './snapshot.js';

/** Images spread over namespaces two levels deep, so the signature directories sit at several depths. */
const IMAGES = 300;

let work: string;
let tree: string;
let store: string;
let input: StageInput;

beforeAll(async () => {
  work = await tempDir('kbs-stage-many-');
  tree = path.join(work, 'tree');
  await makeGuestTree(tree);
  // A mode other than 0644 on a file staging appends to: unstage must give it back with it.
  await fs.chmod(path.join(tree, 'etc/hosts'), 0o640);
  const key = await makeKey('signer');
  store = path.join(work, 'store');
  const images = Array.from({ length: IMAGES }, (_, i) => {
    const repo = i % 4 === 0 ? `solo-${i}` : `team-${i % 7}/group-${i % 5}/app-${i}`;
    return { reference: `${REGISTRY}/${repo}:v1`, repo };
  });
  await makeStore(store, key, images);
  const caPem = await makeCaCert(path.join(work, 'ca'), 'Test Registry CA');
  input = await makeInput(key, { caPem, address: '192.0.2.10', keyPath: '/etc/containers/keys/signer.gpg' });
}, 120_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** The image's tree as a read-only loop mount shows it (without mkfs' lost+found). */
async function mountedSnapshot(img: string): Promise<Record<string, string>> {
  const mnt = await fs.mkdtemp(path.join(work, 'mnt-'));
  await run('mount', ['-o', 'loop,ro', img, mnt]);
  try {
    const snap = await snapshot(mnt);
    for (const key of Object.keys(snap)) if (key === 'lost+found' || key.startsWith('lost+found/')) delete snap[key];
    return snap;
  } finally {
    await run('umount', [mnt]);
    await fs.rmdir(mnt);
  }
}

it('stages hundreds of signatures through debugfs exactly as into a directory; unstage restores all but a changed one', async () => {
  const dirRoot = path.join(work, 'dir-rootfs');
  await fs.cp(tree, dirRoot, { recursive: true, verbatimSymlinks: true });
  await stageRootfs({ rootfs: dirRoot, input, signatureStores: [store] });
  const expected = await snapshot(dirRoot);
  const signatureFiles = Object.keys(expected).filter((p) => p.endsWith('/signature-1'));
  expect(signatureFiles).toHaveLength(IMAGES);

  const img = path.join(work, 'rootfs.img');
  await makeBareExt4(tree, img, 32);
  const pristine = await mountedSnapshot(img);
  expect(pristine['etc/hosts']).toMatch(/^file 640 0:0 /);

  const staged = await stageRootfs({ rootfs: img, input, signatureStores: [store], noMount: true });
  expect(staged.method).toBe('debugfs (no mount) at offset 0');
  expect(staged.applied).toBe(true);
  expect(await mountedSnapshot(img)).toEqual(expected);
  expect((await e2fsckClean(img, 0)).code).toBe(0);

  // One signature deep in the tree changed since staging (same owner, mode and length, other bytes).
  const changed = signatureFiles.find((p) => p.includes('/group-')) as string;
  const original = await fs.readFile(path.join(dirRoot, changed));
  const other = Buffer.from(original.map((b) => b ^ 0xff));
  const local = path.join(work, 'changed-signature');
  await fs.writeFile(local, other, { mode: 0o644 });
  await fs.chmod(local, 0o644);
  await run('debugfs', ['-w', '-f', '-', img], { input: `rm "/${changed}"\nwrite "${local}" "/${changed}"\n` });

  const unstaged = await unstageRootfs({ rootfs: img, noMount: true });
  expect(unstaged.applied).toBe(true);
  expect(unstaged.plan.warnings.map((w) => [w.code, w.path])).toEqual([['W_CHANGED_SINCE_STAGED', `/${changed}`]]);
  const kept: Record<string, string> = {};
  for (let p = path.dirname(changed); p !== 'var/lib'; p = path.dirname(p)) kept[p] = expected[p] as string;
  kept[changed] = `file 644 0:0 ${createHash('sha256').update(other).digest('hex')}`;
  // The record stays, listing what unstage left, so that unstage can be run again once it is dealt with.
  const after = await mountedSnapshot(img);
  expect(after['var/lib/kbs-bundler']).toBe('dir 755 0:0');
  expect(after['var/lib/kbs-bundler/staged.json']).toMatch(/^file 644 0:0 [0-9a-f]{64}$/);
  delete after['var/lib/kbs-bundler'];
  delete after['var/lib/kbs-bundler/staged.json'];
  expect(after).toEqual({ ...pristine, ...kept });
  expect((await e2fsckClean(img, 0)).code).toBe(0);
}, 120_000);
