/**
 * What staging does to a rootfs, after every guest path has been resolved: real component lists
 * (no symlinks, no `..`), so a backend only creates, replaces or removes exactly these entries.
 */
import type { GuestLookup } from './guest-path.js';

export type Change =
  | { op: 'mkdir'; path: readonly string[]; mode: number }
  | { op: 'write'; path: readonly string[]; data: Uint8Array; mode: number; replaces: boolean }
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
  /** Optional hint: the regular files at these real paths will be read (lets a backend batch). */
  prefetchFiles?(paths: readonly string[]): Promise<void>;
}

export function realPath(path: readonly string[]): string {
  return `/${path.join('/')}`;
}

/** Orders changes so that parents exist before children and go after them on removal. */
export function orderChanges(changes: readonly Change[]): Change[] {
  const depth = (c: Change) => c.path.length;
  const mkdirs = changes.filter((c) => c.op === 'mkdir').sort((a, b) => depth(a) - depth(b));
  const writes = changes.filter((c) => c.op === 'write');
  const removes = changes.filter((c) => c.op === 'remove');
  const rmdirs = changes.filter((c) => c.op === 'rmdir').sort((a, b) => depth(b) - depth(a));
  return [...mkdirs, ...writes, ...removes, ...rmdirs];
}
