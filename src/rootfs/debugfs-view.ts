/**
 * An ext4 filesystem inside an image file, seen and changed through debugfs at `img?offset=N`
 * (no mount, no root). Directory listings are cached and can be fetched many at a time in one
 * debugfs process; writes go in one `debugfs -w` batch.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ToolError } from '../errors.js';
import { orderChanges, realPath, type Change, type GuestView } from './changes.js';
import { debugfsCat, dq, fastLinkTarget, parseLsP, runDebugfs, type DebugfsEntry } from './debugfs.js';
import { e2fsSpec } from './detect.js';
import type { GuestNode } from './guest-path.js';

export class DebugfsView implements GuestView {
  readonly spec: string;
  private readonly dirs = new Map<string, Promise<Map<string, DebugfsEntry> | undefined>>();
  private readonly targets = new Map<string, Promise<string>>();

  constructor(file: string, offset: number) {
    this.spec = e2fsSpec({ path: file, offset });
  }

  /** Lists many directories in one debugfs run (a missing one lists nothing, not even `.`). */
  async prefetch(dirs: readonly string[]): Promise<void> {
    const wanted = [...new Set(dirs)].filter((d) => !this.dirs.has(d));
    const CHUNK = 5000;
    for (let i = 0; i < wanted.length; i += CHUNK) {
      const chunk = wanted.slice(i, i + CHUNK);
      const run = runDebugfs(
        this.spec,
        chunk.map((d) => `ls -p ${dq(d)}`),
      );
      chunk.forEach((d, k) => {
        this.dirs.set(
          d,
          run.then((r) => {
            const section = r.sections[k] ?? '';
            return /^\/\d+\/[0-7]+\/\d+\/\d+\/\.\/\/$/m.test(section)
              ? new Map(parseLsP(section).map((e) => [e.name, e]))
              : undefined;
          }),
        );
      });
      await run;
    }
  }

  private listing(p: readonly string[]): Promise<Map<string, DebugfsEntry> | undefined> {
    const key = realPath(p);
    if (!this.dirs.has(key)) void this.prefetch([key]);
    return this.dirs.get(key) as Promise<Map<string, DebugfsEntry> | undefined>;
  }

  async lookup(parent: readonly string[], name: string): Promise<GuestNode | undefined> {
    const entry = (await this.listing(parent))?.get(name);
    if (!entry) return undefined;
    if (entry.type !== 'symlink') return entry;
    const p = realPath([...parent, name]);
    let target = this.targets.get(p);
    if (!target) {
      target = runDebugfs(this.spec, [`stat ${dq(p)}`]).then(
        async (r) => fastLinkTarget(r.sections[0] ?? '') ?? (await debugfsCat(this.spec, p)).toString('utf8'),
      );
      this.targets.set(p, target);
    }
    return { ...entry, target: await target };
  }

  read(p: readonly string[]): Promise<Buffer> {
    return debugfsCat(this.spec, realPath(p));
  }

  async list(p: readonly string[]): Promise<string[]> {
    return [...((await this.listing(p))?.keys() ?? [])].sort();
  }

  async entries(p: readonly string[]): Promise<DebugfsEntry[]> {
    return [...((await this.listing(p))?.values() ?? [])];
  }
}

/**
 * Applies changes with one `debugfs -w` batch: file data is staged in `scratch` first; mode and
 * owner are set with set_inode_field (debugfs `write` sets neither); a replaced file is removed
 * first (`write` refuses to overwrite). The result is read back and compared; any difference or
 * debugfs error is a ToolError. The caller works on a copy of the image, so a failure here never
 * reaches the user's image.
 */
export async function applyWithDebugfs(
  file: string,
  offset: number,
  changes: readonly Change[],
  scratch: string,
): Promise<void> {
  const spec = e2fsSpec({ path: file, offset });
  const commands: string[] = [];
  const owner = (p: string, mode: number) => [
    `sif ${dq(p)} mode 0${mode.toString(8)}`,
    `sif ${dq(p)} uid 0`,
    `sif ${dq(p)} gid 0`,
  ];
  let n = 0;
  for (const c of orderChanges(changes)) {
    const p = realPath(c.path);
    switch (c.op) {
      case 'mkdir':
        commands.push(`mkdir ${dq(p)}`, ...owner(p, 0o040000 | c.mode));
        break;
      case 'write': {
        const local = path.join(scratch, String(n++));
        await fs.writeFile(local, c.data);
        if (c.replaces) commands.push(`rm ${dq(p)}`);
        commands.push(`write ${dq(local)} ${dq(p)}`, ...owner(p, 0o100000 | c.mode));
        break;
      }
      case 'remove':
        commands.push(`rm ${dq(p)}`);
        break;
      case 'rmdir':
        commands.push(`rmdir ${dq(p)}`);
        break;
    }
  }
  const result = await runDebugfs(spec, commands, { write: true });
  const errors = result.errors.filter((l) => !/^Allocated inode: \d+$/.test(l));
  if (errors.length > 0)
    throw new ToolError('E_DEBUGFS', `debugfs -w ${spec} reported: ${errors.slice(0, 5).join('; ')}`);
  await verifyApplied(file, offset, changes);
}

async function verifyApplied(file: string, offset: number, changes: readonly Change[]): Promise<void> {
  const view = new DebugfsView(file, offset);
  const parents = changes.map((c) => realPath(c.path.slice(0, -1)));
  await view.prefetch(parents);
  for (const c of changes) {
    const node = await view.lookup(c.path.slice(0, -1), c.path[c.path.length - 1] as string);
    const entry = node as (GuestNode & { size?: number }) | undefined;
    const ok =
      c.op === 'mkdir'
        ? entry?.type === 'dir' && entry.mode === c.mode && entry.uid === 0
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
