/**
 * The confined writer's planning half: resolves guest paths for writing against a read-only view
 * of the rootfs, as the guest resolves them but refusing any `..` that would climb above the root,
 * plans the directories that are missing, and tells create / replace / skip for each file. It
 * never touches the rootfs; the resulting Change list goes to a backend.
 */
import { InputError, PathEscapeError } from '../errors.js';
import { realPath, type Change, type GuestView } from './changes.js';
import {
  assertPlainGuestPath,
  guestString,
  NotADirectoryError,
  resolveGuestPath,
  type GuestLookup,
  type GuestNode,
  type ResolvedPath,
} from './guest-path.js';

export const DIR_MODE = 0o755;

function isPlainGuestPath(guestPath: string): boolean {
  try {
    assertPlainGuestPath(guestPath);
    return true;
  } catch {
    return false;
  }
}

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

/** One node and one settled promise for every planned directory (thousands of them). */
const PLANNED_DIR: GuestNode = Object.freeze({ type: 'dir', mode: DIR_MODE, uid: 0, gid: 0 });
const PLANNED_DIR_P = Promise.resolve(PLANNED_DIR);
const NOTHING_P = Promise.resolve(undefined);

export interface PlannerOptions {
  /**
   * directory(): resolve a path's parent once and reuse it for its siblings (default). Off: every
   * path is resolved component by component (the reference the fast path is tested against).
   */
  reuseParents?: boolean;
}

export class WritePlanner implements GuestLookup {
  private readonly nodes = new Map<string, Promise<GuestNode | undefined>>();
  private readonly virtualDirs = new Set<string>();
  private readonly mkdirs: Array<Change & { op: 'mkdir' }> = [];
  /** directory(): guest parent path → its real components and their key, once resolved to a directory. */
  private readonly parents = new Map<string, Promise<{ components: readonly string[]; key: string } | undefined>>();
  /** The same, once settled: what plannedDirectorySync() can use without waiting. */
  private readonly settledParents = new Map<string, { components: readonly string[]; key: string }>();
  private readonly reuseParents: boolean;

  constructor(
    readonly view: GuestView,
    options: PlannerOptions = {},
  ) {
    this.reuseParents = options.reuseParents ?? true;
  }

  lookup(parent: readonly string[], name: string): Promise<GuestNode | undefined> {
    return this.lookupIn(parent, parent.join('/'), name);
  }

  private lookupIn(parent: readonly string[], parentKey: string, name: string): Promise<GuestNode | undefined> {
    // Nothing exists under a planned directory until this run makes it (and then it is planned too).
    if (this.virtualDirs.has(parentKey))
      return this.nodes.get(parentKey === '' ? name : `${parentKey}/${name}`) ?? NOTHING_P;
    const key = parentKey === '' ? name : `${parentKey}/${name}`;
    let p = this.nodes.get(key);
    if (!p) {
      p = this.view.lookup(parent, name);
      this.nodes.set(key, p);
    }
    return p;
  }

