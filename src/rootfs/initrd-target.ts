/**
 * Staging into an initrd without unpacking it: the new files (and every parent directory, with
 * the mode and owner it already has) go into one more gzip'd newc archive appended after the
 * original bytes, which stay untouched in front. The kernel unpacks archives in order, so the
 * appended entries win. The new initrd is written aside and renamed into place.
 */
import { promises as fs } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { realPath, type Change, type GuestView } from './changes.js';
import { writeNewc, type NewEntry } from './cpio.js';
import { typeFromMode } from './debugfs.js';
import type { InitrdImage } from './initrd.js';
import { writeFileAtomic } from '../util/atomic.js';
import { asPromise } from '../util/as-promise.js';

export function initrdView(image: InitrdImage): GuestView {
  return {
    lookup: (parent, name) => image.lookup(parent, name),
    read: (p) => asPromise(() => Buffer.from(image.entry(p.join('/'))?.data ?? Buffer.alloc(0))),
    list: (p) => asPromise(() => image.children(p.join('/')) ?? []),
  };
}

/** The archive that carries `changes` (mkdir and write only). */
export function overlayArchive(image: InitrdImage, changes: readonly Change[]): Buffer {
  const entries = new Map<string, NewEntry>();
  const addParents = (p: readonly string[]) => {
    for (let i = 1; i < p.length; i++) {
      const name = p.slice(0, i).join('/');
      if (entries.has(name)) continue;
      const existing = image.entry(name);
      const mode = existing && typeFromMode(existing.mode) === 'dir' ? existing.mode : 0o040755;
      entries.set(name, { name, mode, uid: existing?.uid ?? 0, gid: existing?.gid ?? 0 });
    }
  };
  for (const c of changes) {
    if (c.op === 'remove' || c.op === 'rmdir') {
      throw new InputError(
        'E_INITRD_REMOVE',
        { file: image.file },
        `cannot remove ${realPath(c.path)} from an initrd by appending; unstage truncates the appended archive instead`,
      );
    }
    addParents(c.path);
    const name = c.path.join('/');
    if (c.op === 'mkdir') entries.set(name, { name, mode: 0o040000 | c.mode });
    else entries.set(name, { name, mode: 0o100000 | c.mode, data: c.data });
  }
  const sorted = [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return gzipSync(writeNewc(sorted, 0x4b420000), { level: 9 });
}

/** Writes original bytes + the overlay archive to the initrd, atomically. */
export async function appendToInitrd(
  file: string,
  image: InitrdImage,
  changes: readonly Change[],
): Promise<{ appendedBytes: number }> {
  const original = await fs.readFile(file);
  if (original.length !== image.size)
    throw new InputError('E_ROOTFS_CHANGED', { file }, 'changed while staging; run again');
  const archive = overlayArchive(image, changes);
  const st = await fs.stat(file);
  await writeFileAtomic(file, Buffer.concat([original, archive]), st.mode & 0o7777);
  return { appendedBytes: archive.length };
}
