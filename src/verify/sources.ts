/**
 * Assembling the verifier's inputs from what a user points at: a KBS repository (the resources
 * image-rs asks for, repository and tag overridable), loose policy / sigstore-config files, a
 * guest rootfs, and the manifest (a file or a digest).
 */
import { InputError } from '../errors.js';
import { INPUT_LIMITS, readInputFile } from '../util/read-input.js';
import type { KbsRepositoryReader } from '../kbs/read.js';
import { assertSegment } from '../resource-id/resource-id.js';
import { digestProblem } from '../reference/index.js';
import { sha256Digest } from '../signature/digest.js';
import { MAX_YAML_BYTES, readYamlFile, tooLarge } from '../yaml/read-yaml.js';
import type { CosignFetcher, GuestFiles, HttpGetter, ManifestInput, VerifyInputs } from './inputs.js';

export interface VerifySources {
  image: string;
  repository?: KbsRepositoryReader;
  /** KBS repository name and tag of the resources (default `default` / `test`). */
  kbsRepository?: string;
  kbsTag?: string;
  policyFile?: string;
  sigstoreConfigFile?: string;
  /** Already read (e.g. from initdata): used instead of the files and the repository's resources. */
  policy?: VerifyInputs['policy'];
  sigstoreConfig?: VerifyInputs['sigstoreConfig'];
  rootfs: GuestFiles;
  manifest: ManifestInput;
  http?: HttpGetter;
  cosign?: CosignFetcher;
  now?: Date;
  guestRelease?: VerifyInputs['guestRelease'];
  hostRelease?: VerifyInputs['hostRelease'];
}

async function readFileOr(file: string, what: string, maxBytes: number): Promise<Uint8Array> {
  return new Uint8Array(await readInputFile(file, { what, maxBytes }));
}

const MANIFEST_LIST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/** A platform manifest from a file: its bytes and their sha256 (what the registry serves it as). */
export async function manifestFromFile(file: string): Promise<ManifestInput> {
  const bytes = await readFileOr(file, 'manifest', INPUT_LIMITS.manifest);
  let doc: { mediaType?: unknown; manifests?: unknown } | undefined;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof doc;
  } catch {
    throw new InputError('E_MANIFEST', { file }, 'is not a JSON image manifest');
  }
  if (
    (typeof doc?.mediaType === 'string' && MANIFEST_LIST_TYPES.includes(doc.mediaType)) ||
    Array.isArray(doc?.manifests)
  ) {
    throw new InputError(
      'E_MANIFEST_LIST',
      { file },
      'is a manifest list / image index; give the platform manifest (both sides check signatures against it) or use --fetch',
    );
  }
  return { bytes, digest: sha256Digest(bytes) };
}

export function manifestFromDigest(digest: string): ManifestInput {
  const problem = digestProblem(digest);
  if (problem) throw new InputError('E_DIGEST', { field: '--digest' }, `${JSON.stringify(digest)}: ${problem}`);
  return { digest };
}

export async function loadVerifyInputs(s: VerifySources): Promise<VerifyInputs> {
  const repoName = s.kbsRepository ?? 'default';
  const tag = s.kbsTag ?? 'test';
  assertSegment(repoName, { field: '--kbs-repository' });
  assertSegment(tag, { field: '--kbs-tag' });
  const resource = async (type: string) => s.repository?.get(`${repoName}/${type}/${tag}`);

  let policy: VerifyInputs['policy'];
  if (s.policy) policy = s.policy;
  else if (s.policyFile)
    policy = { bytes: await readFileOr(s.policyFile, 'policy', INPUT_LIMITS.policy), source: s.policyFile };
  else {
    const bytes = await resource('security-policy');
    if (!bytes) {
      throw new InputError(
        'E_NO_POLICY',
        { file: s.repository?.source ?? '--kbs' },
        `has no ${repoName}/security-policy/${tag} (and no --policy given): a guest told to fetch it fails every pull, a guest with no policy configured checks nothing`,
      );
    }
    policy = { bytes, source: `kbs:///${repoName}/security-policy/${tag}` };
  }

  let sigstoreConfig: VerifyInputs['sigstoreConfig'];
  if (s.policy) sigstoreConfig = s.sigstoreConfig;
  else if (s.sigstoreConfigFile) {
    const text = await readYamlFile(s.sigstoreConfigFile, 'sigstore config', 'sigstore config not found');
    sigstoreConfig = { bytes: Buffer.from(text, 'utf8'), source: s.sigstoreConfigFile };
  } else {
    const bytes = await resource('sigstore-config');
    const source = `kbs:///${repoName}/sigstore-config/${tag}`;
    if (bytes && bytes.length > MAX_YAML_BYTES) throw tooLarge(source, 'sigstore config');
    if (bytes) sigstoreConfig = { bytes, source };
  }

  return {
    image: s.image,
    manifest: s.manifest,
    policy,
    ...(sigstoreConfig ? { sigstoreConfig } : {}),
    resources: { get: async (p) => s.repository?.get(p) },
    rootfs: s.rootfs,
    ...(s.http ? { http: s.http } : {}),
    ...(s.cosign ? { cosign: s.cosign } : {}),
    ...(s.now ? { now: s.now } : {}),
    ...(s.guestRelease ? { guestRelease: s.guestRelease } : {}),
    ...(s.hostRelease ? { hostRelease: s.hostRelease } : {}),
  };
}
