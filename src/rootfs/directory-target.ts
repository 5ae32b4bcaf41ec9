/**
 * A rootfs that is a directory on the host (a mounted image or an unpacked tree). Every change
 * is journaled before the next one is made and the journal is undone, newest first, when anything
 * fails or a signal arrives, so the tree ends as it was. Files are written aside and renamed into
 * place, except new files in a directory this run created, which are created in place with O_EXCL
 * (nothing to replace there; the journal removes them on rollback); directories are created with
 * mkdir (which fails rather than follows an existing link).
 *
 * The work is thousands of tiny syscalls, so they are made synchronously, in slices of BATCH
 * with a return to the event loop between slices (signals are noticed there, progress is
 * reported). No process is spawned per file.
 */
import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isKbsBundlerError, PathEscapeError, ToolError } from '../errors.js';
import { orderChanges, realPath, type Change, type GuestView } from './changes.js';
import type { Interruption } from './interrupt.js';
import { lookupHostSync } from './reader.js';

const BATCH = 256;

/**
 * The process umask, read on first use (umask() without an argument is deprecated). Worker
 * threads may not set it: there every mode is applied with chmod, as if all bits were masked.
 */
let umask: number | undefined;
function processUmask(): number {
  if (umask === undefined) {
    try {
      umask = process.umask(0o022);
      process.umask(umask);
    } catch {
      umask = 0o777;
    }
  }
  return umask;
}

export function directoryView(root: string): GuestView {
  const host = (p: readonly string[]) => path.join(root, ...p);
  return {
    lookup: async (parent, name) => lookupHostSync(host([...parent, name])),
    read: async (p) => fsSync.readFileSync(host(p)),
    list: async (p) => fsSync.readdirSync(host(p)).sort(),
  };
}

/**
 * A journal entry. The common ones — a file or directory this run created, one per change — are
 * kept as the index of that change in the ordered list (its host path is rebuilt on rollback), so
 * 20,000 entries cost 20,000 small integers instead of as many objects and path strings.
 */
type Undo =
  | number
  | { kind: 'created-file'; file: string }
  | { kind: 'created-dir'; dir: string }
  | { kind: 'replaced'; file: string; original: Buffer; mode: number; uid: number; gid: number }
  | { kind: 'removed-dir'; dir: string; mode: number };

export interface ApplyOptions {
  guard?: Interruption;
  onProgress?: (done: number, total: number) => void;
}

/** O_WRONLY | O_CREAT | O_EXCL | O_TRUNC: what writeFileSync's 'wx' opens with. */
const CREATE_EXCL =
  fsSync.constants.O_WRONLY | fsSync.constants.O_CREAT | fsSync.constants.O_EXCL | fsSync.constants.O_TRUNC;

/** Writes all of `data` to a new file (O_EXCL): open, write, close, as writeFileSync does without its option parsing. */
function createFileSync(file: string, data: Uint8Array, mode: number): void {
  const fd = fsSync.openSync(file, CREATE_EXCL, mode);
  try {
    for (let at = 0; at < data.byteLength;) at += fsSync.writeSync(fd, data, at, data.byteLength - at);
  } finally {
    fsSync.closeSync(fd);
  }
}

/** A real component as resolution yields them: never empty, `.`, `..` or containing `/`. */
function assertPlain(p: readonly string[], name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new PathEscapeError(`${realPath(p)}: ${JSON.stringify(name)} is not a plain file name; refusing to write it`);
  }
}

