/**
 * `kbs-bundler verify IMAGE`: would the CoCo guest (image-rs) pull this image, and would the host
 * (podman/CRI-O) decide the same? Exit 0 allowed, 1 denied, 2 bad input.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { openKbsRepository, type KbsRepositoryReader } from '../../kbs/read.js';
import { openRootfsReader, type RootfsReader } from '../../rootfs/reader.js';
import { defaultSignatureBackend } from '../../verify/default-backend.js';
import { loadVerifyInputs, manifestFromDigest, manifestFromFile } from '../../verify/sources.js';
import { verifyImage } from '../../verify/verify.js';
import { SIDE_LABEL, type SideDecision, type VerifierMode, type VerifyReport } from '../../verify/types.js';
import { GuestNotGivenError, type GuestFiles, type ManifestInput } from '../../verify/inputs.js';
import { parseAuths } from '../../verify/auths.js';
import type { HttpGetter } from '../../verify/inputs.js';
import type { FetchOptions } from '../../registry/index.js';
import { caPemProblem } from '../../registry/ca-pem.js';
import { CA_BUNDLE_FAMILIES } from '../../stage/ca.js';
import { INPUT_LIMITS, readInputFile } from '../../util/read-input.js';
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
}

const MODES: readonly VerifierMode[] = ['image-rs', 'containers-image', 'both'];

/**
 * Without --rootfs there is no guest to read signatures from: a rule that needs them is a usage error
 * (checking an empty guest would deny with "no signature exists" while the signatures sit on the host).
 * Other files (a keyPath) read as missing, as in an empty guest.
 */
function noRootfs(image: string): GuestFiles {
  const needRootfs = (where: string) =>
    new GuestNotGivenError(
      '--rootfs',
      `the policy for ${image} needs signatures, which are read from the guest rootfs (${where}): give --rootfs DIR|IMG, or --rootfs / for this machine's own store`,
    );
  return {
    readFile: (guestPath) =>
      /\/signature-\d+$/.test(guestPath) ? Promise.reject(needRootfs(guestPath)) : Promise.resolve(undefined),
    listDir: (guestPath) => Promise.reject(needRootfs(guestPath)),
  };
}

/** The network side (registry client, http/https/tls), loaded only when a verify goes to the network. */
const registryAccess = () => import('../../verify/registry-access.js');

function lazyHttpStoreGetter(options: FetchOptions): HttpGetter {
  return { get: async (url) => (await registryAccess()).httpStoreGetter(options).get(url) };
}

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
    .option(
      '-c, --config <file>',
      "bundle.yaml: with --fetch, trust its registries' caFile and use its credentials when the KBS has none",
    )
    .option(
      '--initdata <file>',
      "the guest's initdata (TOML or its annotation value): with --fetch, trust cdh.toml's extra_root_certificates",
    )
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
    .option('--platform <os/arch[/variant]>', 'platform chosen from an image index with --fetch', 'linux/amd64')
    .option(
      '--ca-file <file>',
      'extra CA certificate (PEM) to trust for the registry; repeatable',
      (f: string, all: string[]) => [...all, f],
      [] as string[],
    )
    .option('--insecure', 'talk plain http to the registry')
    .option('--json', 'machine-readable report')
    .action(async (image: string, flags: VerifyFlags) => {
      const trust: RegistryTrust[] = [];
      const report = await runVerify(image, flags, trust);
      if (flags.json) printJson(trust.length ? { ...report, registryTls: trust } : report);
      else {
        printReport(report);
        for (const t of trust) printLine(style.dim(`registry TLS: ${t.registry} trusted through ${t.trustedBy}`));
      }
      process.exitCode = report.allowed ? 0 : 1;
    });
}

/** Which CA made each registry connection trusted (the guest trusts its rootfs bundles and cdh.toml's CAs). */
interface RegistryTrust {
  registry: string;
  trustedBy: string;
}

async function runVerify(image: string, flags: VerifyFlags, trust: RegistryTrust[]): Promise<VerifyReport> {
  if (!(MODES as readonly string[]).includes(flags.mode)) {
    throw new InputError('E_USAGE', { field: '--mode' }, `must be one of ${MODES.join(', ')}`);
  }
  const given = [flags.manifest, flags.digest, flags.fetch ? true : undefined].filter((v) => v !== undefined);
  if (given.length !== 1)
    throw new InputError('E_USAGE', {}, 'give exactly one of --manifest FILE, --digest sha256:… or --fetch');
  if (!flags.kbs && !flags.policy) throw new InputError('E_USAGE', {}, 'give --kbs REPO (or --policy FILE)');

  const repository: KbsRepositoryReader | undefined = flags.kbs ? await openKbsRepository(flags.kbs) : undefined;
  const rootfs: RootfsReader | undefined = flags.rootfs ? await openRootfsReader(flags.rootfs) : undefined;
  try {
    const fetchOptions = await registryOptions(flags, repository, rootfs, trust);
    // Every local input is read and checked before the network is touched: a wrong --kbs-tag is
    // a usage error, not a registry denial reported after a fetch.
    const fromFile = flags.manifest ? await manifestFromFile(flags.manifest) : undefined;
    const local = await loadVerifyInputs({
      image,
      ...(repository ? { repository } : {}),
      kbsRepository: flags.kbsRepository,
      kbsTag: flags.kbsTag,
      ...(flags.policy ? { policyFile: flags.policy } : {}),
      ...(flags.sigstoreConfig ? { sigstoreConfigFile: flags.sigstoreConfig } : {}),
      rootfs: rootfs ?? noRootfs(image),
      manifest: fromFile ?? (flags.digest ? manifestFromDigest(flags.digest) : { digest: '' }),
      http: lazyHttpStoreGetter(fetchOptions),
      ...(flags.fetch ? { cosign: (await registryAccess()).cosignFetcher(fetchOptions) } : {}),
    });
    let inputs = local;
    if (flags.fetch) {
      const fetched = await fetchManifest(image, fetchOptions);
      if ('pullProblem' in fetched) return fetchDenial(image, flags.mode as VerifierMode, fetched.pullProblem);
      inputs = { ...local, manifest: fetched };
    }
    return await verifyImage(inputs, flags.mode as VerifierMode, defaultSignatureBackend);
  } finally {
    await rootfs?.close();
  }
}

