/**
 * Loop-mounting the filesystem of a disk image at its offset (root only). Whoever mounts
 * unmounts in `finally`, so errors and signals (see interrupt.ts) never leave a mount behind.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ToolError } from '../errors.js';
import { mustRun, runTool } from './tools.js';

export interface FsLocation {
  path: string;
  offset: number;
  size: number;
}

export interface LoopMount {
  dir: string;
  unmount(): Promise<void>;
}

export async function mountLoop(image: FsLocation, mode: 'ro' | 'rw'): Promise<LoopMount> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-mnt-'));
  const opts = ['loop', mode, `offset=${image.offset}`, `sizelimit=${image.size}`];
  if (mode === 'ro') opts.push('noload');
  try {
    await mustRun(
      'mount',
      ['-t', 'ext4', '-o', opts.join(','), image.path, dir],
      `mounting ${image.path} at offset ${image.offset}`,
    );
  } catch (e) {
    await fs.rmdir(dir).catch(() => undefined);
    throw e;
  }
  let mounted = true;
  return {
    dir,
    async unmount() {
      if (!mounted) return;
      // No `sync -f` first: umount itself writes back everything before it returns.
      for (let attempt = 0; ; attempt++) {
        const r = await runTool('umount', [dir]);
        if (r.code === 0) break;
        if (attempt >= 4)
          throw new ToolError('E_UMOUNT', `could not unmount ${dir} (${r.stderr.trim()}); run: umount ${dir}`);
        await new Promise((res) => setTimeout(res, 200 * (attempt + 1)));
      }
      mounted = false;
      await fs.rmdir(dir).catch(() => undefined);
    },
  };
}

export async function withLoopMount<T>(
  image: FsLocation,
  mode: 'ro' | 'rw',
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const m = await mountLoop(image, mode);
  try {
    return await fn(m.dir);
  } finally {
    await m.unmount();
  }
}

/** `e2fsck -fn` at the offset; exit status 0 means clean. */
export async function fsckClean(image: { path: string; offset: number }): Promise<{ clean: boolean; output: string }> {
  const r = await runTool('e2fsck', ['-fn', `${image.path}?offset=${image.offset}`]);
  return { clean: r.code === 0, output: (r.stdout + r.stderr).trim() };
}
