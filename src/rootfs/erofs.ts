/**
 * erofs is read-only by design: `--rebuild` extracts the filesystem (erofs-utils' `fsck.erofs
 * --extract`, owners and modes preserved), lets staging change the extracted tree like any
 * directory, and makes a new filesystem from it with the options kata's image_builder uses
 * (`mkfs.erofs -zlz4hc -Enoinline_data`), which then replaces the old one: the whole file for a
 * bare image, partition 1 (it must still fit) for a disk image.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../errors.js';
import { mustRun } from './tools.js';

export const MKFS_EROFS_OPTIONS = ['-zlz4hc', '-Enoinline_data'];

export interface ExtractedErofs {
  /** Where the tree was extracted. */
  tree: string;
  remove(): Promise<void>;
}

export async function extractErofs(image: string, offset: number, size: number): Promise<ExtractedErofs> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-erofs-'));
  const remove = () => fs.rm(tmp, { recursive: true, force: true });
  try {
    let fsImage = image;
    if (offset !== 0) {
      fsImage = path.join(tmp, 'fs.erofs');
      await pipeline(createReadStream(image, { start: offset, end: offset + size - 1 }), createWriteStream(fsImage));
    }
    const tree = path.join(tmp, 'tree');
    await mustRun(
      'fsck.erofs',
      [`--extract=${tree}`, '--preserve', image === fsImage ? image : fsImage],
      `extracting the erofs filesystem of ${image}`,
    );
    if (fsImage !== image) await fs.rm(fsImage);
    return { tree, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/**
 * Makes an erofs filesystem from `tree` and writes it into `copy` (a copy of the image): as the
 * whole file (bare) or at `offset`, zero-filling the rest of a partition of `size` bytes.
 */
export async function rebuildErofsInto(
  copy: string,
  tree: string,
  layout: { offset: number; size: number; bare: boolean },
): Promise<number> {
  const out = path.join(path.dirname(tree), 'new.erofs');
  await mustRun('mkfs.erofs', ['--quiet', ...MKFS_EROFS_OPTIONS, out, tree], 'making the new erofs filesystem');
  const built = (await fs.stat(out)).size;
  if (layout.bare) {
    await fs.copyFile(out, copy);
    return built;
  }
  if (built > layout.size) {
    throw new InputError(
      'E_EROFS_TOO_BIG',
      { file: copy },
      `the rebuilt erofs filesystem (${built} bytes) does not fit partition 1 (${layout.size} bytes)`,
    );
  }
  const handle = await fs.open(copy, 'r+');
  try {
    const data = await fs.readFile(out);
    await handle.write(data, 0, data.length, layout.offset);
    const zeros = Buffer.alloc(1024 * 1024);
    for (let at = built; at < layout.size; at += zeros.length) {
      const n = Math.min(zeros.length, layout.size - at);
      await handle.write(zeros, 0, n, layout.offset + at);
    }
  } finally {
    await handle.close();
  }
  return built;
}
