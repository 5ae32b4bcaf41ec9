/**
 * Reading a file the user named, never more than its format can need: a 1 GiB file of zeros or
 * /dev/zero given by mistake is refused after MAX + 1 bytes instead of filling memory. FIFOs and
 * process substitutions (`--keys <(gpg --export …)`) are read as streams, so they keep working.
 */
import { promises as fs } from 'node:fs';
import { InputError, type Location } from '../errors.js';

export const MiB = 1024 * 1024;

/** The most each kind of input may hold (containers/image caps manifests and signatures at 4 MiB). */
export const INPUT_LIMITS = {
  manifest: 4 * MiB,
  keyring: 8 * MiB,
  secretKey: 8 * MiB,
  policy: 16 * MiB,
  sigstoreConfig: 4 * MiB,
  /** A containers-auth.json: one small entry per registry. */
  credential: 4 * MiB,
  certificate: 4 * MiB,
  initdata: 4 * MiB,
  passphrase: 64 * 1024,
} as const;

export interface ReadInputOptions {
  /** What the file is meant to be, for messages: `manifest`, `keyring`… */
  what: string;
  maxBytes: number;
  /** The option that named the file (`--manifest`), when there is one. */
  field?: string;
}

/** The whole file, or InputError (not found, a directory, unreadable, larger than maxBytes). */
export async function readInputFile(file: string, options: ReadInputOptions): Promise<Buffer> {
  const location: Location = { file, ...(options.field ? { field: options.field } : {}) };
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new InputError('E_FILE_NOT_FOUND', { file }, `the ${options.what} file does not exist`, { cause: e });
    if (code === 'ENAMETOOLONG') throw new InputError('E_FILE_READ', location, 'the file name is too long');
    if (code === 'EACCES' || code === 'EPERM')
      throw new InputError('E_FILE_READ', location, `cannot read the ${options.what}: permission denied`);
    throw new InputError('E_FILE_READ', location, `cannot read the ${options.what} (${code ?? 'error'})`);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new InputError('E_NOT_A_FILE', location, `is a directory, not a ${options.what}`);
    const tooLarge = () =>
      new InputError(
        'E_TOO_LARGE',
        location,
        `is larger than ${describeSize(options.maxBytes)}, more than ${/^[aeiou]/i.test(options.what) ? 'an' : 'a'} ${options.what} can be`,
      );
    if (stat.isFile() && stat.size > options.maxBytes) throw tooLarge();
    // Read as a stream up to one byte past the limit: FIFOs and character devices have no size.
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(Math.min(options.maxBytes + 1, 1 * MiB));
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, options.maxBytes + 1 - total), null);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
      total += bytesRead;
      if (total > options.maxBytes) throw tooLarge();
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError('E_FILE_READ', location, `cannot read the ${options.what} (${code ?? 'error'})`, {
      cause: e,
    });
  } finally {
    await handle.close();
  }
}

function describeSize(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`;
}
