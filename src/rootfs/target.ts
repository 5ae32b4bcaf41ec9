/**
 * A rootfs opened for staging: a read-only view to plan against, and one `apply` that makes the
 * planned changes all or nothing.
 *
 * - directory: journaled writes, rolled back on failure or signal.
 * - ext4 image, as root: planned on a read-only loop mount, applied on a read-write loop mount
 *   (journaled like a directory, always unmounted), then `e2fsck -fn` must be clean.
 * - ext4 image without root or with `noMount`, and every dm-verity image: applied to a sparse copy
 *   beside the image (debugfs batch or loop mount), checked with `e2fsck -fn`, re-hashed with
 *   veritysetup when measured, then renamed over the original: the image is never half-staged.
 * - initrd: one more gzip'd cpio archive appended, written aside and renamed.
 * - `tar`: nothing in the rootfs changes; the changes go into an overlay tarball.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError, ToolError } from '../errors.js';
import type { Change, GuestView } from './changes.js';
import { detectRootfs, type Partition, type RootfsLayout } from './detect.js';
import { applyWithDebugfs } from './debugfs-apply.js';
import { DebugfsView } from './debugfs-view.js';
import { applyToDirectory, directoryView } from './directory-target.js';
import { readInitrd, type InitrdImage } from './initrd.js';
import { appendToInitrd, initrdView } from './initrd-target.js';
import type { Interruption } from './interrupt.js';
import { fsckClean, mountLoop, type LoopMount } from './mount.js';
import { writeOverlayTar } from './tar-target.js';
import { extractErofs, MKFS_EROFS_OPTIONS, rebuildErofsInto } from './erofs.js';
import { isRoot, mustRun } from './tools.js';
import { reformatVerity, type VerityResult } from './verity.js';

export type TargetKind = 'directory' | 'ext4-image' | 'erofs-image' | 'initrd';

export interface TargetOptions {
  /** Write through debugfs even as root. */
  noMount?: boolean;
  /** Allow staging into a dm-verity measured image and re-make its hash tree. */
  reverity?: boolean;
  /** Write an overlay tarball here instead of changing the rootfs. */
  tar?: string;
  /** Allow an erofs image: extract it, stage into the tree, make a new erofs from it. */
  rebuild?: boolean;
  /** Only planning will happen: do not refuse what only applying would break. */
  dryRun?: boolean;
}

export interface ApplyOptions {
  guard?: Interruption;
  onProgress?: (done: number, total: number) => void;
}

export interface ApplyReport {
  verity?: VerityResult;
  fsck?: string;
}

export interface RootfsTarget {
  readonly kind: TargetKind;
  readonly layout: RootfsLayout;
  /** How changes are made, for the plan ("loop mount at offset 3145728", …). */
  readonly method: string;
  readonly view: GuestView;
  /** The measured image's partitions, when it is one. */
  readonly verity?: { data: Partition; hash: Partition };
  readonly initrd?: InitrdImage;
  apply(changes: readonly Change[], options?: ApplyOptions): Promise<ApplyReport>;
  close(): Promise<void>;
}

export const VERITY_REFUSAL =
  'is a dm-verity measured image (partition 2 holds the hash tree): any change to partition 1 makes it fail to boot ("verity: metadata block 0 is corrupted") until the hash tree is re-made and kernel_verity_params updated, and the TEE launch measurement changes with it. Pass --reverity to re-make the hash tree and print the new kernel_verity_params, or deliver these files through the KBS instead';

export const EROFS_REFUSAL =
  'is an erofs image, which is read-only by design: files cannot be added in place. Pass --rebuild to extract it, stage into the tree and make a new erofs filesystem from it (mkfs.erofs -zlz4hc -Enoinline_data, as kata builds it), or do that by hand (fsck.erofs --extract=DIR IMAGE; stage --rootfs DIR; mkfs.erofs NEW.img DIR)';

