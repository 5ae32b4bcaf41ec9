/**
 * The repository tree as a deterministic tarball: sorted entries, fixed mtime (SOURCE_DATE_EPOCH
 * or the epoch), modes kept, owner root (uid/gid 0). Same resources → same bytes.
 */
import type { KbsResource } from './render.js';
import { layoutDirs, layoutPath, type Layout } from './layout.js';
import { compare } from './render.js';

export function fixedMtime(env: NodeJS.ProcessEnv = process.env): Date {
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  return Number.isInteger(epoch) && epoch >= 0 ? new Date(epoch * 1000) : new Date(0);
}

/**
 * The tarball as a stream of chunks: entries reference the resources' bytes (no copies) and the
 * archive is never assembled in memory; `build --tar` writes it straight to the file. tar-stream
 * is loaded here, on first use, not by every build.
 */
export async function* tarballStream(
  resources: readonly KbsResource[],
  layout: Layout,
  mtime: Date,
): AsyncIterable<Uint8Array> {
  const { pack } = await import('tar-stream');
  const p = pack();
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime };
  const entries: Array<{ name: string; dir: boolean; mode: number; bytes?: Uint8Array }> = [
    ...layoutDirs(resources, layout).map((d) => ({ name: `${d}/`, dir: true, mode: 0o755 })),
    ...resources.map((r) => ({ name: layoutPath(r.id, layout), dir: false, mode: r.mode, bytes: r.bytes })),
  ].sort((a, b) => compare(a.name, b.name));
  for (const e of entries) {
    if (e.dir) p.entry({ ...owner, name: e.name, type: 'directory', mode: e.mode });
    else
      p.entry(
        { ...owner, name: e.name, type: 'file', mode: e.mode, size: e.bytes!.length },
        Buffer.from(e.bytes!.buffer, e.bytes!.byteOffset, e.bytes!.byteLength),
      );
  }
  p.finalize();
  yield* p as unknown as AsyncIterable<Uint8Array>;
}

export async function tarballBytes(resources: readonly KbsResource[], layout: Layout, mtime: Date): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of tarballStream(resources, layout, mtime)) chunks.push(c);
  return Buffer.concat(chunks);
}
