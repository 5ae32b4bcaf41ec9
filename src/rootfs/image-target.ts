/**
 * Disk images opened for staging (see target.ts for the overview):
 * - ext4, as root: planned on a read-only loop mount, applied on a read-write loop mount
 *   (journaled like a directory, always unmounted), then `e2fsck -fn` must be clean.
 * - ext4 without root or with `noMount`, and every dm-verity image: applied to a copy (image-copy.ts)
 *   through a debugfs batch or a loop mount, checked with `e2fsck -fn`, re-hashed with veritysetup
 *   when measured.
 * - erofs (`rebuild`): extracted, staged as a directory, made anew into a copy.
 */
import { InputError, ToolError } from '../errors.js';
import type { Change, GuestView } from './changes.js';
import { applyWithDebugfs } from './debugfs-apply.js';
import { DebugfsView } from './debugfs-view.js';
import type { Partition, RootfsLayout } from './detect.js';
import { applyToDirectory, directoryView } from './directory-target.js';
import { extractErofs, MKFS_EROFS_OPTIONS, rebuildErofsInto } from './erofs.js';
import { onCopy } from './image-copy.js';
import { fsckClean, mountLoop, type FsLocation, type LoopMount } from './mount.js';
import type { ApplyOptions, ApplyReport, RootfsTarget, TargetOptions } from './target.js';
import { isRoot } from './tools.js';
import { reformatVerity } from './verity.js';

type DiskLayout = Extract<RootfsLayout, { kind: 'disk-image' }>;
type Verity = { data: Partition; hash: Partition } | undefined;

export function verityOf(layout: DiskLayout): Verity {
  return layout.verityHash
    ? { data: { index: 1, type: 0x83, offset: layout.offset, size: layout.size }, hash: layout.verityHash }
    : undefined;
}

export async function openErofsTarget(layout: DiskLayout): Promise<RootfsTarget> {
  const verity = verityOf(layout);
  const extracted = await extractErofs(layout.path, layout.offset, layout.size);
  const apply = async (changes: readonly Change[], o: ApplyOptions = {}): Promise<ApplyReport> => {
    if (changes.length === 0) return {};
    return onCopy(layout.path, async (copy) => {
      await applyToDirectory(extracted.tree, changes, o);
      o.guard?.check();
      await rebuildErofsInto(copy, extracted.tree, {
        offset: layout.offset,
        size: layout.size,
        bare: layout.partitions.length === 0,
      });
      const report: ApplyReport = {};
      if (verity) report.verity = await reformatVerity(copy, verity.data, verity.hash);
      o.guard?.check();
      return report;
    });
  };
  return {
    kind: 'erofs-image',
    layout,
    method: `erofs rebuilt from an extracted tree (mkfs.erofs ${MKFS_EROFS_OPTIONS.join(' ')})${layout.offset ? ` into partition 1 at offset ${layout.offset}` : ''}${verity ? ', dm-verity hash tree re-made' : ''}`,
    view: directoryView(extracted.tree),
    inPlace: false,
    ...(verity ? { verity } : {}),
    apply,
    close: () => extracted.remove(),
  };
}

export async function openExt4Target(
  rootfs: string,
  layout: DiskLayout,
  options: TargetOptions,
): Promise<RootfsTarget> {
  const verity = verityOf(layout);
  const fsLoc = { path: layout.path, offset: layout.offset, size: layout.size };
  await mustBeCleanBefore(rootfs, fsLoc);
  const { roMount, fallback } = isRoot() && !options.noMount ? await tryReadOnlyMount(fsLoc) : { fallback: '' };
  const useMount = roMount !== undefined;
  const view: GuestView = roMount ? directoryView(roMount.dir) : new DebugfsView(layout.path, layout.offset);
  const closeView = async () => {
    await roMount?.unmount();
  };
  const apply = async (changes: readonly Change[], o: ApplyOptions = {}): Promise<ApplyReport> => {
    if (changes.length === 0) return {};
    await closeView();
    if (useMount && !verity) {
      await applyThroughMount(fsLoc, changes, o);
      return { fsck: await mustBeClean(fsLoc) };
    }
    return onCopy(layout.path, (copy) => applyToCopy({ ...fsLoc, path: copy }, changes, o, useMount, verity));
  };
  return {
    kind: 'ext4-image',
    layout,
    method: `${useMount ? 'loop mount' : 'debugfs (no mount)'} at offset ${layout.offset}${verity ? ', dm-verity hash tree re-made' : ''}${fallback}`,
    view,
    inPlace: useMount && !verity,
    ...(verity ? { verity } : {}),
    apply,
    close: closeView,
  };
}

async function mustBeCleanBefore(rootfs: string, fsLoc: FsLocation): Promise<void> {
  const before = await fsckClean(fsLoc);
  if (before.clean) return;
  throw new InputError(
    'E_ROOTFS_FSCK',
    { file: rootfs },
    `the ext4 filesystem at offset ${fsLoc.offset} is not clean (e2fsck -fn); repair it first with e2fsck -f '${fsLoc.path}?offset=${fsLoc.offset}'`,
  );
}

async function tryReadOnlyMount(fsLoc: FsLocation): Promise<{ roMount?: LoopMount; fallback: string }> {
  try {
    return { roMount: await mountLoop(fsLoc, 'ro'), fallback: '' };
  } catch (e) {
    // Root without loop devices (a container, say): debugfs needs none.
    return { fallback: ` (loop mount failed: ${(e as Error).message.split('\n')[0]})` };
  }
}

async function applyThroughMount(loc: FsLocation, changes: readonly Change[], o: ApplyOptions): Promise<void> {
  const rw = await mountLoop(loc, 'rw');
  try {
    await applyToDirectory(rw.dir, changes, o);
  } finally {
    await rw.unmount();
  }
}

async function applyToCopy(
  loc: FsLocation,
  changes: readonly Change[],
  o: ApplyOptions,
  useMount: boolean,
  verity: Verity,
): Promise<ApplyReport> {
  o.guard?.check();
  if (useMount) await applyThroughMount(loc, changes, o);
  else await applyWithDebugfs(loc.path, loc.offset, changes);
  o.guard?.check();
  const report: ApplyReport = { fsck: await mustBeClean(loc) };
  if (verity) report.verity = await reformatVerity(loc.path, verity.data, verity.hash);
  o.guard?.check();
  return report;
}

async function mustBeClean(loc: { path: string; offset: number }): Promise<string> {
  const after = await fsckClean(loc);
  if (!after.clean) throw new ToolError('E_FSCK', `e2fsck -fn reports problems after staging:\n${after.output}`);
  return after.output.split('\n').pop() ?? '';
}
