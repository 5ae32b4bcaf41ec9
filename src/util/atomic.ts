/**
 * Atomic writers: data goes to a sibling temporary name first and is renamed into place, so a
 * reader (or a crash) sees either the old bytes or the new ones, never half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

function sideName(target: string, tag: string): string {
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

export interface AtomicWriteOptions {
  /** false: never replace an existing file (the write fails with EEXIST, as `open(O_EXCL)` would). Default true. */
  overwrite?: boolean;
}

/** Writes `data` (bytes, text, or chunks streamed as they come) to `file` atomically with `mode` (default 0644). Creates parent directories. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array>,
  mode = 0o644,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = sideName(file, 'tmp');
  try {
    const handle = await fs.open(tmp, 'wx', mode);
    try {
      await fs.writeFile(handle, data); // fs.writeFile takes async iterables too (FileHandle.writeFile's types do not)
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.overwrite === false) {
      // link(2) fails if the name exists, so the complete file appears at once or not at all.
      await fs.link(tmp, file);
      await fs.rm(tmp, { force: true });
    } else {
      await fs.rename(tmp, file);
    }
  } catch (e) {
    await fs.rm(tmp, { force: true });
    // The error of the rename names the temporary file; the user named `file`.
    const err = e as NodeJS.ErrnoException;
    if (err.path === tmp) err.path = file;
    throw e;
  }
}

/**
 * Builds a directory tree beside `target` with `fill`, then puts it at `target` so that a kill at
 * any instant leaves the old or the new tree there. Node has no renameat2(RENAME_EXCHANGE), so
 * `target` is a symbolic link to the tree, `.NAME.tree-DIGEST` beside it (named by its content, so
 * building the same tree again changes nothing), and the swap renames a new link over it, which
 * rename(2) does atomically; then the old tree is removed. If `fill` throws, nothing changes.
 *
 * A real directory at `target` (from a version that wrote one) is renamed aside first: a kill in
 * the one step between that rename and the link's leaves no `target`, and the next run puts the
 * waiting link in place before anything else. Every run removes what killed runs left beside
 * `target` (trees nothing links to, links, staging directories) unless the process that made it is
 * still running.
 *
 * A caller that knows what `fill` writes may name the tree by `contentDigest` (16 hex digits)
 * instead of having it read back; when that tree is already in place, nothing is written.
 */
export async function replaceDirAtomic(
  target: string,
  fill: (dir: string) => Promise<void>,
  options: { contentDigest?: string } = {},
): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  fsSync.mkdirSync(dir, { recursive: true });
  recoverInterruptedSwap(target);
  if (options.contentDigest !== undefined && managedTree(target) === treeNameOf(target, options.contentDigest)) {
    removeLeftovers(target); // the same tree is in place: nothing to write
    return;
  }
  const staging = sideName(target, 'new');
  fsSync.mkdirSync(staging, { mode: 0o755 });
  try {
    await fill(staging);
  } catch (e) {
    fsSync.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  const treeName = treeNameOf(target, options.contentDigest ?? treeDigest(staging));
  const tree = path.join(dir, treeName);
  if (managedTree(target) === treeName) {
    fsSync.rmSync(staging, { recursive: true, force: true }); // the same tree is in place
  } else {
    // The link first: while a running build has one, other runs leave the trees beside target alone.
    const link = sideName(target, 'link');
    fsSync.symlinkSync(treeName, link);
    // A tree of that name nothing links to may be half removed by a killed run: never trust it. One
    // a running build links to is that build's, complete, and the same as ours.
    if (!liveRuns(target).some((e) => e.kind === 'link' && readLink(path.join(dir, e.name)) === treeName))
      fsSync.rmSync(tree, { recursive: true, force: true });
    try {
      fsSync.renameSync(staging, tree);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fsSync.rmSync(staging, { recursive: true, force: true });
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
        fsSync.rmSync(link, { force: true });
        throw e;
      }
      // else a running build has just put the same tree there
    }
    const st = fsSync.lstatSync(target, { throwIfNoEntry: false });
    if (st?.isDirectory()) fsSync.renameSync(target, sideName(target, 'old'));
    fsSync.renameSync(link, target);
  }
  removeLeftovers(target);
}

