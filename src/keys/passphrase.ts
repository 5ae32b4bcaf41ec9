/** Passphrases from a file (first line only, as skopeo reads --passphrase-file) or the environment. */
import { promises as fs } from 'node:fs';
import { FileNotFoundError, InputError } from '../errors.js';

export const PASSPHRASE_ENV = 'KBS_BUNDLER_PASSPHRASE';

export async function readPassphrase(options: { file?: string; env?: NodeJS.ProcessEnv }): Promise<string | undefined> {
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await fs.readFile(options.file, 'utf8');
    } catch {
      throw new FileNotFoundError(options.file, 'passphrase file');
    }
    const first = text.split(/\r?\n/)[0] ?? '';
    if (first === '')
      throw new InputError('E_EMPTY_PASSPHRASE', { file: options.file }, 'the first line (the passphrase) is empty');
    return first;
  }
  const fromEnv = (options.env ?? process.env)[PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
