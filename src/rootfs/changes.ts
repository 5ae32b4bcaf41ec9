/**
 * What staging does to a rootfs, after every guest path has been resolved: real component lists
 * (no symlinks, no `..`), so a backend only creates, replaces or removes exactly these entries.
 */
import type { GuestLookup } from './guest-path.js';

export type Change =
  | { op: 'mkdir'; path: readonly string[]; mode: number }
  | {
      op: 'write';
      path: readonly string[];
      data: Uint8Array;
      mode: number;
      replaces: boolean;
      /** Written aside and renamed into place even where nothing is replaced (a crash never leaves half of it). */
      atomic?: boolean;
      /** Made before every other change (stage's intent), in the order given. */
      first?: boolean;
      /** Made after every other change (the record that says staging finished). */
      last?: boolean;
    }
  | { op: 'remove'; path: readonly string[] }
  | { op: 'rmdir'; path: readonly string[] };

/** A read-only view of a rootfs by real paths (what planning needs). */
export interface GuestView extends GuestLookup {
  /** Bytes of the regular file at a real path. */
  read(path: readonly string[]): Promise<Buffer>;
  /** Names in the directory at a real path. */
  list(path: readonly string[]): Promise<string[]>;
  /** Optional hint: these real directory paths will be looked at (lets a backend batch). */
  prefetch?(dirs: readonly string[]): Promise<void>;
}

export function realPath(path: readonly string[]): string {
  return `/${path.join('/')}`;
}

/**
 * Orders changes so that parents exist before children and go after them on removal. Writes
 * marked `first` go before all but the directories they need, in the order given; writes marked
 * `last` go after everything.
 */
export function orderChanges(changes: readonly Change[]): Change[] {
  const depth = (c: Change) => c.path.length;
  const firsts = changes.filter((c) => c.op === 'write' && c.first);
  const lasts = changes.filter((c) => c.op === 'write' && c.last && !c.first);
  const firstDirs = new Set(
    firsts.flatMap((c) => c.path.slice(0, -1).map((_n, i) => c.path.slice(0, i + 1).join('/'))),
  );
  const isFirstDir = (c: Change) => firstDirs.has(c.path.join('/'));
  const mkdirs = changes.filter((c) => c.op === 'mkdir').sort((a, b) => depth(a) - depth(b));
  if (firsts.length > 0 || lasts.length > 0) {
    const writes = changes.filter((c) => c.op === 'write' && !c.first && !c.last);
    const removes = changes.filter((c) => c.op === 'remove');
    const rmdirs = changes.filter((c) => c.op === 'rmdir').sort((a, b) => depth(b) - depth(a));
    return [
      ...mkdirs.filter(isFirstDir),
      ...firsts,
      ...mkdirs.filter((c) => !isFirstDir(c)),
      ...writes,
      ...removes,
      ...rmdirs,
      ...lasts,
    ];
  }
  const writes = changes.filter((c) => c.op === 'write');
  const removes = changes.filter((c) => c.op === 'remove');
  const rmdirs = changes.filter((c) => c.op === 'rmdir').sort((a, b) => depth(b) - depth(a));
  return [...mkdirs, ...writes, ...removes, ...rmdirs];
}
