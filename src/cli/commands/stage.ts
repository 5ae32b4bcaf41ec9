/** `kbs-bundler stage`: signatures, keyrings, registry CAs and /etc/hosts entries into a guest rootfs. */
import type { Command } from 'commander';
import { FindingsError } from '../../errors.js';
import { loadBundle } from '../../bundle/index.js';
import { stageRootfs, type StageResult } from '../../stage/stage.js';
import type { PlanEntry, StageWarning } from '../../stage/types.js';
import { printJson, printLine, progressReporter, style, warnLine } from '../output.js';

interface StageFlags {
  config: string;
  rootfs: string;
  signatures?: string[];
  dryRun?: boolean;
  json?: boolean;
  tar?: string;
  mount: boolean;
  reverity?: boolean;
  rebuild?: boolean;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('stage')
    .description(
      'Stage signatures, GPG keyrings, registry CA certificates and /etc/hosts entries into a kata guest rootfs (directory, disk image or initrd)',
    )
    .requiredOption('-c, --config <file>', 'bundle.yaml')
    .requiredOption(
      '--rootfs <path>',
      'a directory, a kata disk image (bare ext4 or MBR) or an initrd; detected from its bytes',
    )
    .option(
      '--signatures <store...>',
      "signature stores to copy from (lookaside dir, signatures.tar, dir: layout); default: the bundle's `signatures:`",
    )
    .option('--dry-run', 'print the plan (create / append / replace / skip per path) and change nothing')
    .option('--json', 'machine-readable result')
    .option('--tar <file>', 'write an overlay tarball of the staged files instead of changing the rootfs')
    .option('--no-mount', 'write disk images through debugfs even as root (the default without root)')
    .option(
      '--rebuild',
      'allow an erofs image: extract it, stage into the tree and make a new erofs filesystem from it',
    )
    .option('--reverity', 'allow staging into a dm-verity measured image and re-make its hash tree')
    .option('--force', 'stage despite warnings (exit 0)')
    .addHelpText(
      'after',
      [
        '',
        'Exit 2 before any change: the rootfs is locked by another stage or unstage (no waiting), or a disk image',
        'is mounted or attached to a loop device, or not writable by this user. A symlinked image is changed',
        'through the file it points to. A stage killed at any instant is undone by unstage or finished by stage.',
      ].join('\n'),
    )
    .action(async (flags: StageFlags) => {
      const bundle = await loadBundle(flags.config);
      const result = await stageRootfs({
        rootfs: flags.rootfs,
        input: bundle,
        signatureStores: flags.signatures ?? bundle.signatureSources,
        dryRun: flags.dryRun,
        force: flags.force,
        tar: flags.tar,
        noMount: !flags.mount,
        reverity: flags.reverity,
        rebuild: flags.rebuild,
        onProgress: flags.json ? undefined : progressReporter('staging'),
      });
      if (flags.json) printJson(stageJson(result));
      else printStage(result);
      reportWarnings(result.plan.warnings, flags.json);
      if (result.blocked) {
        throw new FindingsError(
          'E_STAGE_WARNINGS',
          `stage stopped by ${result.plan.warnings.length} warning(s); nothing was changed. Fix them, or pass --force to stage anyway`,
        );
      }
    });
}

export function stageJson(r: StageResult): unknown {
  return {
    rootfs: r.rootfs,
    kind: r.kind,
    method: r.method,
    dryRun: r.dryRun,
    applied: r.applied,
    blocked: r.blocked,
    counts: r.plan.counts,
    entries: r.plan.entries,
    skippedSignatures: r.plan.skippedSignatures,
    warnings: r.plan.warnings,
    notes: r.notes,
    ...(r.verity ? { verity: r.verity } : {}),
  };
}

const ORDER: Record<PlanEntry['what'], number> = {
  initrd: 0,
  keyring: 1,
  'ca-bundle': 2,
  hosts: 3,
  signature: 4,
  record: 5,
  directory: 6,
};

