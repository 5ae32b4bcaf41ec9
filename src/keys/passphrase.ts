/** Passphrases from a file (first line only, as skopeo reads --passphrase-file) or the environment. */
import { InputError } from '../errors.js';
import { INPUT_LIMITS, readInputFile } from '../util/read-input.js';

export const PASSPHRASE_ENV = 'KBS_BUNDLER_PASSPHRASE';

export async function readPassphrase(options: { file?: string; env?: NodeJS.ProcessEnv }): Promise<string | undefined> {
  if (options.file !== undefined) {
    const text = (
      await readInputFile(options.file, { what: 'passphrase', maxBytes: INPUT_LIMITS.passphrase })
    ).toString('utf8');
    const first = text.split(/\r?\n/)[0] ?? '';
    if (first === '')
      throw new InputError('E_EMPTY_PASSPHRASE', { file: options.file }, 'the first line (the passphrase) is empty');
    return first;
  }
  const fromEnv = (options.env ?? process.env)[PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
