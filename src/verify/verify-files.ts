/**
 * Verification as a use case: the image, the paths a user points at (a KBS repository, a guest
 * rootfs, the pod's initdata, a bundle.yaml, loose policy / sigstore config files) and where the
 * manifest comes from, in; the report out. `verify` and `quickstart` both call it.
 *
 * Every local input is read and checked before the network is touched: a wrong --kbs-tag is a usage
 * error, not a registry denial reported after a fetch.
 */
import { InputError } from '../errors.js';
import { openKbsRepository, type KbsRepositoryReader } from '../kbs/read.js';
import { caPemProblem } from '../registry/ca-pem.js';
import type { FetchOptions } from '../registry/index.js';
import type { HostRelease } from '../releases/containers-image.js';
import type { GuestRelease } from '../releases/guest-components.js';
import { openRootfsReader, type RootfsReader } from '../rootfs/reader.js';
import { CA_BUNDLE_FAMILIES } from '../stage/ca.js';
import { INPUT_LIMITS, readInputFile } from '../util/read-input.js';
import { parseAuths } from './auths.js';
import type { SignatureBackend } from './backend.js';
import { defaultSignatureBackend } from './default-backend.js';
import { initdataFileInputs, type InitdataImageInputs } from './initdata-config.js';
import { GuestNotGivenError, type GuestFiles, type HttpGetter, type ManifestInput } from './inputs.js';
import { loadVerifyInputs, manifestFromDigest, manifestFromFile } from './sources.js';
import type { RegistryTrust, SideDecision, VerifierMode, VerifyReport } from './types.js';
import { releasesFollowed, unloadablePolicyReport, verifyImage } from './verify-image.js';

export interface VerifyFilesRequest {
  /** The image reference as the pod spec names it. */
  image: string;
  mode: VerifierMode;
  /** The platform manifest: a file, its digest, or fetched from the registry (with the KBS credential). */
  manifest: { file: string } | { digest: string } | { fetch: true; platform?: string };
  /** KBS repository: a nested or flat directory, its tarball, or an offline-fs-kbc resources JSON. */
  kbs?: string;
  /** KBS repository name and tag of the resources (default `default` / `test`). */
  kbsRepository?: string;
  kbsTag?: string;
  /** Guest rootfs: a directory, disk image or initrd, read only. Without it, a rule that needs signatures is a usage error. */
  rootfs?: string;
  /**
   * The pod's initdata (TOML or gzip+base64): the policy and sigstore config as the guest reads them (URI first,
   * then inline), its credential URI, and the extra_root_certificates the guest trusts for registries.
   */
  initdataFile?: string;
  /** A bundle.yaml: its registries' caFile are trusted, and its credentials used when the KBS has none. */
  bundleFile?: string;
  /** Instead of the KBS repository's resources. */
  policyFile?: string;
  sigstoreConfigFile?: string;
  /** Registry access for --fetch and http(s) stores. */
  caFiles?: readonly string[];
  insecure?: boolean;
  /** The releases whose behaviour to follow (default: the current ones). */
  guestRelease?: GuestRelease;
  hostRelease?: HostRelease;
  backend?: SignatureBackend;
}

/** The network side (registry client, http/https/tls), loaded only when a verify goes to the network. */
const registryAccess = () => import('./registry-access.js');

export async function verifyImageFiles(request: VerifyFilesRequest): Promise<VerifyReport> {
  const kbsRepository = request.kbsRepository ?? 'default';
  const kbsTag = request.kbsTag ?? 'test';
  const repository = request.kbs ? await openKbsRepository(request.kbs) : undefined;
  const rootfs: RootfsReader | undefined = request.rootfs ? await openRootfsReader(request.rootfs) : undefined;
  const guest = rootfs ?? noRootfs(request.image);
  const trust: RegistryTrust[] = [];
  const releases = {
    ...(request.guestRelease ? { guestRelease: request.guestRelease } : {}),
    ...(request.hostRelease ? { hostRelease: request.hostRelease } : {}),
  };
  try {
    const fromInitdata = request.initdataFile
      ? await initdataInputs(request.initdataFile, repository, guest, request.guestRelease)
      : undefined;
    const fetchOptions = await registryOptions(
      request,
      { repository, rootfs, fromInitdata, trust },
      kbsRepository,
      kbsTag,
    );
    const source = request.manifest;
    const local = await loadVerifyInputs({
      image: request.image,
      ...(fromInitdata ? { policy: fromInitdata.policy } : {}),
      ...(fromInitdata?.sigstoreConfig ? { sigstoreConfig: fromInitdata.sigstoreConfig } : {}),
      ...(repository ? { repository } : {}),
      kbsRepository,
      kbsTag,
      ...(request.policyFile ? { policyFile: request.policyFile } : {}),
      ...(request.sigstoreConfigFile ? { sigstoreConfigFile: request.sigstoreConfigFile } : {}),
      rootfs: guest,
      manifest:
        'file' in source
          ? await manifestFromFile(source.file)
          : 'digest' in source
            ? manifestFromDigest(source.digest)
            : { digest: '' },
      http: lazyHttpStoreGetter(fetchOptions),
      ...('fetch' in source ? { cosign: (await registryAccess()).cosignFetcher(fetchOptions) } : {}),
      ...releases,
    });
    let inputs = local;
    if ('fetch' in source) {
      const noPull = unloadablePolicyReport(local, request.mode);
      if (noPull) return withTrust(noPull, trust);
      const fetched = await fetchManifest(request.image, fetchOptions);
      if ('pullProblem' in fetched) return withTrust(fetchDenial(request, fetched.pullProblem, releases), trust);
      inputs = { ...local, manifest: fetched };
    }
    return withTrust(await verifyImage(inputs, request.mode, request.backend ?? defaultSignatureBackend), trust);
  } finally {
    await rootfs?.close();
  }
}

