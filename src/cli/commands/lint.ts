/**
 * `kbs-bundler lint`: configuration the guest will fail on, or treat differently from the host,
 * each finding with its fix. Exit 0 clean, 1 findings, 2 bad input.
 */
import type { Command } from 'commander';
import { loadBundle } from '../../bundle/index.js';
import { InputError } from '../../errors.js';
import { cdhImageConfig, readInitdata } from '../../initdata/parse.js';
import { initdataImageInputs } from '../../verify/initdata-config.js';
import type { GuestFiles } from '../../verify/inputs.js';
import { lintInitdataImage } from '../../verify/lint/initdata.js';
import { registriesNamedByKbs } from '../../verify/lint/kbs-registries.js';
import type { LintInputs } from '../../verify/lint/types.js';
import { renderResources } from '../../kbs/index.js';
import { openKbsRepository } from '../../kbs/read.js';
import { assertSegment, resourcePath } from '../../resource-id/resource-id.js';
import { openRootfsReader, type RootfsReader } from '../../rootfs/reader.js';
import {
  defaultSignatureBackend,
  lintConfiguration,
  type LintFinding,
  type ResourceSource,
} from '../../verify/index.js';
import { INPUT_LIMITS, readInputFile } from '../../util/read-input.js';
import { printJson, printLine, style } from '../output.js';
import {
  CURRENT_GUEST_RELEASE,
  formatGuestRelease,
  parseGuestRelease,
  type GuestRelease,
} from '../../releases/guest-components.js';

interface LintFlags {
  kbs?: string;
  config?: string;
  initdata?: string;
  rootfs?: string;
  kbsRepository: string;
  kbsTag: string;
  json?: boolean;
  guestRelease: string;
}

export function register(program: Command): void {
  program
    .command('lint')
    .description('Find configuration the guest (image-rs) will fail on or treat differently from the host, with fixes')
    .option('--kbs <repo>', 'KBS repository: nested or flat directory, tarball, or offline-fs-kbc JSON')
    .option('-c, --config <file>', 'bundle.yaml (lint what build would write)')
    .option(
      '--initdata <file>',
      "a pod's initdata (TOML or gzip+base64): lint the policy and sigstore config its guest uses (URI first, then inline)",
    )
    .option('--rootfs <path>', 'guest rootfs (directory, disk image or initrd) to check key files and signatures in')
    .option('--kbs-repository <name>', 'KBS repository name of the resources', 'default')
    .option('--kbs-tag <tag>', 'KBS tag of the resources', 'test')
    .option(
      '--guest-release <version>',
      'lint for image-rs of this guest-components release (older ones: empty rule lists, kbs+ keyPaths)',
      formatGuestRelease(CURRENT_GUEST_RELEASE),
    )
    .option('--json', 'machine-readable findings')
    .action(async (flags: LintFlags) => {
      const guestRelease = parseGuestRelease(flags.guestRelease);
      const findings = await runLint(flags, guestRelease);
      if (flags.json) printJson({ guestRelease: formatGuestRelease(guestRelease), findings });
      else printFindings(findings, guestRelease);
      process.exitCode = findings.length ? 1 : 0;
    });
}

const NO_GUEST_FILES: GuestFiles = {
  readFile: () => Promise.resolve(undefined),
  listDir: () => Promise.resolve(undefined),
};

interface LintSources {
  resources: ResourceSource;
  label: string;
  repo: string;
  tag: string;
  registryCas?: Array<{ registry: string; pem: string; source: string }>;
  registries?: string[];
  registrySources?: Map<string, string[]>;
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
  if (!flags.kbs && flags.initdata)
    return { resources: { get: () => Promise.resolve(undefined) }, label: flags.initdata, repo: '', tag: '' };
  if (!flags.kbs) throw new InputError('E_USAGE', {}, 'give --kbs REPO, -c bundle.yaml or --initdata FILE');
  // resource names: `..` or an empty one would name another path of the repository
  assertSegment(flags.kbsRepository, { field: '--kbs-repository' });
  assertSegment(flags.kbsTag, { field: '--kbs-tag' });
  const repo = await openKbsRepository(flags.kbs);
  const resources: ResourceSource = { get: (p) => repo.get(p) };
  // Without a bundle.yaml, the registries are the ones the KBS names (credential auths, sigstore config docker:).
  const named = await registriesNamedByKbs(resources, flags.kbsRepository, flags.kbsTag);
  return {
    resources,
    label: flags.kbs,
    repo: flags.kbsRepository,
    tag: flags.kbsTag,
    registries: named.registries,
    registrySources: named.sources,
  };
}

async function runLint(flags: LintFlags, guestRelease: GuestRelease): Promise<LintFinding[]> {
  const { resources, label, repo, tag, registryCas, registries, registrySources } = await resourcesFrom(flags);
  const rootfs: RootfsReader | undefined = flags.rootfs ? await openRootfsReader(flags.rootfs) : undefined;
  try {
    const used = flags.initdata
      ? await initdataInUse(flags.initdata, resources, rootfs, guestRelease)
      : await repositoryInUse(resources, label, repo, tag);
    const findings = await lintConfiguration(
      {
        policy: used.policy,
        ...(used.sigstoreConfig ? { sigstoreConfig: used.sigstoreConfig } : {}),
        resources,
        ...(rootfs ? { rootfs } : {}),
        ...(registryCas ? { registryCas } : {}),
        ...(registries ? { registries } : {}),
        ...(registrySources ? { registrySources } : {}),
        guestRelease,
      },
      defaultSignatureBackend,
    );
    return [...used.findings, ...findings];
  } finally {
    await rootfs?.close();
  }
}

type InUse = Pick<LintInputs, 'policy' | 'sigstoreConfig'> & { findings: LintFinding[] };

/** What a guest told by this initdata uses: its URIs (from --kbs / -c, --rootfs) first, else its inline values. */
async function initdataInUse(
  file: string,
  resources: ResourceSource,
  rootfs: RootfsReader | undefined,
  guestRelease: GuestRelease,
): Promise<InUse> {
  const bytes = await readInputFile(file, { what: 'initdata', maxBytes: INPUT_LIMITS.initdata, field: '--initdata' });
  const image = cdhImageConfig(readInitdata(bytes, { file }).document, { file });
  const inputs = await initdataImageInputs(image, resources, rootfs ?? NO_GUEST_FILES, { file }, guestRelease);
  return { ...inputs, findings: lintInitdataImage(image, file) };
}

async function repositoryInUse(resources: ResourceSource, label: string, repo: string, tag: string): Promise<InUse> {
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
  return {
    policy: { bytes: policy, source: `kbs:///${policyId}` },
    ...(sigstore ? { sigstoreConfig: { bytes: sigstore, source: `kbs:///${sigstoreId}` } } : {}),
    findings: [],
  };
}

function printFindings(findings: LintFinding[], guestRelease: GuestRelease): void {
  const release = style.dim(`(linted for image-rs of guest-components ${formatGuestRelease(guestRelease)})`);
  if (findings.length === 0) {
    printLine(style.good('No findings: the guest and the host read this configuration the same way.'));
    printLine(release);
    return;
  }
  printLine(style.bold(`${findings.length} finding${findings.length === 1 ? '' : 's'}:`));
  for (const f of findings) {
    printLine(`${style.warn(f.code)} ${f.where}`);
    printLine(`  problem: ${f.problem}`);
    printLine(`  fix:     ${f.fix}`);
  }
  printLine(release);
}
