/** Test utilities for build tests: snapshot a directory tree (paths, types, modes, bytes) and copy the example. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEMPLATES } from '../helpers/paths.js';

/** `relative path → "d 755" | "f 644 <sha256>"`, sorted; {} when the directory does not exist. */
export async function treeSnapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const st = await fs.lstat(path.join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (e.isDirectory()) {
        out[r] = `d ${mode}`;
        await walk(r);
      } else {
        out[r] = `f ${mode} ${createHash('sha256')
          .update(await fs.readFile(path.join(dir, r)))
          .digest('hex')}`;
      }
    }
  };
  await walk('');
  return out;
}

/** Files only: `relative path → bytes`. */
export async function treeFiles(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const [rel, kind] of Object.entries(await treeSnapshot(dir))) {
    if (kind.startsWith('f ')) out[rel] = await fs.readFile(path.join(dir, rel));
  }
  return out;
}

/** A private copy of templates/example in a fresh temporary directory; returns that directory. */
export async function copyExample(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-build-'));
  await fs.cp(path.join(TEMPLATES, 'example'), path.join(dir, 'example'), { recursive: true });
  return path.join(dir, 'example');
}
