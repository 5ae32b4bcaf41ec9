/**
 * `kbs-bundler verify IMAGE`: would the CoCo guest (image-rs) pull this image, and would the host
 * (podman/CRI-O) decide the same? Exit 0 allowed, 1 denied, 2 bad input.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { parsePlatform } from '../../registry/index.js';
import { SIDE_LABEL, type SideDecision, type VerifierMode, type VerifyReport } from '../../verify/types.js';
import { verifyImageFiles } from '../../verify/verify-files.js';
import { CURRENT_HOST_RELEASE, formatHostRelease, parseHostRelease } from '../../releases/containers-image.js';
import { CURRENT_GUEST_RELEASE, formatGuestRelease, parseGuestRelease } from '../../releases/guest-components.js';
import { printJson, printLine, style } from '../output.js';

interface VerifyFlags {
  kbs?: string;
  config?: string;
  initdata?: string;
  rootfs?: string;
  manifest?: string;
  digest?: string;
  fetch?: boolean;
  mode: string;
  kbsRepository: string;
  kbsTag: string;
  policy?: string;
  sigstoreConfig?: string;
  platform?: string;
  caFile?: string[];
  insecure?: boolean;
  json?: boolean;
  guestRelease: string;
  hostRelease: string;
}

const MODES: readonly VerifierMode[] = ['image-rs', 'containers-image', 'both'];

export function register(program: Command): void {
  program
    .command('verify')
    .description("Decide, as the guest's image-rs would (and as podman/CRI-O would), whether IMAGE may be pulled")
    .argument('<image>', 'image reference as the pod spec names it (e.g. registry.example.com:5000/demo/app:1.0)')
    .option(
      '--kbs <repo>',
      'KBS repository: a nested or flat directory, its tarball, or an offline-fs-kbc resources JSON',
    )
    .option('--rootfs <path>', 'guest rootfs: directory, disk image (kata-containers.img) or initrd; read only')
    .option('--manifest <file>', 'the platform manifest of the image')
    .option('--digest <sha256:hex>', 'the platform manifest digest')
    .option('--fetch', 'fetch the manifest (and cosign signatures) from the registry, with the KBS credential')
    .option(
      '--mode <mode>',
      'image-rs (the guest), containers-image (podman/CRI-O) or both (with a divergence report; the exit code follows the guest)',
      'image-rs',
    )
    .option('--kbs-repository <name>', 'KBS repository name of the resources', 'default')
    .option('--kbs-tag <tag>', 'KBS tag of the resources', 'test')
    .option('--policy <file>', 'use this policy.json instead of <repo>/security-policy/<tag>')
    .option('--sigstore-config <file>', 'use this sigstore config instead of <repo>/sigstore-config/<tag>')
    .option(
      '--initdata <file>',
      "the pod's initdata (TOML or gzip+base64): policy and sigstore config as the guest reads them (URI first, then inline); with --fetch, its extra_root_certificates are trusted",
    )
    .option(
      '-c, --config <file>',
      "bundle.yaml: with --fetch, trust its registries' caFile and use its credentials when the KBS has none",
    )
    .option('--platform <os/arch[/variant]>', 'platform chosen from an image index with --fetch', 'linux/amd64')
    .option(
      '--ca-file <file>',
      'extra CA certificate (PEM) to trust for the registry; repeatable',
      (f: string, all: string[]) => [...all, f],
      [] as string[],
    )
    .option('--insecure', 'talk plain http to the registry')
    .option(
      '--guest-release <version>',
      'decide as image-rs of this guest-components release (older ones: empty rule lists, OpenPGP library, kbs+ keyPaths, cosign)',
      formatGuestRelease(CURRENT_GUEST_RELEASE),
    )
    .option(
      '--host-release <version>',
      'decide as this containers/image release (before 5.37: signatures by subkeys refused, as skopeo 1.9.3 does)',
      formatHostRelease(CURRENT_HOST_RELEASE),
    )
    .option('--json', 'machine-readable report')
    .action(async (image: string, flags: VerifyFlags) => {
      const report = await runVerify(image, flags);
      if (flags.json) printJson(report);
      else printReport(report);
      process.exitCode = report.allowed ? 0 : 1;
    });
}

async function runVerify(image: string, flags: VerifyFlags): Promise<VerifyReport> {
  if (!(MODES as readonly string[]).includes(flags.mode)) {
    throw new InputError('E_USAGE', { field: '--mode' }, `must be one of ${MODES.join(', ')}`);
  }
  const given = [flags.manifest, flags.digest, flags.fetch ? true : undefined].filter((v) => v !== undefined);
  if (given.length !== 1)
    throw new InputError('E_USAGE', {}, 'give exactly one of --manifest FILE, --digest sha256:… or --fetch');
  if (!flags.kbs && !flags.policy && !flags.initdata)
    throw new InputError('E_USAGE', {}, 'give --kbs REPO, --initdata FILE or --policy FILE');
  // Checked before any network access (an image's index is only read once fetched).
  if (flags.fetch && flags.platform !== undefined) {
    try {
      parsePlatform(flags.platform);
    } catch (e) {
      throw new InputError('E_USAGE', { field: '--platform' }, (e as Error).message, { cause: e });
    }
  }
  if (flags.initdata && (flags.policy || flags.sigstoreConfig))
    throw new InputError(
      'E_USAGE',
      { field: '--initdata' },
      'the initdata names the policy and sigstore config; drop --policy/--sigstore-config',
    );
  return verifyImageFiles({
    image,
    mode: flags.mode as VerifierMode,
    manifest: flags.manifest
      ? { file: flags.manifest }
      : flags.digest
        ? { digest: flags.digest }
        : { fetch: true, ...(flags.platform ? { platform: flags.platform } : {}) },
    ...(flags.kbs ? { kbs: flags.kbs } : {}),
    kbsRepository: flags.kbsRepository,
    kbsTag: flags.kbsTag,
    ...(flags.rootfs ? { rootfs: flags.rootfs } : {}),
    ...(flags.initdata ? { initdataFile: flags.initdata } : {}),
    ...(flags.config ? { bundleFile: flags.config } : {}),
    ...(flags.policy ? { policyFile: flags.policy } : {}),
    ...(flags.sigstoreConfig ? { sigstoreConfigFile: flags.sigstoreConfig } : {}),
    caFiles: flags.caFile ?? [],
    guestRelease: parseGuestRelease(flags.guestRelease),
    hostRelease: parseHostRelease(flags.hostRelease),
    ...(flags.insecure ? { insecure: true } : {}),
  });
}

function printDecision(d: SideDecision): void {
  const verdict = d.allowed ? style.good('ALLOWED') : style.bad('DENIED');
  printLine(`${verdict}  ${d.image}  [${SIDE_LABEL[d.side]}]`);
  if (d.scope) printLine(`  scope: ${d.scope}`);
  if (d.rules?.length) {
    printLine('  rules:');
    d.rules.forEach((r, i) => printLine(`    ${i + 1}. ${r}`));
  } else if (d.rules) printLine('  rules: (empty list)');
  for (const o of d.outcomes) {
    printLine(
      `  rule ${o.index + 1} ${o.allowed ? style.good('passed') : style.bad('failed')}${o.reason ? `: ${o.reason}` : ''}`,
    );
    if (o.signatureLocation) printLine(`    signatures from ${o.signatureLocation}`);
    for (const s of o.signatures) {
      printLine(`    ${s.accepted ? style.good('✓') : style.bad('✗')} ${s.source}: ${s.reason}`);
      if (s.signedIdentity)
        printLine(
          style.dim(`        signed ${s.signedIdentity} ${s.signedDigest ?? ''}${s.signer ? ` by ${s.signer}` : ''}`),
        );
      for (const n of s.notes ?? []) printLine(style.dim(`        note: ${n}`));
    }
    for (const n of o.notes) printLine(style.dim(`    note: ${n}`));
  }
  for (const n of d.notes) printLine(style.dim(`  note: ${n}`));
  if (!d.allowed) {
    printLine(`  message: ${d.message}`);
    for (const c of d.chain.slice(1)) printLine(`    caused by: ${c}`);
  }
}

function printReport(r: VerifyReport): void {
  const followed = [
    r.releases.guest ? `image-rs of guest-components ${r.releases.guest}` : undefined,
    r.releases.host ? `containers/image ${r.releases.host}` : undefined,
  ].filter(Boolean);
  const verdicts = r.decisions.map((d) => `${d.allowed ? 'ALLOWED' : 'DENIED'} by ${SIDE_LABEL[d.side]}`).join(', ');
  printLine(
    `${style.bold(r.allowed ? 'ALLOWED' : 'DENIED')} ${r.image}${r.digest ? ` (${r.digest})` : ''}${r.decisions.length > 1 ? `: ${verdicts}` : ''}`,
  );
  printLine(style.dim(`  decided as ${followed.join(' and ')}`));
  for (const d of r.decisions) {
    printLine();
    printDecision(d);
  }
  for (const t of r.registryTls ?? [])
    printLine(style.dim(`registry TLS: ${t.registry} trusted through ${t.trustedBy}`));
  if (r.divergences.length) {
    printLine();
    printLine(style.warn('The guest and the host decide differently:'));
    for (const d of r.divergences) printLine(`  - ${d.rule}: ${d.detail}`);
  }
}