export function printEntries(entries: readonly PlanEntry[], all: boolean): void {
  const shown = entries
    .filter((e) => e.what !== 'directory' && (all || e.action !== 'skip'))
    .sort((a, b) => ORDER[a.what] - ORDER[b.what]);
  const signatures = shown.filter((e) => e.what === 'signature');
  const limit = all ? Infinity : 20;
  let sigShown = 0;
  for (const e of shown) {
    if (e.what === 'signature' && ++sigShown > limit) continue;
    const action = e.action === 'skip' ? style.dim(e.action.padEnd(8)) : style.good(e.action.padEnd(8));
    const where = e.realPath !== e.path ? `${e.path} → ${e.realPath}` : e.path;
    // a signature's source path is in --json; here it would only repeat the digest
    const detail = e.detail && e.what !== 'signature' ? `: ${e.detail}` : '';
    printLine(`  ${action} ${where}  ${style.dim(`${e.what}${detail}`)}`);
    for (const link of e.via ?? []) printLine(`           ${style.dim(`via ${link}`)}`);
  }
  if (sigShown > limit)
    printLine(`  … and ${signatures.length - limit} more signature(s) (--dry-run or --json lists them all)`);
}

function printStage(r: StageResult): void {
  const head = r.dryRun
    ? 'Plan for'
    : r.blocked
      ? 'Not staged into'
      : r.applied
        ? 'Staged into'
        : 'Nothing to change in';
  printLine(style.bold(`${head} ${r.rootfs} (${r.kind === r.method ? r.kind : `${r.kind}, ${r.method}`}):`));
  printEntries(r.plan.entries, r.dryRun);
  const c = r.plan.counts;
  const dirs = r.plan.entries.filter((e) => e.what === 'directory').length;
  const done = r.applied;
  const dirText = dirs ? `, ${dirs} ${done ? 'directories created' : `new director${dirs === 1 ? 'y' : 'ies'}`}` : '';
  printLine(
    `${c.create} ${done ? 'created' : 'to create'}, ${c.append} ${done ? 'appended to' : 'to append to'}, ${c.replace} ${done ? 'replaced' : 'to replace'}, ${c.skip} unchanged${dirText}${r.dryRun ? style.dim(' (dry run: nothing changed)') : ''}`,
  );
  if (r.plan.skippedSignatures.length > 0) {
    printLine(style.bold(`Not copied (${r.plan.skippedSignatures.length} signature(s)):`));
    for (const s of r.plan.skippedSignatures.slice(0, 20))
      printLine(`  ${s.source}${s.image ? ` (${s.image})` : ''}: ${s.reason}`);
    if (r.plan.skippedSignatures.length > 20)
      printLine(`  … and ${r.plan.skippedSignatures.length - 20} more (--json lists them all)`);
  }
  for (const n of r.notes) printLine(style.warn(`note: ${n}`));
  if (r.verity) {
    printLine(style.bold('dm-verity hash tree re-made (partition 2):'));
    printLine(`  root hash: ${r.verity.rootHash}`);
    printLine(`  salt:      ${r.verity.salt}`);
    printLine('  Put this in the kata configuration ([hypervisor.qemu] kernel_verity_params, or the annotation');
    printLine('  io.katacontainers.config.hypervisor.kernel_verity_params):');
    printLine(`  kernel_verity_params = "${r.verity.kernelVerityParams}"`);
    printLine(
      style.warn(
        '  The image and its root hash changed, so the TEE launch measurement changes too: update the trustee reference values.',
      ),
    );
  }
}

export function reportWarnings(warnings: readonly StageWarning[], quietFix = false): void {
  for (const w of warnings) {
    warnLine(`warning [${w.code}]${w.path ? ` ${w.path}` : ''}: ${w.reason}`);
    if (!quietFix) warnLine(`  fix: ${w.fix}`);
  }
}
