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
  /** `last`: made after every other change (the record unstage removes), directories after files. */
  | { op: 'remove'; path: readonly string[]; last?: boolean }
  | { op: 'rmdir'; path: readonly string[]; last?: boolean };

/** A read-only view of a rootfs by real paths (what planning needs). */
export interface GuestView extends GuestLookup {
  /** Bytes of the regular file at a real path. */
  read(path: readonly string[]): Promise<Buffer>;
  /** Names in the directory at a real path. */
  list(path: readonly string[]): Promise<string[]>;
  /** Optional hint: these real directory paths will be looked at (lets a backend batch). */
  prefetch?(dirs: readonly string[]): Promise<void>;
  /** Optional hint: the regular files at these real paths will be read (lets a backend batch). */
  prefetchFiles?(paths: readonly string[]): Promise<void>;
}

export function realPath(path: readonly string[]): string {
  return `/${path.join('/')}`;
}

/**
 * Orders changes so that parents exist before children and go after them on removal. Writes
 * marked `first` go before all but the directories they need, in the order given; changes marked
 * `last` go after everything else, removals deepest first.
 */
export function orderChanges(changes: readonly Change[]): Change[] {
  const depth = (c: Change) => c.path.length;
  const byOp = (op: Change['op'], list: readonly Change[]) => list.filter((c) => c.op === op);
  const firsts = changes.filter((c) => c.op === 'write' && c.first);
  const lasts = changes.filter((c) => c.op !== 'mkdir' && c.last && !(c.op === 'write' && c.first));
  const rest = changes.filter((c) => !firsts.includes(c) && !lasts.includes(c));
  const firstDirs = new Set(
    firsts.flatMap((c) => c.path.slice(0, -1).map((_n, i) => c.path.slice(0, i + 1).join('/'))),
  );
  const isFirstDir = (c: Change) => firstDirs.has(c.path.join('/'));
  const mkdirs = byOp('mkdir', rest).sort((a, b) => depth(a) - depth(b));
  const rmdirs = (list: readonly Change[]) => byOp('rmdir', list).sort((a, b) => depth(b) - depth(a));
  return [
    ...mkdirs.filter(isFirstDir),
    ...firsts,
    ...mkdirs.filter((c) => !isFirstDir(c)),
    ...byOp('write', rest),
    ...byOp('remove', rest),
    ...rmdirs(rest),
    ...byOp('write', lasts),
    ...byOp('remove', lasts),
    ...rmdirs(lasts),
  ];
}
