/**
 * `--tar FILE`: the staged files as an overlay tarball (real paths, parent directories included,
 * owner root, fixed mtime), for extracting onto the rootfs elsewhere (`tar -xpf FILE -C rootfs`).
 * Streamed to a temporary name and renamed into place.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../errors.js';
import { realPath, type Change } from './changes.js';
import type { GuestNode } from './guest-path.js';

export async function writeOverlayTar(
  out: string,
  changes: readonly Change[],
  existingDir: (p: readonly string[]) => Promise<GuestNode | undefined>,
): Promise<void> {
  const entries = new Map<
    string,
    { type: 'directory' | 'file'; mode: number; uid: number; gid: number; data?: Uint8Array }
  >();
  for (const c of changes) {
    if (c.op === 'remove' || c.op === 'rmdir')
      throw new InputError('E_TAR_REMOVE', { file: out }, `an overlay tarball cannot remove ${realPath(c.path)}`);
    for (let i = 1; i < c.path.length; i++) {
      const name = c.path.slice(0, i).join('/');
      if (entries.has(name)) continue;
      const node = await existingDir(c.path.slice(0, i));
      entries.set(name, { type: 'directory', mode: node?.mode ?? 0o755, uid: node?.uid ?? 0, gid: node?.gid ?? 0 });
    }
    const name = c.path.join('/');
    if (c.op === 'mkdir') entries.set(name, { type: 'directory', mode: c.mode, uid: 0, gid: 0 });
    else entries.set(name, { type: 'file', mode: c.mode, uid: 0, gid: 0, data: c.data });
  }
  const names = [...entries.keys()].sort();
  const tmp = path.join(
    path.dirname(path.resolve(out)),
    `.${path.basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const { pack: newPack } = await import('tar-stream'); // only for --tar: a stage into a rootfs does not load it
  const pack = newPack();
  const done = pipeline(pack, createWriteStream(tmp, { mode: 0o644 }));
  try {
    for (const name of names) {
      const e = entries.get(name)!;
      const header = {
        name: e.type === 'directory' ? `${name}/` : name,
        type: e.type,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        uname: 'root',
        gname: 'root',
        mtime: new Date(0),
      };
      await new Promise<void>((resolve, reject) => {
        const cb = (err?: Error | null) => (err ? reject(err) : resolve());
        if (e.type === 'file') pack.entry({ ...header, size: e.data!.length }, Buffer.from(e.data!), cb);
        else pack.entry(header, cb);
      });
    }
    pack.finalize();
    await done;
    await fs.rename(tmp, out);
  } catch (e) {
    pack.destroy();
    await fs.rm(tmp, { force: true });
    // The error of the rename names the temporary file; the user named `out`.
    const err = e as NodeJS.ErrnoException;
    if (err.path === tmp) err.path = out;
    throw e;
  }
}
