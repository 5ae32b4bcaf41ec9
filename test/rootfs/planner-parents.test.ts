/**
 * WritePlanner.directory() resolves a path's parent once and reuses it for its siblings. It must
 * answer exactly as resolving every path component by component does (`reuseParents: false`):
 * the same real components, the same planned directories in the same order, the same errors
 * with the same texts — through symlinks, `..` in link targets, links that climb above the root,
 * loops, files in the way and names that are links themselves.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryView } from '../../src/rootfs/directory-target.js';
import { WritePlanner } from '../../src/rootfs/planner.js';
import { tempDir } from './images.js';

let root: string;

beforeAll(async () => {
  root = await tempDir('kbs-planner-');
  const mk = (p: string) => fs.mkdir(path.join(root, p), { recursive: true });
  const link = (target: string, p: string) => fs.symlink(target, path.join(root, p));
  await mk('var/lib/containers/sigstore/team/app@sha256=aa');
  await mk('real/store');
  await mk('deep/a/b');
  await fs.writeFile(path.join(root, 'var/lib/containers/sigstore/team/file@sha256=ff'), 'x');
  await fs.writeFile(path.join(root, 'afile'), 'x');
  await link('/real/store', 'var/lib/abs-store'); // absolute: rootfs-relative
  await link('../../real/store', 'var/lib/rel-store'); // relative with ..
  await link('../../../../..', 'deep/a/b/up'); // climbs above the root
  await link('loop2', 'loop1');
  await link('loop1', 'loop2');
  await link('/afile', 'to-file');
  await link('/', 'to-root');
  await link('../../../real/store', 'var/lib/containers/sigstore/team/linked@sha256=bb'); // the name itself is a link
  await link('/real/store', 'var/lib/containers/sigstore/team/abs@sha256=cc');
  await link('/nowhere/x', 'var/lib/dangling');
}, 30_000);

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const PATHS = [
  // siblings under an existing, a planned and a linked parent
  '/var/lib/containers/sigstore/team/app@sha256=aa',
  '/var/lib/containers/sigstore/team/app@sha256=a1',
  '/var/lib/containers/sigstore/team/app@sha256=a2',
  '/var/lib/containers/sigstore/team/linked@sha256=bb',
  '/var/lib/containers/sigstore/team/abs@sha256=cc',
  '/var/lib/containers/sigstore/team/file@sha256=ff',
  '/var/lib/containers/sigstore/team/app@sha256=a3',
  '/var/lib/containers/sigstore/new-team/x@sha256=01',
  '/var/lib/containers/sigstore/new-team/x@sha256=02',
  '/var/lib/containers/sigstore/new-team/deeper/x@sha256=03',
  '/var/lib/containers/sigstore/new-team/deeper/x@sha256=04',
  '/var/lib/abs-store/team/x@sha256=05',
  '/var/lib/abs-store/team/x@sha256=06',
  '/var/lib/rel-store/team/x@sha256=07',
  '/var/lib/rel-store/x@sha256=08',
  '/var/lib/dangling/x@sha256=09',
  '/var/lib/dangling/x@sha256=10',
  // refusals and errors
  '/deep/a/b/up/x@sha256=11',
  '/deep/a/b/up/x@sha256=12',
  '/deep/a/b/up/sub/x@sha256=13',
  '/loop1/x@sha256=14',
  '/loop1/x@sha256=15',
  '/afile/x@sha256=16',
  '/afile/x@sha256=17',
  '/to-file/x@sha256=18',
  '/to-file/sub/x@sha256=19',
  '/to-root/x@sha256=20',
  '/to-root/x@sha256=21',
  '/to-root',
  '/afile',
  '/x@sha256=22',
  '/x@sha256=22',
  '/var/lib/containers/sigstore/team/app@sha256=a1',
];

async function outcomes(reuseParents: boolean): Promise<{ results: unknown[]; planned: unknown[] }> {
  const planner = new WritePlanner(directoryView(root), { reuseParents });
  const results: unknown[] = [];
  for (const p of PATHS) {
    try {
      results.push({
        path: p,
        components: await planner.directory(p),
        planned: planner.isPlannedDir(await planner.directory(p)),
      });
    } catch (e) {
      const err = e as Error & { code?: string };
      results.push({ path: p, error: err.code, name: err.name, message: err.message });
    }
  }
  return { results, planned: planner.plannedDirs() };
}

describe('WritePlanner.directory(): parents reused for siblings', () => {
  it('answers as resolving every component does: components, planned directories, errors', async () => {
    const fast = await outcomes(true);
    const full = await outcomes(false);
    expect(fast).toEqual(full);
    // the suite covers what it claims: plain, planned, refused, looping and not-a-directory answers
    const codes = new Set(full.results.map((r) => (r as { error?: string }).error));
    expect(codes).toEqual(new Set([undefined, 'E_PATH_ESCAPE', 'E_SYMLINK_LOOP', 'E_NOT_DIR', 'E_ROOTFS_PATH']));
    expect(full.planned.length).toBeGreaterThan(8);
  });

  it('siblings planned at the same time (as stage plans 16 directories at once): the same answers', async () => {
    const settle = async (planner: WritePlanner) => {
      const results = await Promise.all(
        PATHS.map((p) =>
          planner.directory(p).then(
            (c) => c.join('/'),
            (e: Error) => e.message,
          ),
        ),
      );
      return {
        results,
        planned: planner
          .plannedDirs()
          .map((d) => d.path.join('/'))
          .sort(),
      };
    };
    expect(await settle(new WritePlanner(directoryView(root)))).toEqual(
      await settle(new WritePlanner(directoryView(root), { reuseParents: false })),
    );
  });

  it('plannedDirectorySync() first (as stage does), directory() when it declines: the same answers', async () => {
    const a = new WritePlanner(directoryView(root));
    const b = new WritePlanner(directoryView(root), { reuseParents: false });
    let synced = 0;
    for (const p of [...PATHS, ...PATHS]) {
      let x: unknown;
      try {
        const sync = a.plannedDirectorySync(p);
        if (sync) synced++;
        x = sync ?? (await a.directory(p));
      } catch (e) {
        x = (e as Error).message;
      }
      const y = await b.directory(p).catch((e: Error) => e.message);
      expect(x).toEqual(y);
    }
    expect(a.plannedDirs()).toEqual(b.plannedDirs());
    expect(synced).toBeGreaterThan(4); // the fast path was taken
    expect(b.plannedDirectorySync(PATHS[1]!)).toBeUndefined(); // never without reuseParents
  });

  it('parents prepared ahead (as stage does), then plannedDirectorySync() or directory(): the same answers and directories', async () => {
    const a = new WritePlanner(directoryView(root));
    const b = new WritePlanner(directoryView(root), { reuseParents: false });
    const paths = [...PATHS, '/var/lib/../escape/x@sha256=23', 'relative/x'].sort();
    await a.prepareParents(paths);
    const answer = async (planner: WritePlanner, p: string) => {
      try {
        return planner.plannedDirectorySync(p) ?? (await planner.directory(p));
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const p of paths) expect(await answer(a, p)).toEqual(await answer(b, p));
    expect(
      a
        .plannedDirs()
        .map((d) => d.path.join('/'))
        .sort(),
    ).toEqual(
      b
        .plannedDirs()
        .map((d) => d.path.join('/'))
        .sort(),
    );
  });

  it('each sibling in any order: the same answers as the full resolution', async () => {
    for (const order of [PATHS.slice().reverse(), PATHS.slice(7).concat(PATHS.slice(0, 7))]) {
      const a = new WritePlanner(directoryView(root));
      const b = new WritePlanner(directoryView(root), { reuseParents: false });
      for (const p of order) {
        const x = await a.directory(p).catch((e: Error) => e.message);
        const y = await b.directory(p).catch((e: Error) => e.message);
        expect(x).toEqual(y);
      }
      expect(a.plannedDirs()).toEqual(b.plannedDirs());
    }
  });
});
