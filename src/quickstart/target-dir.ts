/**
 * Where quickstart may write: a missing or empty directory, or its own earlier output (found by its
 * marker file). Anything else is someone's data: refused before a single byte is written, unless forced.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { MARKER, QUICKSTART_FILES } from './layout.js';

export type TargetState = 'new' | 'empty' | 'previous' | 'forced';

async function isPreviousOutput(dir: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await fs.readFile(path.join(dir, QUICKSTART_FILES.marker), 'utf8')) as { tool?: unknown };
    return marker.tool === MARKER.tool;
  } catch {
    return false;
  }
}

export async function checkTargetDir(dir: string, force: boolean): Promise<TargetState> {
  let entries: string[];
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory())
      throw new InputError('E_NOT_A_DIRECTORY', { file: dir }, 'exists and is not a directory; choose another --dir');
    entries = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    if (e instanceof InputError) throw e;
    throw new InputError('E_DIR_UNREADABLE', { file: dir }, `cannot read the directory: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (entries.length === 0) return 'empty';
  if (await isPreviousOutput(dir)) return 'previous';
  if (force) return 'forced';
  throw new InputError(
    'E_DIR_NOT_EMPTY',
    { file: dir },
    `is not empty and is not an earlier quickstart output (no ${QUICKSTART_FILES.marker}); nothing was written. Choose another --dir, or pass --force to write the quickstart files into it`,
  );
}