/** Applies `changes` under `root`, all or nothing. */
export async function applyToDirectory(
  root: string,
  changes: readonly Change[],
  options: ApplyOptions = {},
): Promise<void> {
  const ordered = orderChanges(changes);
  const journal: Undo[] = [];
  // Host paths are the root and the real components joined with '/': the components are checked
  // to be plain names (below), so this is what path.join would give, without normalizing each one.
  const base = path.join(root);
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const host = (p: readonly string[]) => {
    for (const name of p) assertPlain(p, name);
    return p.length === 0 ? base : prefix + p.join('/');
  };
  /**
   * Directories whose every component was a real directory when checked, by relative path. A
   * directory this run created is added when mkdir succeeds: mkdir fails on anything already
   * there (it never follows a link) and its parent was checked first, so nothing in it can
   * lead out of the rootfs; its files need no lstat of their own. Only a directory that was
   * already there is checked, once per run, component by component.
   */
  const checkedDirs = new Set<string>();
  /** Directories this run made (mkdir fails on anything already there): new files go straight in. */
  const createdDirs = new Set<string>();
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;

  /** Every component of a parent must be a real directory at the time of writing. */
  const assertRealDir = (p: readonly string[], key: string) => {
    if (checkedDirs.has(key)) return; // its ancestors were checked before it was added
    for (let i = 1; i <= p.length; i++) {
      const k = p.slice(0, i).join('/');
      if (checkedDirs.has(k)) continue;
      assertPlain(p, p[i - 1] as string);
      const st = fsSync.lstatSync(prefix + k);
      if (!st.isDirectory())
        throw new PathEscapeError(
          `${realPath(p.slice(0, i))} changed into a ${st.isSymbolicLink() ? 'symbolic link' : 'non-directory'} while staging; refusing to write through it`,
        );
      checkedDirs.add(k);
    }
  };

  /** The change's path relative to the root and on the host, after checking its name and its parents. */
  const checkedPlace = (p: readonly string[]) => {
    const name = p[p.length - 1] as string;
    assertPlain(p, name);
    const rel = p.join('/');
    const parentKey = rel.slice(0, Math.max(0, rel.length - name.length - 1));
    assertRealDir(p.slice(0, -1), parentKey);
    return { rel, parentKey, target: prefix + rel };
  };

  const one = (c: Change, index: number) => {
    switch (c.op) {
      case 'mkdir': {
        const { rel, target } = checkedPlace(c.path);
        fsSync.mkdirSync(target, { mode: c.mode });
        journal.push(index);
        if ((c.mode & processUmask()) !== 0 || c.mode > 0o777) fsSync.chmodSync(target, c.mode);
        checkedDirs.add(rel);
        createdDirs.add(rel);
        break;
      }
      case 'write': {
        const { rel, parentKey, target } = checkedPlace(c.path);
        let before: { original: Buffer; mode: number; uid: number; gid: number } | undefined;
        if (c.replaces) {
          const st = fsSync.lstatSync(target);
          if (!st.isFile())
            throw new PathEscapeError(`${realPath(c.path)} is no longer a regular file; refusing to replace it`);
          before = { original: fsSync.readFileSync(target), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
        }
        if (!c.replaces && createdDirs.has(parentKey)) {
          // A new file in a directory this run created: nothing there to protect, so it is created
          // in place (O_EXCL), and removed again by the journal or here if writing it fails.
          try {
            createFileSync(target, c.data, c.mode);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fsSync.rmSync(target, { force: true });
            throw e;
          }
          journal.push(index);
          if ((c.mode & processUmask()) !== 0 || c.mode > 0o777) fsSync.chmodSync(target, c.mode);
          break;
        }
        const tmp = path.join(path.dirname(target), `.${path.basename(target)}.kbs-${tag}`);
        try {
          createFileSync(tmp, c.data, c.mode);
          if ((c.mode & processUmask()) !== 0 || c.mode > 0o777) fsSync.chmodSync(tmp, c.mode);
          fsSync.renameSync(tmp, target);
        } catch (e) {
          fsSync.rmSync(tmp, { force: true });
          throw e;
        }
        journal.push(before ? { kind: 'replaced', file: target, ...before } : index);
        break;
      }
      case 'remove': {
        const target = host(c.path);
        const st = fsSync.lstatSync(target);
        if (!st.isFile()) throw new PathEscapeError(`${realPath(c.path)} is not a regular file; refusing to remove it`);
        journal.push({
          kind: 'replaced',
          file: target,
          original: fsSync.readFileSync(target),
          mode: st.mode & 0o7777,
          uid: st.uid,
          gid: st.gid,
        });
        fsSync.unlinkSync(target);
        break;
      }
      case 'rmdir': {
        const target = host(c.path);
        const st = fsSync.lstatSync(target);
        fsSync.rmdirSync(target);
        journal.push({ kind: 'removed-dir', dir: target, mode: st.mode & 0o7777 });
        break;
      }
    }
  };

  let current: Change | undefined;
  try {
    for (let i = 0; i < ordered.length; i++) {
      if (i % BATCH === 0) {
        current = undefined;
        await new Promise<void>((resolve) => setImmediate(resolve));
        options.guard?.check();
        if (i > 0) options.onProgress?.(i, ordered.length);
      }
      current = ordered[i] as Change;
      one(current, i);
    }
    options.onProgress?.(ordered.length, ordered.length);
  } catch (e) {
    await rollback(journal, (i) => {
      const c = ordered[i] as Change;
      const target = prefix + c.path.join('/');
      return c.op === 'mkdir' ? { kind: 'created-dir', dir: target } : { kind: 'created-file', file: target };
    });
    if (isKbsBundlerError(e)) throw e;
    const what = current ? `${current.op} ${realPath(current.path)}` : 'staging';
    throw new ToolError('E_ROOTFS_WRITE', `${what}: ${(e as Error).message}; every change made so far was undone`, {
      cause: e,
    });
  }
}

async function rollback(journal: Undo[], created: (index: number) => Exclude<Undo, number>): Promise<void> {
  for (const entry of journal.reverse()) {
    try {
      const u = typeof entry === 'number' ? created(entry) : entry;
      switch (u.kind) {
        case 'created-file':
          fsSync.unlinkSync(u.file);
          break;
        case 'created-dir':
          fsSync.rmdirSync(u.dir);
          break;
        case 'replaced': {
          const tmp = `${u.file}.kbs-restore-${process.pid}`;
          await fs.writeFile(tmp, u.original, { mode: u.mode });
          await fs.chmod(tmp, u.mode);
          if (process.getuid?.() === 0) await fs.chown(tmp, u.uid, u.gid);
          await fs.rename(tmp, u.file);
          break;
        }
        case 'removed-dir':
          fsSync.mkdirSync(u.dir, { mode: u.mode });
          fsSync.chmodSync(u.dir, u.mode);
          break;
      }
    } catch {
      // Keep undoing the rest; a failed undo step leaves at most that one entry behind.
    }
  }
}
