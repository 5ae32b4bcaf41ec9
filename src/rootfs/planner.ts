/**
 * The confined writer's planning half: resolves guest paths for writing against a read-only view
 * of the rootfs, as the guest resolves them but refusing any `..` that would climb above the root,
 * plans the directories that are missing, and tells create / replace / skip for each file. It
 * never touches the rootfs; the resulting Change list goes to a backend.
 */
import { InputError, PathEscapeError } from '../errors.js';
import { realPath, type Change, type GuestView } from './changes.js';
import { assertPlainGuestPath, guestString, NotADirectoryError, resolveGuestPath, type GuestLookup, type GuestNode, type ResolvedPath } from './guest-path.js';

export const DIR_MODE = 0o755;

export type FileAction = 'create' | 'replace' | 'skip';

export interface PlannedTarget {
  /** The guest path asked for. */
  guestPath: string;
  /** Where it lands after following the rootfs' symlinks. */
  path: string[];
  node: GuestNode | undefined;
  /** The symlinks followed, `link → target`. */
  via: string[];
}

export class WritePlanner implements GuestLookup {
  private readonly nodes = new Map<string, Promise<GuestNode | undefined>>();
  private readonly virtualDirs = new Set<string>();
  private readonly mkdirs: Change[] = [];

  constructor(readonly view: GuestView) {}

  lookup(parent: readonly string[], name: string): Promise<GuestNode | undefined> {
    const parentKey = parent.join('/');
    const key = parentKey === '' ? name : `${parentKey}/${name}`;
    let p = this.nodes.get(key);
    if (!p) {
      p = this.virtualDirs.has(parentKey) ? Promise.resolve(undefined) : this.view.lookup(parent, name);
      this.nodes.set(key, p);
    }
    return p;
  }

  /** Resolves for writing: symlinks followed, escapes refused, missing directories planned. */
  private async resolveForWrite(guestPath: string): Promise<ResolvedPath> {
    const r = await resolveGuestPath(this, guestPath, {
      followLast: true,
      aboveRoot: 'refuse',
      onMissingDir: async (parent, name) => this.planDir([...parent, name]),
    });
    if (!r) throw new InputError('E_ROOTFS_PATH', { file: guestPath }, 'cannot be resolved in the rootfs');
    return r;
  }

  /** Resolves a guest path to write (symlinks followed, also in the last component). */
  async target(guestPath: string): Promise<PlannedTarget> {
    assertPlainGuestPath(guestPath);
    const r = await this.resolveForWrite(guestPath);
    if (r.components.length === 0) throw new PathEscapeError(`${guestPath}: resolves to the rootfs root itself`);
    if (r.node && r.node.type !== 'file') {
      throw new InputError('E_ROOTFS_PATH', { file: guestPath }, `${realPath(r.components)} is a ${r.node.type === 'dir' ? 'directory' : r.node.type} in the rootfs, not a file`);
    }
    return { guestPath, path: r.components, node: r.node, via: r.via };
  }

  /**
   * Resolves a guest path without planning anything: undefined when a parent directory is
   * missing; `node` undefined when only the file is.
   */
  async existing(guestPath: string): Promise<PlannedTarget | undefined> {
    assertPlainGuestPath(guestPath);
    let r;
    try {
      r = await resolveGuestPath(this, guestPath, { followLast: true, aboveRoot: 'refuse' });
    } catch (e) {
      if (e instanceof NotADirectoryError) return undefined;
      throw e;
    }
    if (!r || r.components.length === 0) return undefined;
    return { guestPath, path: r.components, node: r.node, via: r.via };
  }

  /** Resolves a directory path, planning the missing directories. */
  async directory(guestPath: string): Promise<string[]> {
    assertPlainGuestPath(guestPath);
    const r = await this.resolveForWrite(guestPath);
    if (!r.node) await this.planDir(r.components);
    else if (r.node.type !== 'dir') throw new InputError('E_ROOTFS_PATH', { file: guestPath }, `${realPath(r.components)} is not a directory in the rootfs`);
    return r.components;
  }

  /** Bytes at a real path, or undefined for a planned (virtual) or missing file. */
  async read(path: readonly string[]): Promise<Buffer | undefined> {
    const node = await this.lookup(path.slice(0, -1), path[path.length - 1] as string);
    if (!node || node.type !== 'file') return undefined;
    return this.view.read(path);
  }

  /** Names in a real directory (planned directories are empty). */
  async list(path: readonly string[]): Promise<string[]> {
    if (this.virtualDirs.has(path.join('/'))) return [];
    return this.view.list(path);
  }

  isPlannedDir(path: readonly string[]): boolean {
    return this.virtualDirs.has(path.join('/'));
  }

  plannedDirs(): Change[] {
    return [...this.mkdirs];
  }

  private async planDir(path: string[]): Promise<GuestNode> {
    const key = path.join('/');
    if (!this.virtualDirs.has(key)) {
      this.virtualDirs.add(key);
      this.mkdirs.push({ op: 'mkdir', path, mode: DIR_MODE });
      this.nodes.set(key, Promise.resolve({ type: 'dir', mode: DIR_MODE, uid: 0, gid: 0 }));
    }
    return { type: 'dir', mode: DIR_MODE, uid: 0, gid: 0 };
  }
}

export { guestString };
