/** `kbs-bundler init`: write a commented starter bundle.yaml from templates/bundle.yaml. */
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import { InputError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { printLine } from '../output.js';

export const TEMPLATE = new URL('../../../templates/bundle.yaml', import.meta.url);

export function register(program: Command): void {
  program
    .command('init')
    .description('Write a commented starter bundle.yaml')
    .option('-o, --output <file>', 'where to write it', 'bundle.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--dry-run', 'print the starter instead of writing it')
    .action(async (flags: { output: string; force?: boolean; dryRun?: boolean }) => {
      const text = await fs.readFile(TEMPLATE, 'utf8');
      if (flags.dryRun) {
        process.stdout.write(text);
        return;
      }
      const exists = await fs.lstat(flags.output).then(
        () => true,
        () => false,
      );
      if (exists && !flags.force) {
        throw new InputError('E_EXISTS', { file: flags.output }, 'already exists; use --force to overwrite it');
      }
      await writeFileAtomic(flags.output, text);
      printLine(`Wrote ${flags.output}; edit it, then run: kbs-bundler build -c ${flags.output} -o repository`);
    });
}
