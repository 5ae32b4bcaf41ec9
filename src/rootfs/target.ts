/**
 * A rootfs opened for staging: a read-only view to plan against, and one `apply` that makes the
 * planned changes all or nothing.
 *
 * - directory: journaled writes, rolled back on failure or signal.
 * - ext4 image, as root: planned on a read-only loop mount, applied on a read-write loop mount
 *   (journaled like a directory, always unmounted), then `e2fsck -fn` must be clean.
 * - ext4 image without root or with `noMount`, and every dm-verity image: applied to a sparse copy
 *   beside the image (debugfs batch or loop mount), checked with `e2fsck -fn`, re-hashed with
 *   veritysetup when measured, then renamed over the original: the image is never half-staged
 *   (image-target.ts, image-copy.ts).
 * - initrd: one more gzip'd cpio archive appended, written aside and renamed.
 * - `tar`: nothing in the rootfs changes; the changes go into an overlay tarball.
 *
 * Before anything is read for planning, the rootfs is locked (lock.ts), and an image must be
 * writable by this user (when changes will be made) and neither loop-attached nor mounted
 * (image-in-use.ts). A symlinked image is worked on through its real file, so the link stays.
 */
import { promises as fs } from 'node:fs';
import { InputError } from '../errors.js';
import type { Change, GuestView } from './changes.js';
import { detectRootfs, type Partition, type RootfsLayout } from './detect.js';
import { applyToDirectory, directoryView } from './directory-target.js';
import { describeImageUsers, findImageUsers } from './image-in-use.js';
import { openErofsTarget, openExt4Target, verityOf } from './image-target.js';
import { readInitrd, type InitrdImage } from './initrd.js';
import { appendToInitrd, initrdView } from './initrd-target.js';
import type { Interruption } from './interrupt.js';
import { lockRootfs } from './lock.js';
import { writeOverlayTar } from './tar-target.js';
import type { VerityResult } from './verity.js';

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
  /**
   * Whether `apply` changes the rootfs in place, one file after another (a directory, a loop mount
   * of the image itself), so that a crash can leave part of the changes: then stage writes its
   * intent first (stage/intent.ts). Otherwise the changes appear all at once by a rename.
   */
  readonly inPlace: boolean;
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
  const planningOnly = Boolean(options.dryRun) || options.tar !== undefined;
  if (layout.kind === 'disk-image') {
    refuseUnlessAllowed(rootfs, layout, options, planningOnly);
    if (!planningOnly) await mustBeWritable(rootfs, layout.path);
  }
  const lock = await lockRootfs(layout.path, rootfs);
  try {
    if (layout.kind === 'disk-image') refuseInUse(rootfs, layout.path);
    const target = await openByKind(rootfs, layout, options);
    const withTar = options.tar === undefined ? target : overlayTarTarget(target, options.tar);
    return {
      ...withTar,
      close: async () => {
        try {
          await withTar.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function openByKind(rootfs: string, layout: RootfsLayout, options: TargetOptions): Promise<RootfsTarget> {
  switch (layout.kind) {
    case 'directory':
      return openDirectoryTarget(layout);
    case 'initrd':
      return openInitrdTarget(layout);
    case 'disk-image':
      return layout.fs === 'erofs' ? openErofsTarget(layout) : openExt4Target(rootfs, layout, options);
  }
}

function openDirectoryTarget(layout: Extract<RootfsLayout, { kind: 'directory' }>): RootfsTarget {
  return {
    kind: 'directory',
    layout,
    method: 'directory',
    view: directoryView(layout.path),
    inPlace: true,
    apply: async (changes, o = {}) => {
      await applyToDirectory(layout.path, changes, o);
      return {};
    },
    close: () => Promise.resolve(),
  };
}

async function openInitrdTarget(layout: Extract<RootfsLayout, { kind: 'initrd' }>): Promise<RootfsTarget> {
  const image = await readInitrd(layout.path);
  return {
    kind: 'initrd',
    layout,
    method: 'appended gzip newc archive',
    view: initrdView(image),
    inPlace: false,
    initrd: image,
    apply: async (changes) => {
      if (changes.length > 0) await appendToInitrd(layout.path, image, changes);
      return {};
    },
    close: () => Promise.resolve(),
  };
}

/** `--tar`: the same view, but the changes go into an overlay tarball. */
function overlayTarTarget(t: RootfsTarget, tarOut: string): RootfsTarget {
  return {
    ...t,
    method: `overlay tarball ${tarOut}`,
    inPlace: false,
    apply: async (changes) => {
      await writeOverlayTar(tarOut, changes, async (p) => t.view.lookup(p.slice(0, -1), p[p.length - 1] as string));
      return {};
    },
  };
}

type DiskLayout = Extract<RootfsLayout, { kind: 'disk-image' }>;

function refuseUnlessAllowed(rootfs: string, layout: DiskLayout, options: TargetOptions, planningOnly: boolean): void {
  if (planningOnly) return;
  if (layout.fs === 'erofs' && !options.rebuild)
    throw new InputError('E_ROOTFS_EROFS', { file: rootfs }, EROFS_REFUSAL);
  if (verityOf(layout) && !options.reverity) throw new InputError('E_ROOTFS_VERITY', { file: rootfs }, VERITY_REFUSAL);
}

/**
 * Every way of changing an image ends by writing the image file (in place, or renaming a copy over
 * it, which keeps owner and mode only when the copy can have them): without write permission on
 * it, nothing is tried and no backup is made.
 */
async function mustBeWritable(rootfs: string, real: string): Promise<void> {
  try {
    await fs.access(real, fs.constants.W_OK);
  } catch (e) {
    const st = await fs.stat(real);
    const why =
      (e as NodeJS.ErrnoException).code === 'EROFS' ? 'is on a read-only filesystem' : 'is not writable by this user';
    throw new InputError(
      'E_ROOTFS_NOT_WRITABLE',
      { file: rootfs },
      `${why} (owner uid ${st.uid}, gid ${st.gid}, mode 0${(st.mode & 0o7777).toString(8)}, running as uid ${process.getuid?.() ?? '?'}); run stage as its owner or as root, or stage into a copy you own`,
    );
  }
}

function refuseInUse(rootfs: string, real: string): void {
  const users = findImageUsers(real);
  if (users.length > 0) throw new InputError('E_ROOTFS_IN_USE', { file: rootfs }, describeImageUsers(users));
}