export async function openRootfsTarget(rootfs: string, options: TargetOptions = {}): Promise<RootfsTarget> {
  const layout = await detectRootfs(rootfs);
  const tarOut = options.tar;
  const withTar = (t: RootfsTarget): RootfsTarget =>
    tarOut === undefined
      ? t
      : {
          ...t,
          method: `overlay tarball ${tarOut}`,
          apply: async (changes) => {
            await writeOverlayTar(tarOut, changes, async (p) =>
              t.view.lookup(p.slice(0, -1), p[p.length - 1] as string),
            );
            return {};
          },
        };
  switch (layout.kind) {
    case 'directory':
      return withTar({
        kind: 'directory',
        layout,
        method: 'directory',
        view: directoryView(layout.path),
        apply: async (changes, o = {}) => {
          await applyToDirectory(layout.path, changes, o);
          return {};
        },
        close: async () => undefined,
      });
    case 'initrd': {
      const image = await readInitrd(layout.path);
      return withTar({
        kind: 'initrd',
        layout,
        method: 'appended gzip newc archive',
        view: initrdView(image),
        initrd: image,
        apply: async (changes) => {
          if (changes.length > 0) await appendToInitrd(layout.path, image, changes);
          return {};
        },
        close: async () => undefined,
      });
    }
    case 'disk-image':
      break;
  }
  const verity = layout.verityHash
    ? { data: { index: 1, type: 0x83, offset: layout.offset, size: layout.size }, hash: layout.verityHash }
    : undefined;
  const planningOnly = Boolean(options.dryRun) || tarOut !== undefined;
  if (layout.fs === 'erofs' && !options.rebuild && !planningOnly)
    throw new InputError('E_ROOTFS_EROFS', { file: rootfs }, EROFS_REFUSAL);
  if (verity && !options.reverity && !planningOnly)
    throw new InputError('E_ROOTFS_VERITY', { file: rootfs }, VERITY_REFUSAL);
  if (layout.fs === 'erofs') {
    const extracted = await extractErofs(layout.path, layout.offset, layout.size);
    return withTar({
      kind: 'erofs-image',
      layout,
      method: `erofs rebuilt from an extracted tree (mkfs.erofs ${MKFS_EROFS_OPTIONS.join(' ')})${layout.offset ? ` into partition 1 at offset ${layout.offset}` : ''}${verity ? ', dm-verity hash tree re-made' : ''}`,
      view: directoryView(extracted.tree),
      ...(verity ? { verity } : {}),
      apply: async (changes, o = {}) => {
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
      },
      close: () => extracted.remove(),
    });
  }
  const fsLoc = { path: layout.path, offset: layout.offset, size: layout.size };
  const before = await fsckClean(fsLoc);
  if (!before.clean) {
    throw new InputError(
      'E_ROOTFS_FSCK',
      { file: rootfs },
      `the ext4 filesystem at offset ${layout.offset} is not clean (e2fsck -fn); repair it first with e2fsck -f '${layout.path}?offset=${layout.offset}'`,
    );
  }
  let useMount = isRoot() && !options.noMount;
  let roMount: LoopMount | undefined;
  let fallback = '';
  if (useMount) {
    try {
      roMount = await mountLoop(fsLoc, 'ro');
    } catch (e) {
      // Root without loop devices (a container, say): debugfs needs none.
      useMount = false;
      fallback = ` (loop mount failed: ${(e as Error).message.split('\n')[0]})`;
    }
  }
  const view: GuestView = roMount ? directoryView(roMount.dir) : new DebugfsView(layout.path, layout.offset);
  const closeView = async () => {
    await roMount?.unmount();
  };
  const method = `${useMount ? 'loop mount' : 'debugfs (no mount)'} at offset ${layout.offset}${verity ? ', dm-verity hash tree re-made' : ''}${fallback}`;

  const apply = async (changes: readonly Change[], o: ApplyOptions = {}): Promise<ApplyReport> => {
    if (changes.length === 0) return {};
    await closeView();
    if (useMount && !verity) {
      const rw = await mountLoop(fsLoc, 'rw');
      try {
        await applyToDirectory(rw.dir, changes, o);
      } finally {
        await rw.unmount();
      }
      return { fsck: await mustBeClean(fsLoc) };
    }
    return onCopy(layout.path, async (copy) => {
      const loc = { ...fsLoc, path: copy };
      o.guard?.check();
      if (useMount) {
        const rw = await mountLoop(loc, 'rw');
        try {
          await applyToDirectory(rw.dir, changes, o);
        } finally {
          await rw.unmount();
        }
      } else {
        await applyWithDebugfs(copy, layout.offset, changes);
      }
      o.guard?.check();
      const fsck = await mustBeClean(loc);
      const report: ApplyReport = { fsck };
      if (verity) report.verity = await reformatVerity(copy, verity.data, verity.hash);
      o.guard?.check();
      return report;
    });
  };

  return withTar({ kind: 'ext4-image', layout, method, view, ...(verity ? { verity } : {}), apply, close: closeView });
}

async function mustBeClean(loc: { path: string; offset: number }): Promise<string> {
  const after = await fsckClean(loc);
  if (!after.clean) throw new ToolError('E_FSCK', `e2fsck -fn reports problems after staging:\n${after.output}`);
  return after.output.split('\n').pop() ?? '';
}

/**
 * Works on a sparse copy beside `image` and renames it over the original only on success. When
 * the image's directory is not writable (an unprivileged user owning only the file), the image is
 * changed in place instead, with a sparse backup in the temporary directory that is copied back
 * if anything fails.
 */
async function onCopy<T>(image: string, fn: (copy: string) => Promise<T>): Promise<T> {
  const copy = path.join(path.dirname(image), `.${path.basename(image)}.kbs-staging-${process.pid}`);
  const cp = (from: string, to: string) =>
    mustRun('cp', ['--sparse=always', '--reflink=auto', '--preserve=mode,ownership', from, to], 'copying the image');
  try {
    await fs.access(path.dirname(image), fs.constants.W_OK);
  } catch {
    return inPlaceWithBackup(image, fn);
  }
  await cp(image, copy);
  try {
    const result = await fn(copy);
    await fs.rename(copy, image);
    return result;
  } catch (e) {
    await fs.rm(copy, { force: true });
    throw e;
  }
}

async function inPlaceWithBackup<T>(image: string, fn: (target: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-backup-'));
  const backup = path.join(dir, 'image');
  try {
    await mustRun('cp', ['--sparse=always', '--reflink=auto', image, backup], 'backing up the image');
    try {
      return await fn(image);
    } catch (e) {
      // conv=notrunc keeps the file (and its owner); the backup has the image's exact length
      await mustRun(
        'dd',
        [`if=${backup}`, `of=${image}`, 'bs=1M', 'conv=notrunc', 'status=none'],
        'restoring the image from its backup',
      );
      throw e;
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
