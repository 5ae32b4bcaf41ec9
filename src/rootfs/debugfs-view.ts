/**
 * An ext4 filesystem inside an image file, seen through debugfs at `img?offset=N` (no mount, no
 * root). Directory listings are cached and can be fetched many at a time in one debugfs process;
 * so can files (dumped into a scratch directory and read from there). Changes are made by
 * debugfs-apply.ts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { realPath, type GuestView } from './changes.js';
import { debugfsCat, dq, fastLinkTarget, parseLsP, runDebugfs, type DebugfsEntry } from './debugfs.js';
import { e2fsSpec } from './detect.js';
import { makeScratchDir } from './scratch-dir.js';

export class DebugfsView implements GuestView {
  readonly spec: string;
  private readonly dirs = new Map<string, Promise<Map<string, DebugfsEntry> | undefined>>();
  private readonly targets = new Map<string, Promise<string>>();
  private readonly files = new Map<string, Buffer>();

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

  /**
   * Reads many files (real paths) in one debugfs run, for `read` to answer from memory. Paths that
   * are missing or not files are left for `read` to report.
   */
  async prefetchFiles(paths: readonly string[]): Promise<void> {
    const wanted = [...new Set(paths)].filter((p) => !this.files.has(p));
    if (wanted.length === 0) return;
    const scratch = await makeScratchDir('kbs-debugfs-read-', 0, wanted.length);
    try {
      const local = (i: number) => path.join(scratch, String(i));
      await runDebugfs(
        this.spec,
        wanted.map((p, i) => `dump ${dq(p)} ${dq(local(i))}`),
      );
      for (const [i, p] of wanted.entries()) {
        const bytes = await fs.readFile(local(i)).catch(() => undefined);
        if (bytes) this.files.set(p, bytes);
      }
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  }

  private listing(p: readonly string[]): Promise<Map<string, DebugfsEntry> | undefined> {
    const key = realPath(p);
    if (!this.dirs.has(key)) void this.prefetch([key]);
    return this.dirs.get(key) as Promise<Map<string, DebugfsEntry> | undefined>;
  }

  async lookup(parent: readonly string[], name: string): Promise<DebugfsEntry | undefined> {
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
    const key = realPath(p);
    return Promise.resolve(this.files.get(key) ?? debugfsCat(this.spec, key));
  }

  async list(p: readonly string[]): Promise<string[]> {
    return [...((await this.listing(p))?.keys() ?? [])].sort();
  }

  async entries(p: readonly string[]): Promise<DebugfsEntry[]> {
    return [...((await this.listing(p))?.values() ?? [])];
  }
}
