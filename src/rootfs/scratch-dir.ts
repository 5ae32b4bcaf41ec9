/**
 * A private temporary directory for short-lived copies of file data that another program reads
 * (debugfs `write` takes its data from a local file). Memory-backed when a tmpfs has room for it:
 * creating and removing thousands of small files on a disk-backed /tmp costs far more kernel time
 * than on tmpfs, and the data never needs to reach a disk.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TMPFS_MAGIC = 0x01021994;
/** Room left free on a tmpfs (it is shared memory: other programs need it too). */
const HEADROOM_BYTES = 16 * 1024 * 1024;
const PAGE = 4096;

/** Bytes a tmpfs needs for files of these sizes (each file takes whole pages). */
export function tmpfsBytes(sizes: Iterable<number>): number {
  let total = 0;
  for (const size of sizes) total += Math.max(1, Math.ceil(size / PAGE)) * PAGE;
  return total;
}

async function hasRoom(dir: string, bytes: number, files: number): Promise<boolean> {
  try {
    const st = await fs.statfs(dir);
    return st.type === TMPFS_MAGIC && st.bavail * st.bsize >= bytes + HEADROOM_BYTES && st.ffree >= files * 2;
  } catch {
    return false;
  }
}

/**
 * Makes a 0700 directory named `prefix…` for `files` files of `bytes` in all: under
 * $XDG_RUNTIME_DIR or /dev/shm when either is a tmpfs with room and writable, else under the
 * system temporary directory. The caller removes it.
 */
export async function makeScratchDir(prefix: string, bytes: number, files: number): Promise<string> {
  const candidates = [process.env.XDG_RUNTIME_DIR, '/dev/shm'].filter((d): d is string => Boolean(d));
  for (const dir of candidates) {
    if (!(await hasRoom(dir, bytes, files))) continue;
    try {
      return await fs.mkdtemp(path.join(dir, prefix));
    } catch {
      // not writable for this user: try the next one
    }
  }
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}
