/**
 * Symlink-escape suite: whatever links the rootfs holds (absolute, relative, chained, in the
 * middle of a path, climbing above the root) and whatever repository names a store holds, no
 * byte is written outside the rootfs. Absolute links are followed inside the rootfs (as the
 * guest sees them); links that climb above the root are refused.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stageRootfs } from '../../src/stage/stage.js';
import { planStage } from '../../src/stage/plan.js';
import { directoryView } from '../../src/rootfs/directory-target.js';
import { debugfsCatFile, makeBareExt4, makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { digestOf, makeCaCert, makeInput, makeKey, makeStore, REGISTRY, type TestKey } from './fixtures.js';
import { snapshot } from './snapshot.js';
import type { StageInput } from '../../src/stage/types.js';

let work: string;
let outside: string;
let key: TestKey;
let store: string;
let input: StageInput;
let outsideBefore: Record<string, string>;

beforeAll(async () => {
  work = await tempDir('kbs-escape-');
  outside = path.join(work, 'outside');
  await fs.mkdir(path.join(outside, 'keys'), { recursive: true });
  await fs.writeFile(path.join(outside, 'hosts'), 'host file\n');
  await fs.writeFile(path.join(outside, 'bundle.crt'), 'host bundle\n');
  key = await makeKey('signer');
  store = path.join(work, 'store');
  await makeStore(store, key, [{ reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' }]);
  const caPem = await makeCaCert(path.join(work, 'ca'), 'Escape CA');
  input = await makeInput(key, { caPem, address: '192.0.2.10', keyPath: '/etc/containers/keys/signer.gpg' });
  outsideBefore = await snapshot(outside);
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

let n = 0;
async function rootfs(setup: (root: string) => Promise<void>): Promise<string> {
  const root = path.join(work, `root-${++n}`);
  await makeGuestTree(root);
  await setup(root);
  return root;
}

beforeEach(() => {
  // every test ends with the host side untouched
  return async () => expect(await snapshot(outside)).toEqual(outsideBefore);
});

describe('writes never leave the rootfs', () => {
  it('absolute links are rootfs-relative, also in link chains and in the middle of a path', async () => {
    const root = await rootfs(async (r) => {
      // /etc/containers → the host's absolute path of `outside`: inside the rootfs that is r/<outside>
      await fs.symlink(outside, path.join(r, 'etc/containers'));
      await fs.mkdir(path.join(r, outside.slice(1), 'keys'), { recursive: true });
      // CA bundle through a chain: ca-certificates.crt → /chain/a → b → /<outside>/bundle.crt
      await fs.rm(path.join(r, 'etc/ssl/certs/ca-certificates.crt'));
      await fs.symlink('/chain/a', path.join(r, 'etc/ssl/certs/ca-certificates.crt'));
      await fs.mkdir(path.join(r, 'chain'));
      await fs.symlink('b', path.join(r, 'chain/a'));
      await fs.symlink(path.join(outside, 'bundle.crt'), path.join(r, 'chain/b'));
      await fs.writeFile(path.join(r, outside.slice(1), 'bundle.crt'), 'guest bundle\n');
      // a link in the middle of the sigstore path
      await fs.mkdir(path.join(r, 'var/lib/store-real'));
      await fs.mkdir(path.join(r, 'var/lib/containers'));
      await fs.symlink('/var/lib/store-real', path.join(r, 'var/lib/containers/sigstore'));
    });
    const r = await stageRootfs({ rootfs: root, input, signatureStores: [store] });
    expect(r.applied).toBe(true);
    const inner = path.join(root, outside.slice(1));
    expect(await fs.readFile(path.join(inner, 'keys/signer.gpg'))).toEqual(Buffer.from(key.publicBytes));
    expect(await fs.readFile(path.join(inner, 'bundle.crt'), 'utf8')).toMatch(
      /^guest bundle\n# BEGIN kbs-bundler registry CA/,
    );
    expect((await fs.readdir(path.join(root, 'var/lib/store-real/team'))).length).toBe(1);
    const entry = r.plan.entries.find((e) => e.what === 'ca-bundle')!;
    expect(entry.realPath).toBe(`${outside}/bundle.crt`);
    expect(entry.via).toEqual([
      '/etc/ssl/certs/ca-certificates.crt → /chain/a',
      '/chain/a → b',
      `/chain/b → ${outside}/bundle.crt`,
    ]);
    expect(await snapshot(outside)).toEqual(outsideBefore);
  });

  it.each([
    [
      'a relative link climbing above the root (middle of the path)',
      'var/lib/containers',
      '../../../../../../../..' + '/outside',
    ],
    [
      'a relative link climbing above the root (last component)',
      'etc/hosts',
      '../../../../../../../../../outside/hosts',
    ],
    ['an absolute link whose target then climbs with ..', 'etc/containers', '/etc/../../../outside'],
  ])('%s is refused and nothing changes', async (_name, link, target) => {
    const root = await rootfs(async (r) => {
      await fs.rm(path.join(r, link), { recursive: true, force: true });
      await fs.mkdir(path.dirname(path.join(r, link)), { recursive: true });
      await fs.symlink(target, path.join(r, link));
    });
    const before = await snapshot(root);
    await expect(stageRootfs({ rootfs: root, input, signatureStores: [store], force: true })).rejects.toMatchObject({
      code: 'E_PATH_ESCAPE',
      message: expect.stringContaining('climbs above the rootfs root') as unknown,
    });
    expect(await snapshot(root)).toEqual(before);
    expect(await snapshot(outside)).toEqual(outsideBefore);
  });

  it('a symlink loop is an error, not a hang', async () => {
    const root = await rootfs(async (r) => {
      await fs.symlink('/etc/containers', path.join(r, 'etc/containers'));
    });
    await expect(stageRootfs({ rootfs: root, input, signatureStores: [store] })).rejects.toMatchObject({
      code: 'E_SYMLINK_LOOP',
    });
  });

  it('repository names with .. or absolute paths in a store are refused', async () => {
    const root = await rootfs(() => Promise.resolve());
    const digest = digestOf('x');
    for (const repositoryPath of ['../../../../outside', 'team/../../../x', '/abs/path']) {
      const sig = {
        repositoryPath,
        digest,
        name: 'signature-1',
        bytes: new Uint8Array([1]),
        source: 'evil.tar:member',
      };
      await expect(planStage(directoryView(root), input, [sig])).rejects.toMatchObject({ code: 'E_PATH_ESCAPE' });
    }
    const badDigest = {
      repositoryPath: 'team/app',
      digest: 'sha256:../../../../x',
      name: 'signature-1',
      bytes: new Uint8Array([1]),
      source: 'evil',
    };
    await expect(planStage(directoryView(root), input, [badDigest])).rejects.toMatchObject({ code: 'E_PATH_ESCAPE' });
    // and through the store reader: a tarball whose member climbs out
    const tree = path.join(work, 'evil-tree');
    await fs.mkdir(path.join(tree, `a@sha256=${digest.slice(7)}`), { recursive: true });
    await fs.writeFile(path.join(tree, `a@sha256=${digest.slice(7)}/signature-1`), 'x');
    const tarFile = path.join(work, 'evil.tar');
    await run('tar', [
      '-cf',
      tarFile,
      '-C',
      tree,
      '--transform',
      's,^a@,../../escape@,',
      `a@sha256=${digest.slice(7)}`,
    ]);
    expect((await run('tar', ['-tf', tarFile])).toString()).toContain('../../escape@sha256=');
    await expect(stageRootfs({ rootfs: root, input, signatureStores: [tarFile], force: true })).rejects.toMatchObject({
      code: expect.stringMatching(/E_PATH_ESCAPE|E_BAD_REPOSITORY_PATH/) as unknown,
    });
    expect(await snapshot(outside)).toEqual(outsideBefore);
  });

  it('in an ext4 image an absolute link is followed inside the image (loop mount and debugfs alike)', async () => {
    const tree = await rootfs(async (r) => {
      await fs.mkdir(path.join(r, 'opt/keys'), { recursive: true });
      await fs.symlink('/opt/keys', path.join(r, 'etc/containers'));
    });
    for (const noMount of [false, true]) {
      const img = path.join(work, `escape-${noMount}.img`);
      await makeBareExt4(tree, img);
      const r = await stageRootfs({ rootfs: img, input, signatureStores: [store], noMount });
      expect(r.applied).toBe(true);
      expect(await debugfsCatFile(img, 0, '/opt/keys/keys/signer.gpg')).toEqual(Buffer.from(key.publicBytes));
      const bad = path.join(work, `escape-bad-${noMount}.img`);
      const badTree = await rootfs(async (r2) => {
        await fs.symlink('../../../../../../../outside', path.join(r2, 'etc/containers'));
      });
      await makeBareExt4(badTree, bad);
      await expect(stageRootfs({ rootfs: bad, input, signatureStores: [store], noMount })).rejects.toMatchObject({
        code: 'E_PATH_ESCAPE',
      });
    }
  });
});
