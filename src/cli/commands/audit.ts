/** `kbs-bundler audit`: verify every signature in a store and say, per file, whether the guest and the host accept it. */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { INPUT_LIMITS, readInputFile } from '../../util/read-input.js';
import { readPublicKeyring } from '../../keys/index.js';
import {
  isSmallStore,
  readPolicyKeys,
  startAuditThreads,
  type AuditReport,
  type AuditedSignature,
} from '../../audit/index.js';
import { printJson, printLine, progressReporter, style, warnLine } from '../output.js';

/** Each thread holds its own heap and keyring: thousands of them exhaust memory long before they help. */
const MAX_JOBS = 64;

interface AuditFlags {
  store: string;
  keys?: string[];
  policy?: string;
  jobs?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('audit')
    .description(
      'Verify every signature in a lookaside dir, signatures tarball or dir: layout, as the guest and the host would',
    )
    .requiredOption('--store <dir|tar>', 'lookaside directory, signatures.tar(.gz), or dir: image layout')
    .option('--keys <keyring...>', 'trusted public keyrings (armored or binary)')
    .option(
      '--policy <file>',
      'policy.json: also trust its signedBy keys (keyData, keyPath), and say which scopes trust each signer',
    )
    .option(
      '--jobs <n>',
      'threads verifying signatures (default: one per core; 1 for a dir: layout or a tarball under 1 MiB; 1 = no worker threads)',
    )
    .option('--json', 'machine-readable report')
    .action(async (flags: AuditFlags) => {
      if (!flags.keys && !flags.policy)
        throw new InputError('E_USAGE', {}, 'give --keys KEYRING... and/or --policy FILE');
      const jobs = flags.jobs === undefined ? undefined : Number(flags.jobs);
      if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS))
        throw new InputError('E_USAGE', { field: '--jobs' }, `must be a whole number from 1 to ${MAX_JOBS}`);
      const keyrings = [];
      for (const file of flags.keys ?? []) {
        const bytes = await readInputFile(file, { what: 'keyring', maxBytes: INPUT_LIMITS.keyring, field: '--keys' });
        keyrings.push(await readPublicKeyring(bytes, { file }));
      }
      const policy = flags.policy ? await readPolicyKeys(flags.policy) : undefined;
      if (policy) {
        keyrings.push(...policy.keyrings);
        for (const note of policy.notes) warnLine(note);
      }
      if (keyrings.length === 0)
        throw new InputError('E_NO_KEYS', { file: flags.policy }, 'no signedBy key readable on this machine');
      // The workers load while this thread starts reading the store, and judge what it has read so far.
      const threads = await startAuditThreads(keyrings, {
        threads: jobs ?? (isSmallStore(flags.store) ? 1 : undefined),
      });
      const stats = { threads: 1, inWorkers: 0 };
      const report = await threads.auditStore(flags.store, {
        onProgress: progressReporter('verifying'),
        ...(policy ? { scopesByFingerprint: policy.scopesByFingerprint } : {}),
        stats,
      });
      if (process.env.KBS_BUNDLER_DEBUG)
        process.stderr.write(
          `audit: ${report.total} signatures on ${stats.threads} threads, ${stats.inWorkers} of them in worker threads\n`,
        );
      if (flags.json) printJson(report);
      else printReport(report);
      if (report.good !== report.total || report.total === 0) process.exitCode = 1;
    });
}

function side(s: AuditedSignature['guest']): string {
  return s.accepted ? style.good('accepts') : style.bad('rejects');
}

function printReport(report: AuditReport): void {
  for (const image of report.images) {
    const name = image.repositoryPath === '' ? '(dir: layout)' : image.repositoryPath;
    printLine(
      style.bold(`${name}@${image.digest}`) +
        `  guest ${image.guestAccepts ? style.good('accepts') : style.bad('rejects')}, host ${image.hostAccepts ? style.good('accepts') : style.bad('rejects')}`,
    );
    for (const s of image.signatures) {
      const status = s.status === 'good' ? style.good(s.status) : style.bad(s.status);
      const signer = s.signer
        ? ` by ${s.signer.fingerprint}${s.signer.userId ? ` (${s.signer.userId})` : ''}${s.signer.bySubkey ? ` subkey ${s.signer.subkeyFingerprint}` : ''}`
        : '';
      const identity = s.identity ? ` identity ${s.identity}` : '';
      const trusted =
        s.trustedBy === undefined
          ? ''
          : s.trustedBy.length > 0
            ? ` trusted by ${s.trustedBy.join(', ')}`
            : ' trusted by no policy scope';
      printLine(`  ${s.name}: ${status}${signer}${identity}${trusted}; guest ${side(s.guest)}, host ${side(s.host)}`);
      if (!s.guest.accepted) printLine(style.dim(`    guest: ${s.guest.reason}`));
      if (!s.host.accepted) printLine(style.dim(`    host: ${s.host.reason}`));
    }
  }
  const parts = Object.entries(report.counts).map(([k, v]) => `${v} ${k}`);
  printLine(`${report.total} signatures in ${report.images.length} images: ${parts.join(', ') || 'none'}`);
}
