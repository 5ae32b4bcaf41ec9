/**
 * Verification as a use case: the image, the paths a user points at (a KBS repository, a guest
 * rootfs, loose policy / sigstore config files) and where the manifest comes from, in; the report
 * out. `verify` and `quickstart` both call it.
 */
import { promises as fs } from 'node:fs';
import { FileNotFoundError, InputError } from '../errors.js';
import { openKbsRepository, type KbsRepositoryReader } from '../kbs/read.js';
import type { FetchOptions } from '../registry/index.js';
import { openRootfsReader, type RootfsReader } from '../rootfs/reader.js';
import { parseAuths } from './auths.js';
import type { SignatureBackend } from './backend.js';
import { defaultSignatureBackend } from './default-backend.js';
import { initdataFileInputs, type InitdataImageInputs } from './initdata-config.js';
import type { GuestFiles, HttpGetter, ManifestInput } from './inputs.js';
import { loadVerifyInputs, manifestFromDigest, manifestFromFile } from './sources.js';
import type { HostRelease } from '../releases/containers-image.js';
import type { GuestRelease } from '../releases/guest-components.js';
import type { SideDecision, VerifierMode, VerifyReport } from './types.js';
import { releasesFollowed, verifyImage } from './verify-image.js';

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
  /** Guest rootfs: a directory, disk image or initrd, read only. */
  rootfs?: string;
  /** The pod's initdata (TOML or gzip+base64): the policy and sigstore config as the guest reads them. */
  initdataFile?: string;
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

/** A rootfs with nothing in it, for policy-only checks without a rootfs. */
const EMPTY_ROOTFS: GuestFiles = {
  readFile: () => Promise.resolve(undefined),
  listDir: () => Promise.resolve(undefined),
};

/** The network side (registry client, http/https/tls), loaded only when a verify goes to the network. */
const registryAccess = () => import('./registry-access.js');

export async function verifyImageFiles(request: VerifyFilesRequest): Promise<VerifyReport> {
  const kbsRepository = request.kbsRepository ?? 'default';
  const kbsTag = request.kbsTag ?? 'test';
  const repository = request.kbs ? await openKbsRepository(request.kbs) : undefined;
  const rootfs: RootfsReader | undefined = request.rootfs ? await openRootfsReader(request.rootfs) : undefined;
  try {
    const fromInitdata = request.initdataFile
      ? await initdataInputs(request.initdataFile, repository, rootfs ?? EMPTY_ROOTFS)
      : undefined;
    const fetchOptions = await registryOptions(
      request,
      repository,
      `${kbsRepository}/credential/${kbsTag}`,
      fromInitdata?.credential,
    );
    const manifest = await manifestFor(request, fetchOptions);
    const releases = {
      ...(request.guestRelease ? { guestRelease: request.guestRelease } : {}),
      ...(request.hostRelease ? { hostRelease: request.hostRelease } : {}),
    };
    if ('pullProblem' in manifest) return fetchDenial(request.image, request.mode, manifest.pullProblem, releases);
    const inputs = await loadVerifyInputs({
      image: request.image,
      ...(fromInitdata ? { policy: fromInitdata.policy } : {}),
      ...(fromInitdata?.sigstoreConfig ? { sigstoreConfig: fromInitdata.sigstoreConfig } : {}),
      ...(repository ? { repository } : {}),
      kbsRepository,
      kbsTag,
      ...(request.policyFile ? { policyFile: request.policyFile } : {}),
      ...(request.sigstoreConfigFile ? { sigstoreConfigFile: request.sigstoreConfigFile } : {}),
      rootfs: rootfs ?? EMPTY_ROOTFS,
      manifest,
      http: lazyHttpStoreGetter(fetchOptions),
      ...('fetch' in request.manifest ? { cosign: (await registryAccess()).cosignFetcher(fetchOptions) } : {}),
      ...releases,
    });
    return await verifyImage(inputs, request.mode, request.backend ?? defaultSignatureBackend);
  } finally {
    await rootfs?.close();
  }
}

/** The policy and sigstore config the initdata gives the guest (URI first, then inline). */
async function initdataInputs(
  file: string,
  repository: KbsRepositoryReader | undefined,
  rootfs: GuestFiles,
): Promise<InitdataImageInputs> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new FileNotFoundError(file, 'initdata file', { cause: e });
  }
  return initdataFileInputs(bytes, { get: async (p) => repository?.get(p) }, rootfs, { file });
}

function lazyHttpStoreGetter(options: FetchOptions): HttpGetter {
  return { get: async (url) => (await registryAccess()).httpStoreGetter(options).get(url) };
}

/** The manifest from a file, a digest or the registry; a registry failure is what the guest would hit too. */
async function manifestFor(
  request: VerifyFilesRequest,
  fetchOptions: FetchOptions,
): Promise<ManifestInput | { pullProblem: string }> {
  const source = request.manifest;
  if ('file' in source) return manifestFromFile(source.file);
  if ('digest' in source) return manifestFromDigest(source.digest);
  const { fetchPlatformManifest } = await registryAccess();
  const { RegistryError } = await import('../registry/errors.js');
  try {
    return await fetchPlatformManifest(request.image, fetchOptions);
  } catch (e) {
    if (e instanceof RegistryError) return { pullProblem: e.message };
    throw e;
  }
}

/**
 * What the guest would use to reach the registry: the credential the initdata names (else the KBS credential
 * resource), and the CA files given.
 */
async function registryOptions(
  request: VerifyFilesRequest,
  repository: KbsRepositoryReader | undefined,
  credentialId: string,
  initdataCredential?: { bytes: Uint8Array; source: string },
): Promise<FetchOptions> {
  const caPems: string[] = [];
  for (const f of request.caFiles ?? []) {
    try {
      caPems.push(await fs.readFile(f, 'utf8'));
    } catch {
      throw new InputError('E_FILE_NOT_FOUND', { file: f }, 'CA file not found');
    }
  }
  const credential = initdataCredential ?? {
    bytes: await repository?.get(credentialId),
    source: `kbs:///${credentialId}`,
  };
  const platform = 'fetch' in request.manifest ? request.manifest.platform : undefined;
  return {
    ...(credential.bytes ? { auths: parseAuths(credential.bytes, credential.source) } : {}),
    ...(caPems.length ? { caPems } : {}),
    ...(request.insecure ? { insecure: true } : {}),
    ...(platform ? { platform } : {}),
  };
}

function fetchDenial(
  image: string,
  mode: VerifierMode,
  problem: string,
  releases: Parameters<typeof releasesFollowed>[0],
): VerifyReport {
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
