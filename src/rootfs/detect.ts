/**
 * What a `--rootfs PATH` is, decided from its bytes (never its name): a directory, a disk image
 * (bare ext4 or erofs, or an MBR disk whose partition 1 holds it, as kata's image_builder makes
 * them, with a second partition when it is a dm-verity measured image), or an initrd (newc cpio,
 * gzip'd or not, possibly several archives one after the other).
 */
import { promises as fs } from 'node:fs';
import { FileNotFoundError, InputError } from '../errors.js';

export const SECTOR_SIZE = 512;
const EXT4_MAGIC_OFFSET = 0x438;
const EROFS_MAGIC_OFFSET = 0x400;
const EROFS_MAGIC = Buffer.from([0xe2, 0xe1, 0xf5, 0xe0]);

export interface Partition {
  index: number;
  type: number;
  offset: number;
  size: number;
}

export type FilesystemType = 'ext4' | 'erofs';

export type RootfsLayout =
  | { kind: 'directory'; path: string }
  | {
      kind: 'disk-image';
      /** The real file (symlinks resolved), as for an initrd. */
      path: string;
      fs: FilesystemType;
      /** Byte offset of the filesystem (0 for a bare image). */
      offset: number;
      /** Size of the partition holding it (the file size for a bare image). */
      size: number;
      /** Partition table entries (empty for a bare image). */
      partitions: Partition[];
      /** The dm-verity hash partition of a measured image. */
      verityHash?: Partition;
    }
  | { kind: 'initrd'; path: string; compressed: boolean };

export async function detectRootfs(path: string): Promise<RootfsLayout> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (e) {
    throw new FileNotFoundError(path, 'rootfs', { cause: e });
  }
  if (stat.isDirectory()) return { kind: 'directory', path };
  if (!stat.isFile() && !stat.isBlockDevice())
    throw new InputError('E_ROOTFS_KIND', { file: path }, 'is neither a directory, a disk image nor an initrd');
  // A symlinked image (kata-deploy's kata-containers.img) is changed through its real file, so the link stays.
  const real = await fs.realpath(path);
  const handle = await fs.open(real, 'r');
  try {
    const size = stat.isFile() ? stat.size : Number.MAX_SAFE_INTEGER;
    const readAt = async (offset: number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    };
    const head = await readAt(0, 4096);
    const fsAt = async (offset: number): Promise<FilesystemType | undefined> => {
      const ext = await readAt(offset + EXT4_MAGIC_OFFSET, 2);
      if (ext.length === 2 && ext.readUInt16LE(0) === 0xef53) return 'ext4';
      const ero = await readAt(offset + EROFS_MAGIC_OFFSET, 4);
      if (ero.equals(EROFS_MAGIC)) return 'erofs';
      return undefined;
    };
    const bare = await fsAt(0);
    if (bare) return { kind: 'disk-image', path: real, fs: bare, offset: 0, size, partitions: [] };
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)
      return { kind: 'initrd', path: real, compressed: true };
    if (head.subarray(0, 5).toString('latin1') === '07070') return { kind: 'initrd', path: real, compressed: false };
    if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) {
      const partitions = readMbr(head);
      if (partitions.some((p) => p.type === 0xee)) {
        throw new InputError(
          'E_ROOTFS_GPT',
          { file: path },
          'is a GPT disk; kata guest images use an MBR (msdos) table, GPT is not supported',
        );
      }
      const first = partitions.find((p) => p.index === 1);
      if (first) {
        const type = await fsAt(first.offset);
        if (!type) {
          throw new InputError(
            'E_ROOTFS_KIND',
            { file: path },
            `partition 1 (at byte ${first.offset}) holds neither ext4 nor erofs (xfs and others are not supported)`,
          );
        }
        const second = partitions.find((p) => p.index === 2);
        return {
          kind: 'disk-image',
          path: real,
          fs: type,
          offset: first.offset,
          size: first.size,
          partitions,
          ...(second ? { verityHash: second } : {}),
        };
      }
    }
    if (head.subarray(0, 4).toString('latin1') === 'XFSB') {
      throw new InputError(
        'E_ROOTFS_KIND',
        { file: path },
        'is an xfs image; only ext4 (writable), erofs and initrd are supported',
      );
    }
    throw new InputError(
      'E_ROOTFS_KIND',
      { file: path },
      'is not a directory, an ext4/erofs disk image (bare or MBR) or an initrd (newc cpio, gzip or plain)',
    );
  } finally {
    await handle.close();
  }
}

/** The four primary entries of an MBR (sector size 512); empty entries are left out. */
export function readMbr(sector0: Buffer): Partition[] {
  const out: Partition[] = [];
  for (let i = 0; i < 4; i++) {
    const e = 0x1be + i * 16;
    const type = sector0[e + 4] as number;
    const start = sector0.readUInt32LE(e + 8);
    const count = sector0.readUInt32LE(e + 12);
    if (type === 0 || count === 0) continue;
    out.push({ index: i + 1, type, offset: start * SECTOR_SIZE, size: count * SECTOR_SIZE });
  }
  return out;
}

/** The `img?offset=N` spec e2fsprogs (debugfs, e2fsck) accepts. */
export function e2fsSpec(layout: { path: string; offset: number }): string {
  if (layout.path.includes('?'))
    throw new InputError(
      'E_ROOTFS_PATH',
      { file: layout.path },
      'an image path containing "?" cannot be given to e2fsprogs; rename it',
    );
  return `${layout.path}?offset=${layout.offset}`;
}
