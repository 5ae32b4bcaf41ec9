/**
 * Changing a disk image all or nothing: work on a sparse copy beside the image file and rename it
 * over the original only on success. The copy is made beside the real file (a symlinked image keeps
 * its link), and must carry the image's owner, group and mode; when it cannot (the directory is not
 * writable, or this user cannot give the copy the image's owner), the image is changed in place
 * instead, with a sparse backup in the temporary directory that is copied back if anything fails.
 */
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mustRun } from './tools.js';

/** `image` must already be the real file (symlinks resolved). */
export async function onCopy<T>(image: string, fn: (copy: string) => Promise<T>): Promise<T> {
  const copy = path.join(path.dirname(image), `.${path.basename(image)}.kbs-staging-${process.pid}`);
  if (!(await writable(path.dirname(image)))) return inPlaceWithBackup(image, fn);
  await mustRun(
    'cp',
    ['--sparse=always', '--reflink=auto', '--preserve=mode,ownership', image, copy],
    'copying the image',
  );
  if (!sameOwnerAndMode(image, copy)) {
    await fs.rm(copy, { force: true });
    return inPlaceWithBackup(image, fn);
  }
  try {
    const result = await fn(copy);
    await fs.rename(copy, image);
    return result;
  } catch (e) {
    await fs.rm(copy, { force: true });
    throw e;
  }
}

async function writable(p: string): Promise<boolean> {
  try {
    await fs.access(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** cp --preserve=ownership quietly keeps the copier's uid when it may not chown (a non-root user). */
function sameOwnerAndMode(a: string, b: string): boolean {
  const x = fsSync.statSync(a);
  const y = fsSync.statSync(b);
  return x.uid === y.uid && x.gid === y.gid && x.mode === y.mode;
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
