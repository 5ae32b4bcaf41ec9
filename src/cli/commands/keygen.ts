/** `kbs-bundler keygen`: an OpenPGP signing key pair (RSA 3072 by default), armored public and secret (0600) files. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import {
  assertUserId,
  generateSigningKey,
  KEY_ALGORITHMS,
  readPassphrase,
  type KeyAlgorithm,
} from '../../keys/index.js';
import { assertDirectoryOrAbsent } from '../path-options.js';
import { printJson, printLine, warnLine } from '../output.js';
import { writeFileAtomic } from '../../util/atomic.js';

interface KeygenFlags {
  name: string;
  email?: string;
  out: string;
  basename: string;
  algorithm: string;
  passphraseFile?: string;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('keygen')
    .description('Generate an OpenPGP key pair for simple signing (RSA 3072 by default)')
    .requiredOption('--name <name>', 'user id name')
    .option('--email <email>', 'user id email')
    .option('--out <dir>', 'directory for the key files', '.')
    .option('--basename <name>', 'file names: <name>.pub.asc and <name>.sec.asc', 'signing-key')
    .option(
      '--algorithm <algo>',
      `one of ${KEY_ALGORITHMS.join(', ')} (statically built skopeo cannot read ed25519)`,
      'rsa3072',
    )
    .option(
      '--passphrase-file <file>',
      'encrypt the secret key with the first line of this file (or set KBS_BUNDLER_PASSPHRASE)',
    )
    .option('--force', 'replace existing key files')
    .option('--dry-run', 'show what would be written, generate and write nothing')
    .option('--json', 'machine-readable output')
    .action(async (flags: KeygenFlags) => {
      assertUserId(flags.name, flags.email);
      if (!(KEY_ALGORITHMS as readonly string[]).includes(flags.algorithm))
        throw new InputError('E_USAGE', { field: '--algorithm' }, `must be one of ${KEY_ALGORITHMS.join(', ')}`);
      await assertDirectoryOrAbsent(flags.out, '--out');
      if (!/^[A-Za-z0-9._-]+$/.test(flags.basename))
        throw new InputError('E_USAGE', { field: '--basename' }, 'use letters, digits, ".", "_" and "-" only');
      const publicFile = path.join(flags.out, `${flags.basename}.pub.asc`);
      const secretFile = path.join(flags.out, `${flags.basename}.sec.asc`);
      if (!flags.force) {
        for (const f of [publicFile, secretFile]) {
          if (
            await fs.stat(f).then(
              () => true,
              () => false,
            )
          )
            throw new InputError('E_EXISTS', { file: f }, 'already exists (use --force to replace it)');
        }
      }
      if (flags.dryRun) {
        if (flags.json)
          printJson({ dryRun: true, publicKey: publicFile, secretKey: secretFile, algorithm: flags.algorithm });
        else printLine(`Would write ${publicFile} and ${secretFile} (${flags.algorithm})`);
        return;
      }
      const passphrase = await readPassphrase({ file: flags.passphraseFile });
      const key = await generateSigningKey({
        name: flags.name,
        email: flags.email,
        algorithm: flags.algorithm as KeyAlgorithm,
        passphrase,
      });
      await fs.mkdir(flags.out, { recursive: true });
      await writeNew(secretFile, key.secretArmored, 0o600, Boolean(flags.force));
      await writeNew(publicFile, key.publicArmored, 0o644, Boolean(flags.force));
      if (passphrase === undefined) warnLine(`warning: ${secretFile} is not passphrase-protected`);
      if (flags.json) {
        printJson({
          fingerprint: key.fingerprint,
          keyId: key.keyId,
          algorithm: flags.algorithm,
          publicKey: publicFile,
          secretKey: secretFile,
          encrypted: passphrase !== undefined,
        });
      } else {
        printLine(key.fingerprint);
        printLine(`public key: ${publicFile}`);
        printLine(`secret key: ${secretFile} (mode 0600)`);
      }
    });
}

/** Written aside with its final mode, then renamed; without --force an existing file is never replaced. */
async function writeNew(file: string, data: string, mode: number, force: boolean): Promise<void> {
  try {
    await writeFileAtomic(file, data, mode, { overwrite: force });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new InputError('E_EXISTS', { file }, 'already exists (use --force to replace it)');
    throw e;
  }
}
