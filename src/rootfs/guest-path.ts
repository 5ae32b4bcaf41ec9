/**
 * Guest path resolution: how the guest kernel walks a path inside its root, done against any
 * rootfs backend (host directory, ext4 image through debugfs, initrd entries). Absolute symlink
 * targets restart at the rootfs root, `..` at the root stays at the root (or is refused, for
 * writers), and more than 40 symlinks is a loop, as in Linux. The result is a list of real
 * component names with no `.`, `..` or symlinks in it, so joining it under the root never leaves
 * the root.
 */
import { InputError, PathEscapeError } from '../errors.js';

export type GuestNodeType = 'file' | 'dir' | 'symlink' | 'other';

export interface GuestNode {
  type: GuestNodeType;
  /** Symlink target, as stored. */
  target?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** What a backend answers: the node named `name` in the real directory `parent` (no symlinks in it). */
export interface GuestLookup {
  lookup(parent: readonly string[], name: string): Promise<GuestNode | undefined>;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component (open/stat), or not (lstat). */
  followLast: boolean;
  /** 'clamp' (the guest's view, for readers) or 'refuse' (writers: PathEscapeError). */
  aboveRoot: 'clamp' | 'refuse';
  /**
   * Called for a missing intermediate directory: return the node that now stands there (a writer
   * creates or plans a directory), or undefined to stop (readers).
   */
  onMissingDir?: (parent: readonly string[], name: string) => Promise<GuestNode | undefined>;
}

export interface ResolvedPath {
  /** Real components from the root, e.g. ['etc', 'ssl', 'certs', 'ca-certificates.crt']. */
  components: string[];
  /** The node at that place, undefined when the last component does not exist. */
  node: GuestNode | undefined;
  /** The symlinks followed on the way, as `guest path → target` (for plans and messages). */
  via: string[];
}

export const MAX_SYMLINKS = 40;

export class SymlinkLoopError extends InputError {
  constructor(guestPath: string) {
    super(
      'E_SYMLINK_LOOP',
      { file: guestPath },
      `more than ${MAX_SYMLINKS} symbolic links while resolving this path in the rootfs (ELOOP)`,
    );
    this.name = 'SymlinkLoopError';
  }
}

export class NotADirectoryError extends InputError {
  constructor(guestPath: string, at: string) {
    super('E_NOT_DIR', { file: guestPath }, `${at} is not a directory in the rootfs`);
    this.name = 'NotADirectoryError';
  }
}

export function guestString(components: readonly string[]): string {
  return `/${components.join('/')}`;
}

/**
 * Checks a guest path that kbs-bundler itself is asked to write (from a bundle or a store): it
 * must be absolute and must not contain `.` or `..` components or NUL bytes.
 */
export function assertPlainGuestPath(guestPath: string, what = 'guest path'): string[] {
  if (!guestPath.startsWith('/')) throw new PathEscapeError(`${what} ${JSON.stringify(guestPath)} is not absolute`);
  if (guestPath.includes('\0')) throw new PathEscapeError(`${what} ${JSON.stringify(guestPath)} contains a NUL byte`);
  const parts = guestPath.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) {
    throw new PathEscapeError(
      `${what} ${JSON.stringify(guestPath)} contains "." or ".." components; refusing to write it into the rootfs`,
    );
  }
  if (parts.length === 0)
    throw new PathEscapeError(`${what} ${JSON.stringify(guestPath)} names the rootfs root itself`);
  return parts;
}

/**
 * Resolves `guestPath` as the guest would. Returns undefined when an intermediate component is
 * missing (and `onMissingDir` does not supply it); throws NotADirectoryError when an intermediate
 * component is a file, SymlinkLoopError on loops, PathEscapeError when `aboveRoot` is 'refuse'
 * and a `..` would climb above the root.
 */
export async function resolveGuestPath(
  fs: GuestLookup,
  guestPath: string,
  options: ResolveOptions,
): Promise<ResolvedPath | undefined> {
  const pending = splitComponents(guestPath);
  const current: string[] = [];
  const via: string[] = [];
  let links = 0;
  let node: GuestNode | undefined = { type: 'dir' };
  while (pending.length > 0) {
    const name = pending.shift() as string;
    const last = pending.length === 0;
    if (name === '.' || name === '') continue;
    if (name === '..') {
      if (current.length === 0) {
        if (options.aboveRoot === 'refuse') {
          throw new PathEscapeError(
            `${guestPath}: resolving it climbs above the rootfs root with ".."${via.length ? ` (via ${via.join(', ')})` : ''}; the guest would stop at /, a host tool would leave the rootfs: refusing to write there`,
          );
        }
      } else {
        current.pop();
      }
      node = { type: 'dir' };
      continue;
    }
    let found = await fs.lookup(current, name);
    if (found === undefined) {
      if (last) return { components: [...current, name], node: undefined, via };
      found = options.onMissingDir ? await options.onMissingDir(current, name) : undefined;
      if (found === undefined) return undefined;
    }
    if (found.type === 'symlink' && (!last || options.followLast)) {
      if (++links > MAX_SYMLINKS) throw new SymlinkLoopError(guestPath);
      const target = found.target ?? '';
      via.push(`${guestString([...current, name])} → ${target}`);
      if (target.startsWith('/')) current.length = 0;
      pending.unshift(...splitComponents(target));
      // A link to "" or "/" resolves to the directory it restarts from.
      node = { type: 'dir' };
      if (pending.length === 0) {
        if (current.length === 0) return { components: [], node: { type: 'dir' }, via };
        const parent = current.slice(0, -1);
        const self = current[current.length - 1] as string;
        return { components: [...current], node: await fs.lookup(parent, self), via };
      }
      continue;
    }
    if (!last && found.type !== 'dir') throw new NotADirectoryError(guestPath, guestString([...current, name]));
    current.push(name);
    node = found;
  }
  return { components: current, node, via };
}

function splitComponents(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}