/** The manifest from the registry; a registry failure is what the guest would hit too. */
async function fetchManifest(
  image: string,
  fetchOptions: FetchOptions,
): Promise<ManifestInput | { pullProblem: string }> {
  const { fetchPlatformManifest } = await registryAccess();
  const { RegistryError } = await import('../../registry/errors.js');
  try {
    return await fetchPlatformManifest(image, fetchOptions);
  } catch (e) {
    if (e instanceof RegistryError) return { pullProblem: e.message };
    throw e;
  }
}

async function registryOptions(
  flags: VerifyFlags,
  repository: KbsRepositoryReader | undefined,
  rootfs: RootfsReader | undefined,
  trust: RegistryTrust[],
): Promise<FetchOptions> {
  const caSources: Array<{ source: string; pem: string }> = [];
  for (const f of flags.caFile ?? []) {
    const pem = (await readInputFile(f, { what: 'CA certificate', maxBytes: INPUT_LIMITS.certificate })).toString(
      'utf8',
    );
    const problem = caPemProblem(pem);
    if (problem !== undefined) throw new InputError('E_CA_FILE', { file: f, field: '--ca-file' }, problem);
    caSources.push({ source: `--ca-file ${f}`, pem });
  }
  // The guest trusts the CA bundles of its rootfs (stage appends the registry CAs to them).
  for (const { paths } of CA_BUNDLE_FAMILIES) {
    for (const p of paths) {
      const bytes = await rootfs?.readFile(p);
      if (bytes) caSources.push({ source: `the guest CA bundle ${p}`, pem: Buffer.from(bytes).toString('utf8') });
    }
  }
  if (flags.initdata !== undefined) {
    const { initdataRootCertificates } = await import('../../verify/initdata-cas.js');
    const bytes = await readInputFile(flags.initdata, { what: 'initdata', maxBytes: INPUT_LIMITS.initdata });
    for (const [i, pem] of initdataRootCertificates(bytes, flags.initdata).entries())
      caSources.push({ source: `${flags.initdata} cdh.toml extra_root_certificates[${i}]`, pem });
  }
  const credentialId = `${flags.kbsRepository}/credential/${flags.kbsTag}`;
  const credential = await repository?.get(credentialId);
  let auths = credential ? parseAuths(credential, `kbs:///${credentialId}`) : undefined;
  if (flags.config !== undefined) {
    const { loadBundle } = await import('../../bundle/index.js');
    const bundle = await loadBundle(flags.config);
    for (const r of bundle.registries)
      if (r.caPem !== undefined)
        caSources.push({ source: `${flags.config} registries["${r.registry}"].caFile`, pem: r.caPem });
    if (auths === undefined) {
      const { renderResources } = await import('../../kbs/render.js');
      const own = (await renderResources(bundle)).find(
        (r) => r.id.type === 'credential' && r.id.repository === bundle.repository && r.id.tag === bundle.tag,
      );
      if (own) auths = parseAuths(own.bytes, `${flags.config} registries`);
    }
  }
  return {
    ...(auths ? { auths } : {}),
    ...(caSources.length ? { caSources } : {}),
    onTrusted: (registry, source) => {
      if (!trust.some((t) => t.registry === registry && t.trustedBy === source))
        trust.push({ registry, trustedBy: source });
    },
    ...(flags.insecure ? { insecure: true } : {}),
    ...(flags.platform ? { platform: flags.platform } : {}),
  };
}

function fetchDenial(image: string, mode: VerifierMode, problem: string): VerifyReport {
  const sides =
    mode === 'both' ? (['guest', 'host'] as const) : mode === 'image-rs' ? (['guest'] as const) : (['host'] as const);
  const decisions: SideDecision[] = sides.map((side) => ({
    side,
    allowed: false,
    image,
    outcomes: [],
    notes: [],
    code: 'E_FETCH',
    message: `cannot pull the image manifest: ${problem}`,
    chain: [`cannot pull the image manifest: ${problem}`],
  }));
  return { image, digest: '', mode, allowed: false, decisions, divergences: [] };
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
  const verdicts = r.decisions.map((d) => `${d.allowed ? 'ALLOWED' : 'DENIED'} by ${SIDE_LABEL[d.side]}`).join(', ');
  printLine(
    `${style.bold(r.allowed ? 'ALLOWED' : 'DENIED')} ${r.image}${r.digest ? ` (${r.digest})` : ''}${r.decisions.length > 1 ? `: ${verdicts}` : ''}`,
  );
  for (const d of r.decisions) {
    printLine();
    printDecision(d);
  }
  if (r.divergences.length) {
    printLine();
    printLine(style.warn('The guest and the host decide differently:'));
    for (const d of r.divergences) printLine(`  - ${d.rule}: ${d.detail}`);
  }
}
