/** Every entry under a directory with its type, mode, owner and content digest (or link target). */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

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
