/**
 * Changes an ext4 filesystem inside an image file with one `debugfs -w` session, then reads the
 * result back. The caller works on a copy of the image, so a failure here never reaches the user's
 * image.
 *
 * debugfs resolves every path it is given from its current directory, one directory block read at
 * a time, and `set_inode_field` reads and writes an inode per call. The script therefore visits
 * each directory once (`cd`, then names relative to it), and sets nothing it does not have to:
 * libext2fs creates files and directories owned by 0:0, directories 0755 (its umask is 022) and
 * files with the mode of the local file `write` copies — which is made with the wanted mode.
 * The read-back checks all of it.
 */
import { closeSync, fchmodSync, fstatSync, openSync, promises as fs, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ToolError } from '../errors.js';
import { realPath, type Change } from './changes.js';
import { dq, runDebugfs } from './debugfs.js';
import { DebugfsView } from './debugfs-view.js';
import { e2fsSpec } from './detect.js';
import { makeScratchDir, tmpfsBytes } from './scratch-dir.js';

type WriteChange = Extract<Change, { op: 'write' }>;

/** The mode libext2fs gives a new directory (0777 & ~022). */
const DEBUGFS_DIR_MODE = 0o755;
/** Local files written between two yields to the event loop (signals are handled in between). */
const FILES_PER_YIELD = 256;

/**
 * Applies `changes` to the filesystem at `offset` in `file` with one `debugfs -w` session, then
 * reads every changed entry back (type, mode, owner, size); any difference or debugfs error is a
 * ToolError.
 */
export async function applyWithDebugfs(file: string, offset: number, changes: readonly Change[]): Promise<void> {
  const spec = e2fsSpec({ path: file, offset });
  const writes = changes.filter((c): c is WriteChange => c.op === 'write');
  const scratch = await makeScratchDir('kbs-debugfs-', tmpfsBytes(writes.map((w) => w.data.length)), writes.length);
  try {
    const locals = await writeLocalCopies(scratch, writes);
    const result = await runDebugfs(spec, debugfsScript(changes, locals), { write: true });
    const errors = result.errors.filter((l) => !/^Allocated inode: \d+$/.test(l));
    if (errors.length > 0)
      throw new ToolError('E_DEBUGFS', `debugfs -w ${spec} reported: ${errors.slice(0, 5).join('; ')}`);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  await verifyApplied(file, offset, changes);
}

interface LocalCopy {
  file: string;
  /** The local file could not be given the wanted mode (set afterwards with set_inode_field). */
  modeDiffers: boolean;
}

/** Each write's data in a local file of its own, with the write's mode (debugfs `write` copies it). */
async function writeLocalCopies(scratch: string, writes: readonly WriteChange[]): Promise<Map<WriteChange, LocalCopy>> {
  const out = new Map<WriteChange, LocalCopy>();
  for (const [i, w] of writes.entries()) {
    const file = path.join(scratch, String(i));
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeFileSync(fd, w.data);
      fchmodSync(fd, w.mode & 0o7777);
      out.set(w, { file, modeDiffers: (fstatSync(fd).mode & 0o7777) !== w.mode });
    } finally {
      closeSync(fd);
    }
    if ((i + 1) % FILES_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

interface DirectoryChanges {
  dir: readonly string[];
  created: Change[];
  removed: Change[];
}

/**
 * The commands, grouped by the directory that holds each entry. Creation goes parents first (a
 * directory's group comes after the group that makes it), removal children first (a directory is
 * emptied before the group that removes it); within a group, a replaced file is removed just before
 * it is written.
 */
export function debugfsScript(changes: readonly Change[], locals: ReadonlyMap<WriteChange, LocalCopy>): string[] {
  const groups = new Map<string, DirectoryChanges>();
  for (const c of changes) {
    const dir = c.path.slice(0, -1);
    const key = realPath(dir);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { dir, created: [], removed: [] }));
    (c.op === 'mkdir' || c.op === 'write' ? g.created : g.removed).push(c);
  }
  const ordered = [...groups.values()].sort((a, b) => compareComponents(a.dir, b.dir));
  const commands: string[] = [];
  let cwd: readonly string[] = [];
  const enter = (dir: readonly string[]) => {
    const rel = relativePath(cwd, dir);
    if (rel !== '') commands.push(`cd ${dq(rel)}`);
    cwd = dir;
  };
  const nameOf = (c: Change) => dq(c.path[c.path.length - 1] as string);
  const setMode = (c: Change, mode: number) => commands.push(`sif ${nameOf(c)} mode 0${mode.toString(8)}`);

  for (const g of ordered) {
    if (g.created.length === 0) continue;
    enter(g.dir);
    for (const c of g.created) {
      if (c.op === 'mkdir') {
        commands.push(`mkdir ${nameOf(c)}`);
        if (c.mode !== DEBUGFS_DIR_MODE) setMode(c, 0o040000 | c.mode);
      } else if (c.op === 'write') {
        const local = locals.get(c);
        if (!local) throw new Error(`no local copy of ${realPath(c.path)}`);
        if (c.replaces) commands.push(`rm ${nameOf(c)}`);
        commands.push(`write ${dq(local.file)} ${nameOf(c)}`);
        if (local.modeDiffers) setMode(c, 0o100000 | c.mode);
      }
    }
  }
  for (const g of ordered.reverse()) {
    if (g.removed.length === 0) continue;
    enter(g.dir);
    for (const c of g.removed) if (c.op === 'remove') commands.push(`rm ${nameOf(c)}`);
    for (const c of g.removed) if (c.op === 'rmdir') commands.push(`rmdir ${nameOf(c)}`);
  }
  return commands;
}

/** Orders paths so that every directory comes right before what is below it. */
function compareComponents(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** `to` relative to `from` ('' when they are the same), through `..` for each level up. */
function relativePath(from: readonly string[], to: readonly string[]): string {
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) common++;
  return [...Array<string>(from.length - common).fill('..'), ...to.slice(common)].join('/');
}

async function verifyApplied(file: string, offset: number, changes: readonly Change[]): Promise<void> {
  const view = new DebugfsView(file, offset);
  await view.prefetch(changes.map((c) => realPath(c.path.slice(0, -1))));
  for (const c of changes) {
    const entry = await view.lookup(c.path.slice(0, -1), c.path[c.path.length - 1] as string);
    const ok =
      c.op === 'mkdir'
        ? entry?.type === 'dir' && entry.mode === c.mode && entry.uid === 0 && entry.gid === 0
        : c.op === 'write'
          ? entry?.type === 'file' &&
            entry.mode === c.mode &&
            entry.uid === 0 &&
            entry.gid === 0 &&
            entry.size === c.data.length
          : entry === undefined;
    if (!ok) throw new ToolError('E_DEBUGFS', `after debugfs -w, ${realPath(c.path)} is not as staged (${c.op})`);
  }
}
