/** Checks of paths given as options, made before any work so that a wrong path is one line naming the option. */
import { promises as fs } from 'node:fs';
import { InputError } from '../errors.js';

/** An output directory option (`--out`, `--store`) may be absent (it is created) but not a file. */
export async function assertDirectoryOrAbsent(dir: string, option: string): Promise<void> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (stat !== undefined && !stat.isDirectory())
    throw new InputError('E_USAGE', { field: option }, `${dir} exists and is not a directory`);
}
