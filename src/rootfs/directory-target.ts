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
import { isRoot } from './tools.js';
import { asPromise } from '../util/as-promise.js';

const BATCH = 256;

/**
 * The names of the temporary files a write aside (`.NAME.kbs-PID-RANDOM`) or a rollback
 * (`NAME.kbs-restore-PID`) makes beside its target: what a killed run can leave behind.
 */
export function isTemporaryName(name: string): boolean {
  return /^\..+\.kbs-\d+-[0-9a-f]{8}$/.test(name) || /^.+\.kbs-restore-\d+$/.test(name);
}

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
    lookup: (parent, name) => asPromise(() => lookupHostSync(host([...parent, name]))),
    read: (p) => asPromise(() => fsSync.readFileSync(host(p))),
    list: (p) => asPromise(() => fsSync.readdirSync(host(p)).sort()),
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
  const writer = new DirectoryWriter(root);
  let current: Change | undefined;
  try {
    for (let i = 0; i < ordered.length; i++) {
      if (i % BATCH === 0) {
        current = undefined;
        await new Promise<void>((resolve) => setImmediate(resolve));
        options.guard?.check();
        if (i > 0) options.onProgress?.(i, ordered.length);
      }
      const change = ordered[i] as Change;
      current = change;
      writer.apply(change, i);
    }
    options.onProgress?.(ordered.length, ordered.length);
  } catch (e) {
    await rollback(writer.journal, (i) => writer.createdEntry(ordered[i] as Change));
    if (isKbsBundlerError(e)) throw e;
    const what = current ? `${current.op} ${realPath(current.path)}` : 'staging';
    throw new ToolError('E_ROOTFS_WRITE', `${what}: ${(e as Error).message}; every change made so far was undone`, {
      cause: e,
    });
  }
}

/** Makes one change at a time under a root, journaling each before the next. */
class DirectoryWriter {
  readonly journal: Undo[] = [];
  /**
   * Directories whose every component was a real directory when checked, by relative path. A
   * directory this run created is added when mkdir succeeds: mkdir fails on anything already
   * there (it never follows a link) and its parent was checked first, so nothing in it can
   * lead out of the rootfs; its files need no lstat of their own. Only a directory that was
   * already there is checked, once per run, component by component.
   */
  private readonly checkedDirs = new Set<string>();
  /** Directories this run made (mkdir fails on anything already there): new files go straight in. */
  private readonly createdDirs = new Set<string>();
  private readonly tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly base: string;
  private readonly prefix: string;

  constructor(root: string) {
    // Host paths are the root and the real components joined with '/': the components are checked
    // to be plain names, so this is what path.join would give, without normalizing each one.
    this.base = path.join(root);
    this.prefix = this.base.endsWith('/') ? this.base : `${this.base}/`;
  }

  apply(c: Change, index: number): void {
    switch (c.op) {
      case 'mkdir':
        return this.mkdir(c, index);
      case 'write':
        return this.write(c, index);
      case 'remove':
        return this.remove(c);
      case 'rmdir':
        return this.rmdir(c);
    }
  }

  /** The journal keeps created entries as change indexes; this rebuilds the entry for rollback. */
  createdEntry(c: Change): Exclude<Undo, number> {
    const target = this.prefix + c.path.join('/');
    return c.op === 'mkdir' ? { kind: 'created-dir', dir: target } : { kind: 'created-file', file: target };
  }

  private host(p: readonly string[]): string {
    for (const name of p) assertPlain(p, name);
    return p.length === 0 ? this.base : this.prefix + p.join('/');
  }

  /** Every component of a parent must be a real directory at the time of writing. */
  private assertRealDir(p: readonly string[], key: string): void {
    if (this.checkedDirs.has(key)) return; // its ancestors were checked before it was added
    for (let i = 1; i <= p.length; i++) {
      const k = p.slice(0, i).join('/');
      if (this.checkedDirs.has(k)) continue;
      assertPlain(p, p[i - 1] as string);
      const st = fsSync.lstatSync(this.prefix + k);
      if (!st.isDirectory())
        throw new PathEscapeError(
          `${realPath(p.slice(0, i))} changed into a ${st.isSymbolicLink() ? 'symbolic link' : 'non-directory'} while staging; refusing to write through it`,
        );
      this.checkedDirs.add(k);
    }
  }

