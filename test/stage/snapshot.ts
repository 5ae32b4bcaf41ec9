/** Every entry under a directory with its type, mode, owner and content digest (or link target). */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { run, tempDir } from '../rootfs/images.js';

export async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const st = await fs.lstat(abs);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out[r] = `link ${await fs.readlink(abs)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${meta}`;
        await walk(r);
      } else
        out[r] = `file ${meta} ${createHash('sha256')
          .update(await fs.readFile(abs))
          .digest('hex')}`;
    }
  };
  await walk('');
  return out;
}

/** snapshot() of the tree inside an ext4 image, read through a read-only loop mount (root only). */
export async function snapshotImage(img: string): Promise<Record<string, string>> {
  const dir = await tempDir('kbs-image-view-');
  await run('mount', ['-t', 'ext4', '-o', 'loop,ro,noload', img, dir]);
  try {
    return await snapshot(dir);
  } finally {
    await run('umount', [dir]);
    await fs.rmdir(dir);
  }
}
