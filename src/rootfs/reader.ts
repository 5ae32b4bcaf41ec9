/**
 * Read-only access to a guest rootfs, whatever it is on disk: a directory, an ext4 disk image
 * (read through debugfs, never mounted), an erofs image (extracted), an initrd (cpio archives
 * parsed here). Paths are guest paths; symlinks resolve as the guest sees them and never leave
 * the rootfs.
 */
import { lstatSync, promises as fs, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { extractErofs } from './erofs.js';
import { detectRootfs, type RootfsLayout } from './detect.js';
import { DebugfsView } from './debugfs-view.js';
import {
  NotADirectoryError,
  resolveGuestPath,
  type GuestLookup,
  type GuestNode,
  type ResolvedPath,
} from './guest-path.js';
import { readInitrd } from './initrd.js';
import { asPromise } from '../util/as-promise.js';

export type RootfsKind = 'directory' | 'ext4-image' | 'initrd' | 'erofs-image';

export interface RootfsReader {
  readonly kind: RootfsKind;
  /** Guest absolute path; symlinks resolved as the guest sees them (absolute link = rootfs-relative); never escapes. */
  readFile(guestPath: string): Promise<Uint8Array | undefined>;
  listDir(guestPath: string): Promise<Array<{ name: string; type: 'file' | 'dir' | 'symlink' | 'other' }> | undefined>;
  close(): Promise<void>;
}

export async function openRootfsReader(rootfsPath: string): Promise<RootfsReader> {
  const layout = await detectRootfs(rootfsPath);
  return readerFor(layout);
}

export async function readerFor(layout: RootfsLayout): Promise<RootfsReader & GuestLookup> {
  switch (layout.kind) {
    case 'directory':
      return directoryReader(layout.path);
    case 'initrd':
      return initrdReader(layout.path);
    case 'disk-image':
      if (layout.fs === 'erofs') return erofsReader(layout.path, layout.offset, layout.size);
      return ext4Reader(layout.path, layout.offset);
  }
}

/** Shared by every backend: resolve, then read or list the real path. */
function makeReader(
  kind: RootfsKind,
  lookup: GuestLookup['lookup'],
  read: (components: string[]) => Promise<Uint8Array>,
  list: (components: string[]) => Promise<Array<{ name: string; type: GuestNode['type'] }>>,
  close: () => Promise<void> = () => Promise.resolve(),
): RootfsReader & GuestLookup {
  const self: GuestLookup = { lookup };
  const resolve = async (guestPath: string): Promise<ResolvedPath | undefined> => {
    try {
      return await resolveGuestPath(self, guestPath, { followLast: true, aboveRoot: 'clamp' });
    } catch (e) {
      if (e instanceof NotADirectoryError) return undefined;
      throw e;
    }
  };
  return {
    kind,
    lookup,
    async readFile(guestPath) {
      const r = await resolve(guestPath);
      if (!r || r.node?.type !== 'file') return undefined;
      return read(r.components);
    },
    async listDir(guestPath) {
      const r = await resolve(guestPath);
      if (!r || r.node?.type !== 'dir') return undefined;
      return (await list(r.components)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    close,
  };
}

export function directoryReader(root: string): RootfsReader & GuestLookup {
  const host = (components: readonly string[]) => path.join(root, ...components);
  return makeReader(
    'directory',
    (parent, name) => lookupHost(host([...parent, name])),
    (components) => fs.readFile(host(components)),
    async (components) => {
      const dirents = await fs.readdir(host(components), { withFileTypes: true });
      return dirents.map((d) => ({
        name: d.name,
        type: d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other',
      }));
    },
  );
}

/** lstat of a host path under the rootfs, as a GuestNode (undefined when it does not exist). */
export function lookupHost(hostPath: string): Promise<GuestNode | undefined> {
  return asPromise(() => lookupHostSync(hostPath));
}

/**
 * Synchronous lstat: staging looks up thousands of small entries, and a direct syscall is several
 * times cheaper than a trip through libuv's thread pool.
 */
export function lookupHostSync(hostPath: string): GuestNode | undefined {
  const st = lstatSync(hostPath, { throwIfNoEntry: false });
  if (!st) return undefined;
  const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  if (st.isSymbolicLink()) return { type: 'symlink', target: readlinkSync(hostPath), ...base };
  return { type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', ...base };
}

async function initrdReader(file: string): Promise<RootfsReader & GuestLookup> {
  const image = await readInitrd(file);
  return makeReader(
    'initrd',
    (parent, name) => image.lookup(parent, name),
    (components) => asPromise(() => Buffer.from((image.entry(components.join('/')) as { data: Buffer }).data)),
    async (components) => {
      const names = image.children(components.join('/')) ?? [];
      return Promise.all(
        names.map(async (name) => ({ name, type: (await image.lookup(components, name))?.type ?? 'other' })),
      );
    },
  );
}

/** An ext4 filesystem at `offset` in `file`, read with debugfs; directory listings are cached. */
export function ext4Reader(file: string, offset: number): RootfsReader & GuestLookup {
  const view = new DebugfsView(file, offset);
  return makeReader(
    'ext4-image',
    (parent, name) => view.lookup(parent, name),
    (components) => view.read(components),
    async (components) => (await view.entries(components)).map((e) => ({ name: e.name, type: e.type })),
  );
}

/** erofs has no debugfs: the filesystem is extracted (see erofs.ts) and read as a directory. */
async function erofsReader(file: string, offset: number, size: number): Promise<RootfsReader & GuestLookup> {
  const extracted = await extractErofs(file, offset, size);
  const inner = directoryReader(extracted.tree);
  return { ...inner, kind: 'erofs-image', close: () => extracted.remove() };
}