function withTrust(report: VerifyReport, trust: RegistryTrust[]): VerifyReport {
  return trust.length ? { ...report, registryTls: trust } : report;
}

/**
 * Without a rootfs there is no guest to read signatures from: a rule that needs them is a usage error
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

/** The policy, sigstore config and credential the initdata gives the guest (URI first, then inline). */
async function initdataInputs(
  file: string,
  repository: KbsRepositoryReader | undefined,
  rootfs: GuestFiles,
  release: GuestRelease | undefined,
): Promise<InitdataImageInputs> {
  const bytes = await readInputFile(file, { what: 'initdata', maxBytes: INPUT_LIMITS.initdata });
  return initdataFileInputs(bytes, { get: async (p) => repository?.get(p) }, rootfs, { file }, release);
}

function lazyHttpStoreGetter(options: FetchOptions): HttpGetter {
  return { get: async (url) => (await registryAccess()).httpStoreGetter(options).get(url) };
}

/** The manifest from the registry; a registry failure is what the guest would hit too. */
async function fetchManifest(
  image: string,
  fetchOptions: FetchOptions,
): Promise<ManifestInput | { pullProblem: string }> {
  const { fetchPlatformManifest } = await registryAccess();
  const { RegistryError } = await import('../registry/errors.js');
  try {
    return await fetchPlatformManifest(image, fetchOptions);
  } catch (e) {
    if (e instanceof RegistryError) return { pullProblem: e.message };
    throw e;
  }
}

interface RegistrySources {
  repository: KbsRepositoryReader | undefined;
  rootfs: RootfsReader | undefined;
  fromInitdata: InitdataImageInputs | undefined;
  /** Filled with the CA that made each registry connection trusted. */
  trust: RegistryTrust[];
}

/**
 * What the guest would use to reach the registry. CAs: the files given, the guest rootfs CA bundles (which
 * stage appends to), the initdata's extra_root_certificates, a bundle's caFiles. Credential: the one the
 * initdata names, else the KBS credential resource, else the bundle's own.
 */
async function registryOptions(
  request: VerifyFilesRequest,
  s: RegistrySources,
  kbsRepository: string,
  kbsTag: string,
): Promise<FetchOptions> {
  const caSources: Array<{ source: string; pem: string }> = [];
  for (const f of request.caFiles ?? []) {
    const pem = (await readInputFile(f, { what: 'CA certificate', maxBytes: INPUT_LIMITS.certificate })).toString(
      'utf8',
    );
    const problem = caPemProblem(pem);
    if (problem !== undefined) throw new InputError('E_CA_FILE', { file: f, field: '--ca-file' }, problem);
    caSources.push({ source: `--ca-file ${f}`, pem });
  }
  for (const { paths } of CA_BUNDLE_FAMILIES) {
    for (const p of paths) {
      const bytes = await s.rootfs?.readFile(p);
      if (bytes) caSources.push({ source: `the guest CA bundle ${p}`, pem: Buffer.from(bytes).toString('utf8') });
    }
  }
  if (request.initdataFile !== undefined) {
    const { initdataRootCertificates } = await import('./initdata-cas.js');
    const bytes = await readInputFile(request.initdataFile, { what: 'initdata', maxBytes: INPUT_LIMITS.initdata });
    for (const [i, pem] of initdataRootCertificates(bytes, request.initdataFile).entries())
      caSources.push({ source: `${request.initdataFile} cdh.toml extra_root_certificates[${i}]`, pem });
  }
  const credentialId = `${kbsRepository}/credential/${kbsTag}`;
  const credential = s.fromInitdata?.credential ?? {
    bytes: await s.repository?.get(credentialId),
    source: `kbs:///${credentialId}`,
  };
  let auths = credential.bytes ? parseAuths(credential.bytes, credential.source) : undefined;
  if (request.bundleFile !== undefined) {
    const { loadBundle } = await import('../bundle/load.js');
    const bundle = await loadBundle(request.bundleFile);
    for (const r of bundle.registries)
      if (r.caPem !== undefined)
        caSources.push({ source: `${request.bundleFile} registries["${r.registry}"].caFile`, pem: r.caPem });
    if (auths === undefined) {
      const { renderResources } = await import('../kbs/render.js');
      const own = (await renderResources(bundle)).find(
        (r) => r.id.type === 'credential' && r.id.repository === bundle.repository && r.id.tag === bundle.tag,
      );
      if (own) auths = parseAuths(own.bytes, `${request.bundleFile} registries`);
    }
  }
  const platform = 'fetch' in request.manifest ? request.manifest.platform : undefined;
  return {
    ...(auths ? { auths } : {}),
    ...(caSources.length ? { caSources } : {}),
    onTrusted: (registry, source) => {
      if (!s.trust.some((t) => t.registry === registry && t.trustedBy === source))
        s.trust.push({ registry, trustedBy: source });
    },
    ...(request.insecure ? { insecure: true } : {}),
    ...(platform ? { platform } : {}),
  };
}

function fetchDenial(
  request: VerifyFilesRequest,
  problem: string,
  releases: Parameters<typeof releasesFollowed>[0],
): VerifyReport {
  const { image, mode } = request;
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
  return {
    image,
    digest: '',
    mode,
    allowed: false,
    decisions,
    divergences: [],
    releases: releasesFollowed(releases, sides),
  };
}
