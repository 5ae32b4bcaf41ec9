/**
 * Where each resource lives on a KBS host's disk. nested (trustee ≤ v0.18, the openEuler guide):
 * `<repo>/<type>/<tag>`. flat (trustee ≥ v0.19 LocalFs backend): `repository/<repo>\x2F<type>\x2F<tag>`,
 * the four characters `\x2F` literally in the file name.
 */
import { createHash } from 'node:crypto';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import type { KbsResource } from './render.js';
import { isValidSegment, type ResourceId } from '../resource-id/resource-id.js';
import { managedTree } from '../util/atomic.js';
import { asPromise } from '../util/as-promise.js';

export type Layout = 'nested' | 'flat';
export const LAYOUTS: readonly Layout[] = ['nested', 'flat'];
export const FLAT_SEPARATOR = '\\x2F';

/** The resource's path inside the output directory, `/`-separated. */
export function layoutPath(id: ResourceId, layout: Layout): string {
  return layout === 'nested'
    ? `${id.repository}/${id.type}/${id.tag}`
    : `repository/${[id.repository, id.type, id.tag].join(FLAT_SEPARATOR)}`;
}

/** Every directory the layout needs, parents first, `/`-separated without trailing slash. */
export function layoutDirs(resources: readonly KbsResource[], layout: Layout): string[] {
  const dirs = new Set<string>();
  for (const r of resources) {
    const parts = layoutPath(r.id, layout).split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort();
}

/**
 * Writes the resources into `dir` (which exists and is empty) with their modes. A handful of
 * files: synchronous calls, as a thread-pool round trip per call costs more than the call itself.
 */
export function writeTree(dir: string, resources: readonly KbsResource[], layout: Layout): Promise<void> {
  return asPromise(() => {
    // Explicit modes: the tree must not depend on the umask (the tarball does not).
    fsSync.chmodSync(dir, 0o755);
    for (const d of layoutDirs(resources, layout)) {
      fsSync.mkdirSync(path.join(dir, d));
      fsSync.chmodSync(path.join(dir, d), 0o755);
    }
    for (const r of resources) {
      const file = path.join(dir, layoutPath(r.id, layout));
      fsSync.writeFileSync(file, r.bytes, { flag: 'wx', mode: r.mode });
      fsSync.chmodSync(file, r.mode);
    }
  });
}

/**
 * What writeTree writes, as a digest for replaceDirAtomic: the layout, each file's path, mode and
 * the sha256 of its bytes (`sha256s`, in the order of `resources`). The format tag changes whenever
 * writeTree changes what it writes for the same resources.
 */
export function treeContentDigest(
  resources: readonly KbsResource[],
  sha256s: readonly string[],
  layout: Layout,
): string {
  const hash = createHash('sha256').update(`kbs-bundler writeTree 1\0${layout}\0`);
  resources.forEach((r, i) => hash.update(`${layoutPath(r.id, layout)}\0${r.mode}\0${sha256s[i]}\0`));
  return hash.digest('hex').slice(0, 16);
}

/** True when `relative` (a `/`-separated file path) is a resource file of either layout. */
function isResourceFile(relative: string): boolean {
  const parts = relative.split('/');
  if (parts.length === 3) return parts.every(isValidSegment);
  if (parts.length === 2 && parts[0] === 'repository') {
    const segs = (parts[1] ?? '').split(FLAT_SEPARATOR);
    return segs.length === 3 && segs.every(isValidSegment);
  }
  return false;
}

/**
 * `build -o DIR` replaces DIR as a whole. Refuse when DIR holds anything that is not a KBS
 * resource tree (a home directory, a source tree), so a wrong -o never wipes unrelated files.
 */
export async function assertReplaceableRepository(dir: string, option = '-o'): Promise<void> {
  await assertReplaceable(dir, option, isResourceFile, 'KBS resources');
}

export async function assertReplaceable(
  dir: string,
  option: string,
  allowed: (relative: string) => boolean,
  what: string,
): Promise<void> {
  let stat;
  try {
    // a link to the tree an earlier build made beside it (see replaceDirAtomic) is that tree
    stat = managedTree(dir) !== undefined ? await fs.stat(dir) : await fs.lstat(dir);
  } catch {
    return;
  }
  if (!stat.isDirectory()) throw new InputError('E_OUTPUT', { field: option }, `${dir} exists and is not a directory`);
  const stranger = await findStranger(dir, '', allowed);
  if (stranger !== undefined) {
    throw new InputError(
      'E_OUTPUT',
      { field: option },
      `${dir} holds ${stranger}, which is not one of the ${what} build writes; build replaces the directory as a whole, so choose a new or empty directory`,
    );
  }
}

async function findStranger(
  root: string,
  relative: string,
  allowed: (relative: string) => boolean,
): Promise<string | undefined> {
  const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true });
  for (const e of entries) {
    const rel = relative === '' ? e.name : `${relative}/${e.name}`;
    if (e.isDirectory()) {
      const found = await findStranger(root, rel, allowed);
      if (found !== undefined) return found;
    } else if (!e.isFile() || !allowed(rel)) {
      return rel;
    }
  }
  return undefined;
}