  /** Resolves for writing: symlinks followed, escapes refused, missing directories planned. */
  private async resolveForWrite(guestPath: string): Promise<ResolvedPath> {
    const r = await resolveGuestPath(this, guestPath, {
      followLast: true,
      aboveRoot: 'refuse',
      onMissingDir: (parent, name) => this.planDir([...parent, name]),
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
      throw new InputError(
        'E_ROOTFS_PATH',
        { file: guestPath },
        `${realPath(r.components)} is a ${r.node.type === 'dir' ? 'directory' : r.node.type} in the rootfs, not a file`,
      );
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
    if (this.reuseParents) {
      const fast = await this.directoryUnderKnownParent(guestPath);
      if (fast) return fast;
    }
    const r = await this.resolveForWrite(guestPath);
    if (!r.node) await this.planDir(r.components);
    else if (r.node.type !== 'dir')
      throw new InputError(
        'E_ROOTFS_PATH',
        { file: guestPath },
        `${realPath(r.components)} is not a directory in the rootfs`,
      );
    return r.components;
  }

  /**
   * directory() without a promise, for the case that is nearly every signature directory of a
   * first stage: the parent was resolved by an earlier directory() call to a directory this run
   * plans, so nothing can exist under it yet and `name` is planned (or was already). Undefined in
   * every other case: then call directory().
   */
  plannedDirectorySync(guestPath: string): string[] | undefined {
    if (!this.reuseParents) return undefined;
    assertPlainGuestPath(guestPath);
    const slash = guestPath.lastIndexOf('/');
    const parent = this.settledParents.get(guestPath.slice(0, slash));
    if (!parent || !this.virtualDirs.has(parent.key)) return undefined;
    const components = [...parent.components, guestPath.slice(slash + 1)];
    this.planDirSync(components);
    return components;
  }

  /**
   * directory() for thousands of siblings (`…/sigstore/team/app-N@sha256=…`): a guest path is
   * resolved left to right, so resolving `parent/name` is resolving `parent`, then looking `name`
   * up in the directory it ended at. The parent is resolved once (with the same refusals and the
   * same planned directories), then each name is one lookup. Whenever the answer is anything but
   * the plain cases — the parent is not a directory or could not be resolved, `name` is a symlink
   * or not a directory — this returns undefined and the caller resolves the whole path as before,
   * so every error and every `..` or symlink case goes through exactly the same code.
   */
  private async directoryUnderKnownParent(guestPath: string): Promise<string[] | undefined> {
    const slash = guestPath.lastIndexOf('/');
    const parentGuest = guestPath.slice(0, slash);
    const name = guestPath.slice(slash + 1);
    const parent = await this.parentDir(parentGuest);
    if (!parent) return undefined;
    const node = await this.lookupIn(parent.components, parent.key, name);
    if (node === undefined) {
      const components = [...parent.components, name];
      await this.planDir(components);
      return components;
    }
    return node.type === 'dir' ? [...parent.components, name] : undefined;
  }

  /**
   * Resolves the parent of each of these directory paths ahead (as directory() would on the first
   * sibling), so that plannedDirectorySync() can answer for the siblings that follow.
   */
  async prepareParents(guestPaths: readonly string[]): Promise<void> {
    if (!this.reuseParents) return;
    let last: string | undefined;
    for (const guestPath of guestPaths) {
      if (!isPlainGuestPath(guestPath)) continue; // directory() refuses it in its turn, with its error
      const parentGuest = guestPath.slice(0, guestPath.lastIndexOf('/'));
      if (parentGuest !== last) await this.parentDir(parentGuest);
      last = parentGuest;
    }
  }

  /** One resolution per parent, shared by siblings planned at the same time. */
  private async parentDir(parentGuest: string): Promise<{ components: readonly string[]; key: string } | undefined> {
    let pending = this.parents.get(parentGuest);
    if (!pending) {
      pending = parentGuest === '' ? Promise.resolve({ components: [], key: '' }) : this.resolveParent(parentGuest);
      this.parents.set(parentGuest, pending);
    }
    const parent = await pending;
    if (parent) this.settledParents.set(parentGuest, parent);
    return parent;
  }

  /**
   * The parent as the whole path's resolution passes it: a missing last component is planned,
   * as the whole path's resolution plans a missing intermediate directory. Undefined (resolve the
   * whole path instead) on an error, a non-directory or the root itself.
   */
  private async resolveParent(
    parentGuest: string,
  ): Promise<{ components: readonly string[]; key: string } | undefined> {
    let r: ResolvedPath;
    try {
      r = await this.resolveForWrite(parentGuest);
    } catch {
      return undefined; // the whole path gets the error, named by the whole path
    }
    if (r.components.length === 0) return undefined;
    if (r.node === undefined) await this.planDir(r.components);
    else if (r.node.type !== 'dir') return undefined;
    return { components: r.components, key: r.components.join('/') };
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

  /** The real guest path of each planned directory, in planning order. */
  plannedDirPaths(): string[] {
    return this.mkdirs.map((d) => `/${d.path.join('/')}`);
  }

  private planDir(path: string[]): Promise<GuestNode> {
    this.planDirSync(path);
    return Promise.resolve({ type: 'dir', mode: DIR_MODE, uid: 0, gid: 0 });
  }

  private planDirSync(path: string[]): void {
    const key = path.join('/');
    if (!this.virtualDirs.has(key)) {
      this.virtualDirs.add(key);
      this.mkdirs.push({ op: 'mkdir', path, mode: DIR_MODE });
      this.nodes.set(key, PLANNED_DIR_P);
    }
  }
}

export { guestString };
