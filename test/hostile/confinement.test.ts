/**
 * Confinement: a symbolic link at each path stage writes through (key, CA bundle, hosts, signature store,
 * its own record, and every directory above them), pointing at a host directory absolutely, climbing
 * above the root with `..`, or both; and signature stores whose entries climb out. Whatever stage does
 * with each (follow the link inside the rootfs, or refuse), nothing outside the rootfs changes, and an
 * applied stage is undone by unstage to the byte.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRootfs } from '../../src/stage/stage.js';
import { unstageRootfs } from '../../src/stage/unstage.js';
import type { StageInput } from '../../src/stage/types.js';
import { makeGuestTree, tempDir } from '../rootfs/images.js';
import { digestOf, makeCaCert, makeInput, makeKey, makeStore, REGISTRY } from '../stage/fixtures.js';
import { snapshot } from '../stage/snapshot.js';

let work: string;
let outside: string;
let store: string;
let input: StageInput;
let outsideBefore: Record<string, string>;

/** Paths stage writes at or below; `file` when the link stands for a file. */
const PLACEMENTS: Array<{ at: string; file?: string }> = [
  { at: 'etc' },
  { at: 'etc/containers' },
  { at: 'etc/containers/keys' },
  { at: 'etc/containers/keys/signer.gpg', file: 'signer.gpg' },
  { at: 'etc/hosts', file: 'hosts' },
  { at: 'etc/ssl' },
  { at: 'etc/ssl/certs' },
  { at: 'etc/ssl/certs/ca-certificates.crt', file: 'ca-certificates.crt' },
  { at: 'var' },
  { at: 'var/lib' },
  { at: 'var/lib/containers' },
  { at: 'var/lib/containers/sigstore' },
  { at: 'var/lib/kbs-bundler' },
];

/** How the link points at the host's `outside` directory (or the file of that name in it). */
const TARGETS: Record<string, (at: string, file?: string) => string> = {
  'absolute path of a host directory': (_at, file) => path.join(outside, file ?? ''),
  'relative, climbing above the root': (at, file) =>
    `${'../'.repeat(at.split('/').length + 6)}${path.join(outside, file ?? '').slice(1)}`,
  'absolute, then climbing with ..': (_at, file) => `/${'../'.repeat(6)}${path.join(outside, file ?? '').slice(1)}`,
};

beforeAll(async () => {
  work = await tempDir('kbs-hostile-confine-');
  outside = path.join(work, 'outside');
  await fs.mkdir(path.join(outside, 'keys'), { recursive: true });
  for (const f of ['hosts', 'ca-certificates.crt', 'signer.gpg'])
    await fs.writeFile(path.join(outside, f), `host ${f}\n`);
  const key = await makeKey('signer');
  store = path.join(work, 'store');
  await makeStore(store, key, [
    { reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' },
    { reference: `${REGISTRY}/team/other:v1`, repo: 'team/other' },
  ]);
  const caPem = await makeCaCert(path.join(work, 'ca'), 'Confine CA');
  input = await makeInput(key, { caPem, address: '192.0.2.10', keyPath: '/etc/containers/keys/signer.gpg' });
  outsideBefore = await snapshot(outside);
}, 60_000);

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

let n = 0;
async function rootfsWithLink(at: string, target: string): Promise<string> {
  const root = path.join(work, `root-${++n}`);
  await makeGuestTree(root);
  await fs.rm(path.join(root, at), { recursive: true, force: true });
  await fs.mkdir(path.dirname(path.join(root, at)), { recursive: true });
  await fs.symlink(target, path.join(root, at));
  return root;
}

/** Stage, and when it applied, unstage: outside never changes; the rootfs ends as it began. */
async function stageThenUnstage(root: string, stores: string[]): Promise<'applied' | 'refused'> {
  const before = await snapshot(root);
  let outcome: 'applied' | 'refused';
  try {
    const r = await stageRootfs({ rootfs: root, input, signatureStores: stores, force: true });
    expect(r.applied).toBe(true);
    outcome = 'applied';
  } catch (e) {
    expect((e as { code?: string }).code).toMatch(
      /^E_(PATH_ESCAPE|SYMLINK_LOOP|BAD_REPOSITORY_PATH|NOT_A_DIRECTORY|STORE_\w+)$/,
    );
    outcome = 'refused';
  }
  expect(await snapshot(outside), 'outside the rootfs after stage').toEqual(outsideBefore);
  if (outcome === 'applied') {
    await unstageRootfs({ rootfs: root });
    expect(await snapshot(outside), 'outside the rootfs after unstage').toEqual(outsideBefore);
  }
  expect(await snapshot(root), 'the rootfs at the end').toEqual(before);
  return outcome;
}

describe('confinement', () => {
  const cases = PLACEMENTS.flatMap((p) => Object.keys(TARGETS).map((kind) => [`${p.at} → ${kind}`, p, kind] as const));

  it.each(cases)('%s', async (_name, placement, kind) => {
    const root = await rootfsWithLink(placement.at, TARGETS[kind]!(placement.at, placement.file));
    const outcome = await stageThenUnstage(root, [store]);
    // a link that climbs above the root is refused; an absolute one is the guest's own path
    if (kind === 'relative, climbing above the root') expect(outcome).toBe('refused');
  });

  const digest = digestOf('confined');
  const hex = digest.slice(7);
  it.each([
    ['a member climbing out with ..', `../../escape@sha256=${hex}/signature-1`],
    ['a member climbing out in the middle', `team/../../../escape@sha256=${hex}/signature-1`],
    ['an absolute member', `/OUTSIDE/abs@sha256=${hex}/signature-1`],
    ['a member under a directory named ..', `../team/app@sha256=${hex}/signature-1`],
  ])('a signature store tarball with %s', async (_name, memberName) => {
    const member = memberName.replace('/OUTSIDE', outside);
    const tree = path.join(work, `tar-tree-${++n}`);
    await fs.mkdir(path.join(tree, `a@sha256=${hex}`), { recursive: true });
    await fs.writeFile(path.join(tree, `a@sha256=${hex}/signature-1`), 'x');
    const tarFile = path.join(work, `evil-${n}.tar`);
    const from = `a@sha256=${hex}/signature-1`;
    execFileSync('tar', ['-cPf', tarFile, '-C', tree, '--transform', `s,^${from}$,${member},`, from]);
    expect(execFileSync('tar', ['-tPf', tarFile]).toString()).toContain(member.replace(/^\//, ''));
    const root = path.join(work, `root-${++n}`);
    await makeGuestTree(root);
    expect(await stageThenUnstage(root, [tarFile])).toBe('refused');
  });

  it('a tarball store whose directory entry is a symbolic link out of the rootfs', async () => {
    const tree = path.join(work, `tar-link-${++n}`);
    await fs.mkdir(tree);
    await fs.symlink(outside, path.join(tree, `team@sha256=${hex}`));
    const tarFile = path.join(work, `evil-link-${n}.tar`);
    execFileSync('tar', ['-cf', tarFile, '-C', tree, `team@sha256=${hex}`]);
    const root = path.join(work, `root-${++n}`);
    await makeGuestTree(root);
    await stageThenUnstage(root, [tarFile, store]);
  });
});
