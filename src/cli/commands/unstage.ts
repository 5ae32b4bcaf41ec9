/** `kbs-bundler unstage`: remove what `stage` put into a rootfs and restore the files it appended to. */
import type { Command } from 'commander';
import { FindingsError } from '../../errors.js';
import { unstageRootfs } from '../../stage/unstage.js';
import { printJson, printLine, style } from '../output.js';
import { printEntries, reportWarnings } from './stage.js';

interface UnstageFlags {
  rootfs: string;
  dryRun?: boolean;
  json?: boolean;
  mount: boolean;
  reverity?: boolean;
  rebuild?: boolean;
}

export function register(program: Command): void {
  program
    .command('unstage')
    .description(
      'Remove exactly what `kbs-bundler stage` put into a rootfs and give appended files their original bytes back',
    )
    .addHelpText(
      'after',
      [
        '',
        'What is given back: the files stage created are removed (and the directories it made, when empty); the',
        'files it appended to or replaced get their bytes and mode back, and their owner in a directory or through',
        'a loop mount (through debugfs they are owned by root). Not given back: timestamps, inode numbers and the',
        "filesystem's own metadata (ext4 mount count, journal, block layout): a disk image is not byte-identical.",
        'A staged file or marked block edited since is left in place and kept in the record (exit 1).',
      ].join('\n'),
    )
    .requiredOption('--rootfs <path>', 'the directory, disk image or initrd that was staged into')
    .option('--dry-run', 'print what would be removed or restored and change nothing')
    .option('--json', 'machine-readable result')
    .option('--no-mount', 'write disk images through debugfs even as root')
    .option(
      '--rebuild',
      'allow an erofs image: extract it, stage into the tree and make a new erofs filesystem from it',
    )
    .option('--reverity', 'allow changing a dm-verity measured image and re-make its hash tree')
    .action(async (flags: UnstageFlags) => {
      const r = await unstageRootfs({
        rootfs: flags.rootfs,
        dryRun: flags.dryRun,
        noMount: !flags.mount,
        reverity: flags.reverity,
        rebuild: flags.rebuild,
      });
      if (flags.json) {
        printJson({
          rootfs: r.rootfs,
          kind: r.kind,
          method: r.method,
          dryRun: r.dryRun,
          applied: r.applied,
          counts: r.plan.counts,
          entries: r.plan.entries,
          warnings: r.plan.warnings,
          ...(r.verity ? { verity: r.verity } : {}),
        });
      } else {
        printLine(
          style.bold(
            `${r.dryRun ? 'Plan for' : r.applied ? 'Unstaged from' : 'Nothing to change in'} ${r.rootfs} (${r.kind === r.method ? r.kind : `${r.kind}, ${r.method}`}):`,
          ),
        );
        printEntries(r.plan.entries, r.dryRun);
        const dirs = r.plan.entries.filter((e) => e.what === 'directory' && e.action === 'remove').length;
        const done = r.applied;
        printLine(
          `${r.plan.counts.remove} ${done ? 'removed' : 'to remove'}, ${r.plan.counts.restore} ${done ? 'restored' : 'to restore'}, ${dirs} director${dirs === 1 ? 'y' : 'ies'} ${done ? 'removed' : 'to remove'}${r.dryRun ? style.dim(' (dry run: nothing changed)') : ''}`,
        );
        if (r.verity)
          printLine(
            `kernel_verity_params = "${r.verity.kernelVerityParams}" (the TEE measurement changes: update the trustee reference values)`,
          );
      }
      reportWarnings(r.plan.warnings, flags.json);
      if (r.plan.warnings.length > 0)
        throw new FindingsError(
          'E_UNSTAGE_WARNINGS',
          `${r.plan.warnings.length} staged file(s) changed since staging and were left in place; the record keeps them: check them, then run unstage again`,
        );
    });
}