function treeNameOf(target: string, digest: string): string {
  return `.${path.basename(target)}.tree-${digest}`;
}

/** Names, types, modes and bytes of a tree, as a short hex digest. */
function treeDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    for (const name of fsSync.readdirSync(path.join(root, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, r);
      const st = fsSync.lstatSync(abs);
      hash.update(`${r}\0${st.mode}\0`);
      if (st.isDirectory()) walk(r);
      else if (st.isSymbolicLink()) hash.update(fsSync.readlinkSync(abs));
      else hash.update(createHash('sha256').update(fsSync.readFileSync(abs)).digest());
      hash.update('\0');
    }
  };
  walk('');
  return hash.digest('hex').slice(0, 16);
}

interface SideEntry {
  name: string;
  kind: string;
  /** The process that made it; undefined for a complete tree. */
  pid?: number;
}

/** What replaceDirAtomic and sideName leave beside `target`. */
function sideEntries(target: string): SideEntry[] {
  const base = path.basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const made = new RegExp(`^\\.${base}\\.(link|new|old|tmp)-(\\d+)-[0-9a-f]{8}$`);
  const tree = new RegExp(`^\\.${base}\\.tree-[0-9a-f]{16}$`);
  const out: SideEntry[] = [];
  for (const name of fsSync.readdirSync(path.dirname(path.resolve(target)))) {
    const m = made.exec(name);
    if (m) out.push({ name, kind: m[1] as string, pid: Number(m[2]) });
    else if (tree.test(name)) out.push({ name, kind: 'tree' });
  }
  return out;
}

/** What other running processes have beside `target` now (their staging trees and links). */
function liveRuns(target: string): SideEntry[] {
  return sideEntries(target).filter(
    (e) => e.pid !== undefined && e.pid !== process.pid && (e.kind === 'new' || e.kind === 'link') && isRunning(e.pid),
  );
}

function readLink(file: string): string | undefined {
  try {
    return fsSync.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/** The name of the tree `target` links to, when it is one replaceDirAtomic made. */
export function managedTree(target: string): string | undefined {
  let link: string;
  try {
    link = fsSync.readlinkSync(target);
  } catch {
    return undefined;
  }
  return /^\.[^/]+\.tree-[0-9a-f]{16}$/.test(link) && link.startsWith(`.${path.basename(target)}.tree-`)
    ? link
    : undefined;
}

/** A kill between renaming a real directory aside and linking the new tree left no `target`: link it now. */
function recoverInterruptedSwap(target: string): void {
  if (fsSync.lstatSync(target, { throwIfNoEntry: false })) return;
  const dir = path.dirname(path.resolve(target));
  const links = sideEntries(target)
    .filter((e) => e.kind === 'link' && !isRunning(e.pid))
    .map((e) => path.join(dir, e.name))
    .filter((l) => fsSync.existsSync(l)) // a link is made only to a complete tree
    .sort((a, b) => fsSync.lstatSync(b).mtimeMs - fsSync.lstatSync(a).mtimeMs);
  if (links[0] !== undefined) fsSync.renameSync(links[0], target);
}

function removeLeftovers(target: string): void {
  const dir = path.dirname(path.resolve(target));
  const current = managedTree(target);
  // A tree another running build is putting in place is not litter: that build cleans up after it.
  const busy = liveRuns(target).length > 0;
  for (const e of sideEntries(target)) {
    if (e.name === current || (e.kind === 'tree' && busy)) continue;
    if (e.kind !== 'tree' && e.pid !== process.pid && isRunning(e.pid)) continue;
    fsSync.rmSync(path.join(dir, e.name), { recursive: true, force: true });
  }
}

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readFileIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
