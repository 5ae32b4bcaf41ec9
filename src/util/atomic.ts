/**
 * Atomic writers: data goes to a sibling temporary name first and is renamed into place, so a
 * reader (or a crash) sees either the old bytes or the new ones, never half a file.
 */
import { randomBytes } from 'node:crypto';
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
    throw e;
  }
}

/**
 * Builds a directory tree beside `target` with `fill`, then swaps it into place. If `fill`
 * throws, the previous `target` is untouched. The swap renames the old tree aside first and
 * removes it only after the new one is in place. The trees are small (build's outputs): the
 * renames and removals are synchronous calls, cheaper than a thread-pool round trip each.
 */
export async function replaceDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  fsSync.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const staging = sideName(target, 'new');
  fsSync.mkdirSync(staging, { mode: 0o755 });
  const removeStaging = () => fsSync.rmSync(staging, { recursive: true, force: true });
  try {
    await fill(staging);
  } catch (e) {
    removeStaging();
    throw e;
  }
  const old = sideName(target, 'old');
  let hadOld = false;
  try {
    fsSync.renameSync(target, old);
    hadOld = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      removeStaging();
      throw e;
    }
  }
  try {
    fsSync.renameSync(staging, target);
  } catch (e) {
    if (hadOld) fsSync.renameSync(old, target);
    removeStaging();
    throw e;
  }
  if (hadOld) fsSync.rmSync(old, { recursive: true, force: true });
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