  /** The change's path relative to the root and on the host, after checking its name and its parents. */
  private checkedPlace(p: readonly string[]): { rel: string; parentKey: string; target: string } {
    const name = p[p.length - 1] as string;
    assertPlain(p, name);
    const rel = p.join('/');
    const parentKey = rel.slice(0, Math.max(0, rel.length - name.length - 1));
    this.assertRealDir(p.slice(0, -1), parentKey);
    return { rel, parentKey, target: this.prefix + rel };
  }

  private mkdir(c: Extract<Change, { op: 'mkdir' }>, index: number): void {
    const { rel, target } = this.checkedPlace(c.path);
    fsSync.mkdirSync(target, { mode: c.mode });
    this.journal.push(index);
    if (needsChmod(c.mode)) fsSync.chmodSync(target, c.mode);
    this.checkedDirs.add(rel);
    this.createdDirs.add(rel);
  }

  private write(c: Extract<Change, { op: 'write' }>, index: number): void {
    const { parentKey, target } = this.checkedPlace(c.path);
    const before = c.replaces ? replacedFile(c.path, target) : undefined;
    if (!c.replaces && !c.atomic && this.createdDirs.has(parentKey)) {
      // A new file in a directory this run created: nothing there to protect, so it is created
      // in place (O_EXCL), and removed again by the journal or here if writing it fails.
      try {
        createFileSync(target, c.data, c.mode);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fsSync.rmSync(target, { force: true });
        throw e;
      }
      this.journal.push(index);
      if (needsChmod(c.mode)) fsSync.chmodSync(target, c.mode);
      return;
    }
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.kbs-${this.tag}`);
    try {
      createFileSync(tmp, c.data, c.mode);
      if (needsChmod(c.mode)) fsSync.chmodSync(tmp, c.mode);
      // A replaced file keeps its owner (a guest's files are not all root's).
      if (before && isRoot() && (before.uid !== 0 || before.gid !== 0)) fsSync.chownSync(tmp, before.uid, before.gid);
      fsSync.renameSync(tmp, target);
    } catch (e) {
      fsSync.rmSync(tmp, { force: true });
      throw e;
    }
    this.journal.push(before ? { kind: 'replaced', file: target, ...before } : index);
  }

  private remove(c: Extract<Change, { op: 'remove' }>): void {
    const target = this.host(c.path);
    const st = fsSync.lstatSync(target);
    if (!st.isFile()) throw new PathEscapeError(`${realPath(c.path)} is not a regular file; refusing to remove it`);
    this.journal.push({ kind: 'replaced', file: target, ...replacedFile(c.path, target) });
    fsSync.unlinkSync(target);
  }

  private rmdir(c: Extract<Change, { op: 'rmdir' }>): void {
    const target = this.host(c.path);
    const st = fsSync.lstatSync(target);
    fsSync.rmdirSync(target);
    this.journal.push({ kind: 'removed-dir', dir: target, mode: st.mode & 0o7777 });
  }
}

/** What a file that is about to be replaced or removed holds, for the journal. */
function replacedFile(
  p: readonly string[],
  target: string,
): { original: Buffer; mode: number; uid: number; gid: number } {
  const st = fsSync.lstatSync(target);
  if (!st.isFile())
    throw new PathEscapeError(`${realPath(p)} is no longer a regular file; refusing to replace or remove it`);
  return { original: fsSync.readFileSync(target), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Whether the umask (or a mode above 0777) keeps open/mkdir from giving `mode` exactly. */
function needsChmod(mode: number): boolean {
  return (mode & processUmask()) !== 0 || mode > 0o777;
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
