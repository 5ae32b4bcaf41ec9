/**
 * `kbs-bundler lint`: configuration the guest will fail on, or treat differently from the host,
 * each finding with its fix. Exit 0 clean, 1 findings, 2 bad input.
 */
import type { Command } from 'commander';
import { loadBundle } from '../../bundle/index.js';
import { InputError } from '../../errors.js';
import { renderResources } from '../../kbs/index.js';
import { openKbsRepository } from '../../kbs/read.js';
import { resourcePath } from '../../kbs/resource-id.js';
import { openRootfsReader, type RootfsReader } from '../../rootfs/reader.js';
import {
  defaultSignatureBackend,
  lintConfiguration,
  type LintFinding,
  type ResourceSource,
} from '../../verify/index.js';
import { printJson, printLine, style } from '../output.js';

interface LintFlags {
  kbs?: string;
  config?: string;
  rootfs?: string;
  kbsRepository: string;
  kbsTag: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('lint')
    .description('Find configuration the guest (image-rs) will fail on or treat differently from the host, with fixes')
    .option('--kbs <repo>', 'KBS repository: nested or flat directory, tarball, or offline-fs-kbc JSON')
    .option('-c, --config <file>', 'bundle.yaml (lint what build would write)')
    .option('--rootfs <path>', 'guest rootfs (directory, disk image or initrd) to check key files and signatures in')
    .option('--kbs-repository <name>', 'KBS repository name of the resources', 'default')
    .option('--kbs-tag <tag>', 'KBS tag of the resources', 'test')
    .option('--json', 'machine-readable findings')
    .action(async (flags: LintFlags) => {
      const findings = await runLint(flags);
      if (flags.json) printJson({ findings });
      else printFindings(findings);
      process.exitCode = findings.length ? 1 : 0;
    });
}

interface LintSources {
  resources: ResourceSource;
  label: string;
  repo: string;
  tag: string;
  registryCas?: Array<{ registry: string; pem: string; source: string }>;
  registries?: string[];
}

async function resourcesFrom(flags: LintFlags): Promise<LintSources> {
  if (flags.kbs && flags.config) throw new InputError('E_USAGE', {}, 'give --kbs REPO or -c bundle.yaml, not both');
  if (flags.config) {
    const bundle = await loadBundle(flags.config);
    const rendered = new Map((await renderResources(bundle)).map((r) => [resourcePath(r.id), r.bytes]));
    const registryCas = bundle.registries.flatMap((r) =>
      r.caPem ? [{ registry: r.registry, pem: r.caPem, source: r.caFile ?? flags.config ?? '' }] : [],
    );
    return {
      resources: { get: (p) => Promise.resolve(rendered.get(p)) },
      label: flags.config,
      repo: bundle.repository,
      tag: bundle.tag,
      registryCas,
      registries: bundle.registries.map((r) => r.registry),
    };
  }
  if (!flags.kbs) throw new InputError('E_USAGE', {}, 'give --kbs REPO or -c bundle.yaml');
  const repo = await openKbsRepository(flags.kbs);
  return { resources: { get: (p) => repo.get(p) }, label: flags.kbs, repo: flags.kbsRepository, tag: flags.kbsTag };
}

async function runLint(flags: LintFlags): Promise<LintFinding[]> {
  const { resources, label, repo, tag, registryCas, registries } = await resourcesFrom(flags);
  const policyId = `${repo}/security-policy/${tag}`;
  const policy = await resources.get(policyId);
  if (!policy)
    throw new InputError(
      'E_NO_POLICY',
      { file: label },
      `has no ${policyId}: a guest told to fetch it fails every pull, a guest with no policy configured checks nothing`,
    );
  const sigstoreId = `${repo}/sigstore-config/${tag}`;
  const sigstore = await resources.get(sigstoreId);
  const rootfs: RootfsReader | undefined = flags.rootfs ? await openRootfsReader(flags.rootfs) : undefined;
  try {
    return await lintConfiguration(
      {
        policy: { bytes: policy, source: `kbs:///${policyId}` },
        ...(sigstore ? { sigstoreConfig: { bytes: sigstore, source: `kbs:///${sigstoreId}` } } : {}),
        resources,
        ...(rootfs ? { rootfs } : {}),
        ...(registryCas ? { registryCas } : {}),
        ...(registries ? { registries } : {}),
      },
      defaultSignatureBackend,
    );
  } finally {
    await rootfs?.close();
  }
}

function printFindings(findings: LintFinding[]): void {
  if (findings.length === 0) {
    printLine(style.good('No findings: the guest and the host read this configuration the same way.'));
    return;
  }
  printLine(style.bold(`${findings.length} finding${findings.length === 1 ? '' : 's'}:`));
  for (const f of findings) {
    printLine(`${style.warn(f.code)} ${f.where}`);
    printLine(`  problem: ${f.problem}`);
    printLine(`  fix:     ${f.fix}`);
  }
}
