/**
 * A rootfs that is a directory on the host (a mounted image or an unpacked tree). Every change
 * is journaled before it is made and the journal is undone, newest first, when anything fails or
 * a signal arrives, so the tree ends as it was. Files are written aside and renamed into place;
 * directories are created with mkdir (which fails rather than follows an existing symlink).
 * Work runs with bounded parallelism: no process per file.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PathEscapeError } from '../errors.js';
import { orderChanges, realPath, type Change, type GuestView } from './changes.js';
import type { Interruption } from './interrupt.js';
import { lookupHost } from './reader.js';

export const PARALLEL = 32;

/** The process umask, read once (umask() without an argument is deprecated). */
const UMASK = (() => {
  const m = process.umask(0o022);
  process.umask(m);
  return m;
})();

export function directoryView(root: string): GuestView {
  const host = (p: readonly string[]) => path.join(root, ...p);
  return {
    lookup: (parent, name) => lookupHost(host([...parent, name])),
    read: (p) => fs.readFile(host(p)),
    list: async (p) => (await fs.readdir(host(p))).sort(),
  };
}

type Undo = { kind: 'created-file'; file: string } | { kind: 'created-dir'; dir: string } | { kind: 'replaced'; file: string; original: Buffer; mode: number; uid: number; gid: number } | { kind: 'removed-dir'; dir: string; mode: number };

export interface ApplyOptions {
  guard?: Interruption;
  onProgress?: (done: number, total: number) => void;
}

/** Applies `changes` under `root`, all or nothing. */
export async function applyToDirectory(root: string, changes: readonly Change[], options: ApplyOptions = {}): Promise<void> {
  const ordered = orderChanges(changes);
  const journal: Undo[] = [];
  const host = (p: readonly string[]) => path.join(root, ...p);
  const checkedDirs = new Set<string>();
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  let done = 0;
  const total = ordered.length;

  /** Every component of a parent must be a real directory at the time of writing. */
  const assertRealDir = async (p: readonly string[]) => {
    for (let i = 1; i <= p.length; i++) {
      const key = p.slice(0, i).join('/');
      if (checkedDirs.has(key)) continue;
      const st = await fs.lstat(host(p.slice(0, i)));
      if (!st.isDirectory()) throw new PathEscapeError(`${realPath(p.slice(0, i))} changed into a ${st.isSymbolicLink() ? 'symbolic link' : 'non-directory'} while staging; refusing to write through it`);
      checkedDirs.add(key);
    }
  };

  const one = async (c: Change) => {
    options.guard?.check();
    const target = host(c.path);
    switch (c.op) {
      case 'mkdir':
        await assertRealDir(c.path.slice(0, -1));
        await fs.mkdir(target, { mode: c.mode });
        journal.push({ kind: 'created-dir', dir: target });
        if ((c.mode & UMASK) !== 0 || c.mode > 0o777) await fs.chmod(target, c.mode);
        checkedDirs.add(c.path.join('/'));
        break;
      case 'write': {
        await assertRealDir(c.path.slice(0, -1));
        let before: { original: Buffer; mode: number; uid: number; gid: number } | undefined;
        if (c.replaces) {
          const st = await fs.lstat(target);
          if (!st.isFile()) throw new PathEscapeError(`${realPath(c.path)} is no longer a regular file; refusing to replace it`);
          before = { original: await fs.readFile(target), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
        }
        const tmp = path.join(path.dirname(target), `.${path.basename(target)}.kbs-${tag}`);
        try {
          await fs.writeFile(tmp, c.data, { flag: 'wx', mode: c.mode });
          if ((c.mode & UMASK) !== 0 || c.mode > 0o777) await fs.chmod(tmp, c.mode);
          await fs.rename(tmp, target);
          journal.push(before ? { kind: 'replaced', file: target, ...before } : { kind: 'created-file', file: target });
        } catch (e) {
          await fs.rm(tmp, { force: true });
          throw e;
        }
        break;
      }
      case 'remove': {
        const st = await fs.lstat(target);
        if (!st.isFile()) throw new PathEscapeError(`${realPath(c.path)} is not a regular file; refusing to remove it`);
        journal.push({ kind: 'replaced', file: target, original: await fs.readFile(target), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
        await fs.unlink(target);
        break;
      }
      case 'rmdir': {
        const st = await fs.lstat(target);
        await fs.rmdir(target);
        journal.push({ kind: 'removed-dir', dir: target, mode: st.mode & 0o7777 });
        break;
      }
    }
    options.onProgress?.(++done, total);
  };

  try {
    // mkdirs level by level, then writes and removals in parallel, then rmdirs deepest first.
    let i = 0;
    while (i < ordered.length) {
      const first = ordered[i] as Change;
      let j = i + 1;
      const sameGroup = (c: Change) => c.op === first.op && (c.op === 'write' || c.op === 'remove' || c.path.length === first.path.length);
      while (j < ordered.length && sameGroup(ordered[j] as Change)) j++;
      await inParallel(ordered.slice(i, j), one);
      i = j;
    }
  } catch (e) {
    await rollback(journal);
    throw e;
  }
}

async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

async function rollback(journal: Undo[]): Promise<void> {
  for (const u of journal.reverse()) {
    try {
      switch (u.kind) {
        case 'created-file':
          await fs.unlink(u.file);
          break;
        case 'created-dir':
          await fs.rmdir(u.dir);
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
          await fs.mkdir(u.dir, { mode: u.mode });
          await fs.chmod(u.dir, u.mode);
          break;
      }
    } catch {
      // Keep undoing the rest; a failed undo step leaves at most that one entry behind.
    }
  }
}
