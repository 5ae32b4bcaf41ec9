/**
 * What a stage killed part-way (SIGKILL, power loss of the process) leaves in a rootfs it changes
 * in place, found from the intent it wrote before its first change (a record marked `pending`):
 * - files it had begun to write in place (recorded as new, there with other bytes than recorded),
 * - the temporary files of its write-aside-and-rename steps,
 * - or, killed before even the intent was written, the record's directory holding nothing but
 *   temporary files.
 * Stage hides them while planning and replaces or removes them; unstage removes them.
 */
import type { Change, GuestView } from '../rootfs/changes.js';
import { isTemporaryName } from '../rootfs/directory-target.js';
import { RECORD_DIR, RECORD_PATH, sha256, type StageRecord } from './record.js';

export interface Leftovers {
  /** Files the killed run had begun to write, as real paths (`var/lib/…`, no leading slash). */
  partial: Set<string>;
  /** Temporary files, as real component lists. */
  temporary: string[][];
  /** The record's directory was made by a run killed before it wrote its intent (nothing else is in it). */
  orphanRecordDir: boolean;
}

const components = (guestPath: string) => guestPath.split('/').filter((c) => c !== '');

export function noLeftovers(): Leftovers {
  return { partial: new Set(), temporary: [], orphanRecordDir: false };
}

export function hasLeftovers(l: Leftovers): boolean {
  return l.partial.size > 0 || l.temporary.length > 0 || l.orphanRecordDir;
}

/** `record` is the one in the rootfs, undefined when there is none. */
export async function findLeftovers(view: GuestView, record: StageRecord | undefined): Promise<Leftovers> {
  const found = noLeftovers();
  if (record === undefined) {
    const dir = components(RECORD_DIR);
    const names = await listIfDirectory(view, dir);
    if (names !== undefined && names.every(isTemporaryName)) {
      found.temporary.push(...names.map((n) => [...dir, n]));
      found.orphanRecordDir = true;
    }
    return found;
  }
  if (!record.pending) return found;
  for (const f of record.files) {
    if (f.original) continue; // written aside and renamed: it holds the original or the staged bytes
    const p = components(f.path);
    const node = await view.lookup(p.slice(0, -1), p[p.length - 1] as string);
    if (node?.type === 'file' && sha256(await view.read(p)) !== f.sha256) found.partial.add(p.join('/'));
  }
  const parents = new Set(
    [...record.files.map((f) => f.path), ...record.blocks.map((b) => b.path), RECORD_PATH].map((p) =>
      components(p).slice(0, -1).join('/'),
    ),
  );
  for (const parent of [...parents].sort()) {
    const dir = parent === '' ? [] : parent.split('/');
    for (const name of (await listIfDirectory(view, dir)) ?? []) {
      if (!isTemporaryName(name)) continue;
      const node = await view.lookup(dir, name);
      if (node?.type === 'file') found.temporary.push([...dir, name]);
    }
  }
  return found;
}

/** The view without the leftovers, for planning as if they were not there. */
export function withoutLeftovers(view: GuestView, l: Leftovers): GuestView {
  if (!hasLeftovers(l)) return view;
  const hidden = new Set([...l.partial, ...l.temporary.map((p) => p.join('/'))]);
  const isHidden = (p: readonly string[]) => hidden.has(p.join('/'));
  return {
    lookup: (parent, name) => (isHidden([...parent, name]) ? Promise.resolve(undefined) : view.lookup(parent, name)),
    read: (p) => view.read(p),
    list: async (p) => (await view.list(p)).filter((n) => !isHidden([...p, n])),
    ...(view.prefetch ? { prefetch: (dirs: readonly string[]) => view.prefetch!(dirs) } : {}),
  };
}

/** Removals for the temporary files (partial files are replaced or removed by the caller's plan). */
export function removeTemporary(l: Leftovers): Change[] {
  return l.temporary.map((p) => ({ op: 'remove', path: p }));
}

async function listIfDirectory(view: GuestView, dir: readonly string[]): Promise<string[] | undefined> {
  if (dir.length > 0) {
    const node = await view.lookup(dir.slice(0, -1), dir[dir.length - 1] as string);
    if (node?.type !== 'dir') return undefined;
  }
  return view.list(dir);
}
