/**
 * `kbs-bundler quickstart [--dir DIR]`: the whole flow rehearsed on the bundled sample, offline and without
 * root. Exit 0 when the guest check allowed the signed manifest and denied the tampered one, 1 otherwise.
 */
import type { Command } from 'commander';
import {
  DEFAULT_QUICKSTART_DIR,
  planQuickstart,
  runQuickstart,
  type QuickstartPlan,
  type QuickstartResult,
  type QuickstartStep,
} from '../../quickstart/index.js';
import type { VerifyReport } from '../../verify/types.js';
import { printJson, printLine, style } from '../output.js';

interface QuickstartFlags {
  dir: string;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('quickstart')
    .description(
      'Rehearse the whole flow offline: key, signature, bundle.yaml, KBS repository, staged rootfs, guest check (allowed and denied)',
    )
    .option(
      '--dir <dir>',
      'directory to write everything into (empty, missing, or an earlier quickstart output)',
      `./${DEFAULT_QUICKSTART_DIR}`,
    )
    .option('--force', 'write into a non-empty directory that is not an earlier quickstart output')
    .option('--dry-run', 'check the directory and list what would be written; write nothing')
    .option('--json', 'machine-readable result')
    .action(async (flags: QuickstartFlags) => {
      if (flags.dryRun) {
        const plan = await planQuickstart({ dir: flags.dir, force: Boolean(flags.force) });
        if (flags.json) printJson({ dryRun: true, ...plan });
        else printPlan(plan);
        return;
      }
      const result = await runQuickstart({
        dir: flags.dir,
        force: Boolean(flags.force),
        ...(flags.json ? {} : { onStep: printStep }),
      });
      if (flags.json) printJson(resultJson(result));
      else printEnding(result);
      process.exitCode = result.storyHeld ? 0 : 1;
    });
}

function printPlan(p: QuickstartPlan): void {
  const where =
    p.target === 'previous'
      ? 'the earlier quickstart output in'
      : p.target === 'forced'
        ? 'the non-empty directory (--force)'
        : 'the new directory';
  printLine(style.bold(`Would write into ${where} ${p.dir}:`));
  const width = Math.max(...p.writes.map((w) => w.path.length));
  for (const w of p.writes) printLine(`  ${w.path.padEnd(width)}  ${style.dim(w.what)}`);
  printLine(style.dim('(dry run: nothing written, no key generated)'));
}

let stepNumber = 0;

function printStep(step: QuickstartStep): void {
  const verdict = step.id.startsWith('verify-')
    ? step.summary.endsWith('ALLOWED')
      ? style.good
      : style.bad
    : style.bold;
  printLine(verdict(`${++stepNumber}. ${step.summary}`));
  for (const p of step.paths) printLine(`     ${p}`);
  for (const d of step.details) printLine(style.dim(`     ${d}`));
}

function printEnding(r: QuickstartResult): void {
  printLine();
  if (r.storyHeld) {
    printLine(
      style.good(
        'The guest would pull the signed image and refuse the tampered one: signature checking works end to end.',
      ),
    );
  } else {
    printLine(
      style.bad(
        `Unexpected: the signed manifest was ${r.signed.allowed ? 'allowed' : 'denied'} and the tampered copy ${r.tampered.allowed ? 'allowed' : 'denied'}.`,
      ),
    );
  }
  printLine(`See both sides decide: ${r.verifyCommand}`);
  printLine();
  printLine(style.bold('For a real setup:'));
  r.nextSteps.forEach((s, i) => {
    printLine(`  ${i + 1}. ${s.what}`);
    for (const c of s.commands) printLine(`       ${c}`);
  });
}

function decisionJson(r: VerifyReport): unknown {
  const d = r.decisions[0];
  return { allowed: r.allowed, digest: r.digest, scope: d?.scope, message: d?.message, chain: d?.chain };
}

function resultJson(r: QuickstartResult): unknown {
  return {
    dir: r.dir,
    target: r.target,
    image: r.image,
    digest: r.digest,
    fingerprint: r.fingerprint,
    storyHeld: r.storyHeld,
    signed: decisionJson(r.signed),
    tampered: decisionJson(r.tampered),
    steps: r.steps,
    nextSteps: r.nextSteps,
    verifyCommand: r.verifyCommand,
  };
}
