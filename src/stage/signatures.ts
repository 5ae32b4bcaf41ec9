/**
 * Where each signature goes in the guest, and whether it should go at all: the image it signs
 * (registry from the signed identity, repository path and digest from the store), the policy
 * requirements the guest applies to that image (most specific scope, then `default`), the
 * sigstore-config base for it (most specific scope, then `default-docker`), and whether the key
 * that made it is one the policy trusts (the guest accepts primary keys only).
 */
import { PathEscapeError } from '../errors.js';
import type { KeyringEntry } from '../bundle/types.js';
import type { Policy, PolicyRequirement } from '../policy/schema.js';
import {
  isValidDigest,
  parseNormalizedNamed,
  referenceName,
  referenceString,
  scopeCandidates,
  type DockerReference,
} from '../reference/index.js';
import { keyIndex, type KeyIndex } from '../openpgp/key-index.js';
import { readSignedMessage } from '../openpgp/message.js';
import { parseSignature } from '../openpgp/packets.js';
import { parsePayload } from '../signature/payload.js';
import { MAX_SIGNATURE_SIZE } from '../openpgp/verify-signature.js';
import type { StoredSignature } from '../store/read-store.js';
import type { SigstoreConfig } from '../lookaside/schema.js';

export type SignatureDecision =
  | { stage: true; guestDir: string; image: string; scope: string; untrusted?: string }
  | { stage: false; image?: string; reason: string; code: 'uncovered' | 'unreadable' | 'no-store' | 'digest-mismatch' };

export interface SignatureContext {
  policy: Policy;
  sigstoreConfig: SigstoreConfig;
  keyrings: readonly KeyringEntry[];
}

/** The requirements the guest applies to `ref`, and the scope they came from. */
export function policyFor(policy: Policy, ref: DockerReference): { scope: string; requirements: PolicyRequirement[] } {
  const scopes = policy.transports?.docker ?? {};
  for (const candidate of scopeCandidates(ref)) {
    const reqs = scopes[candidate];
    if (reqs !== undefined) return { scope: candidate, requirements: reqs };
  }
  return { scope: 'default', requirements: policy.default };
}

/** The `file://` base the guest reads signatures of `ref` from, or why there is none. */
export function sigstoreBaseFor(
  config: SigstoreConfig,
  ref: DockerReference,
): { base?: string; problem?: string; scope: string } {
  const docker = config.docker ?? {};
  let url: string | undefined;
  let scope = 'default-docker';
  for (const candidate of scopeCandidates(ref)) {
    const entry = docker[candidate];
    if (entry?.sigstore !== undefined) {
      url = entry.sigstore;
      scope = candidate;
      break;
    }
  }
  url ??= config['default-docker']?.sigstore;
  if (url === undefined) return { problem: 'the sigstore-config has no entry for it and no default-docker', scope };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: `sigstore ${JSON.stringify(url)} is not a URL`, scope };
  }
  if (parsed.protocol !== 'file:')
    return { problem: `its sigstore ${url} is not file:// (the guest reads only local stores)`, scope };
  const base = decodeURIComponent(parsed.pathname).replace(/\/+$/, '');
  return { base: base === '' ? '/' : base, scope };
}

export interface Placement {
  policy: { scope: string; requirements: PolicyRequirement[] };
  where: { base?: string; problem?: string; scope: string };
}

/** Per run: the policy and sigstore lookups, remembered by parent namespace. */
const placements = new WeakMap<
  SignatureContext,
  { cache: Map<string, Placement>; parentsOfKeys: ReadonlySet<string> | undefined }
>();

/**
 * policyFor and sigstoreBaseFor of `ref`. Unless a scope names this image (`repo@digest`) or
 * its repository, the answer depends only on the candidates after the repository — its parent
 * namespaces and the registry's wildcards — so it is remembered by the parent namespace:
 * thousands of images share a few. Whether a scope can name the image or its repository is
 * itself answered by the parent: a key equal to the repository's name has the same parent, and
 * a key equal to `name@digest` has an `@` (when no key has one, none can).
 */
export function placementOf(ctx: SignatureContext, ref: DockerReference): Placement {
  const lookup = (): Placement => ({
    policy: policyFor(ctx.policy, ref),
    where: sigstoreBaseFor(ctx.sigstoreConfig, ref),
  });
  const scopes = ctx.policy.transports?.docker ?? {};
  const docker = ctx.sigstoreConfig.docker ?? {};
  let run = placements.get(ctx);
  if (!run) {
    const keys = [...Object.keys(scopes), ...Object.keys(docker)];
    const parentsOfKeys = keys.some((k) => k.includes('@'))
      ? undefined
      : new Set(keys.map((k) => k.slice(0, k.lastIndexOf('/'))));
    placements.set(ctx, (run = { cache: new Map(), parentsOfKeys }));
  }
  const name = referenceName(ref);
  const parent = name.slice(0, name.lastIndexOf('/'));
  if (run.parentsOfKeys === undefined || run.parentsOfKeys.has(parent)) {
    const identity = referenceString(ref);
    if (
      Object.hasOwn(scopes, identity) ||
      Object.hasOwn(docker, identity) ||
      Object.hasOwn(scopes, name) ||
      Object.hasOwn(docker, name)
    )
      return lookup();
  }
  let p = run.cache.get(parent);
  if (!p) run.cache.set(parent, (p = lookup()));
  return p;
}

/** Refuses repository paths and digests that would place a file anywhere but the lookaside dir. */
export function assertSafeLocation(sig: StoredSignature): void {
  const repo = sig.repositoryPath;
  if (
    repo !== '' &&
    (repo.startsWith('/') || repo.split('/').some((s) => s === '' || s === '.' || s === '..') || repo.includes('\0'))
  ) {
    throw new PathEscapeError(
      `${sig.source}: repository path ${JSON.stringify(repo)} has an absolute, empty, "." or ".." part; refusing to stage it`,
    );
  }
  if (!isValidDigest(sig.digest))
    throw new PathEscapeError(
      `${sig.source}: digest ${JSON.stringify(sig.digest)} is not a valid digest; refusing to stage it`,
    );
  if (sig.name.includes('/') || sig.name === '.' || sig.name === '..')
    throw new PathEscapeError(`${sig.source}: signature name ${JSON.stringify(sig.name)} is not a plain file name`);
}

/** The parsed keyrings of each policy scope (`default` for the default rules), built once per run. */
export type TrustedKeys = ReadonlyMap<string, readonly KeyIndex[]>;

export async function trustedKeys(keyrings: readonly KeyringEntry[]): Promise<TrustedKeys> {
  const out = new Map<string, KeyIndex[]>();
  for (const k of keyrings) {
    const list = out.get(k.scope) ?? [];
    list.push(await keyIndex(k.keyring));
    out.set(k.scope, list);
  }
  return out;
}

/** Synchronous: thousands of signatures are decided in a loop without a promise each. */
export function decideSignature(sig: StoredSignature, ctx: SignatureContext, keys: TrustedKeys): SignatureDecision {
  assertSafeLocation(sig);
  let dockerReference: string;
  let manifestDigest: string;
  let issuer: { keyId?: string; fingerprint?: string };
  try {
    if (sig.bytes.length > MAX_SIGNATURE_SIZE) throw new Error('larger than 4 MiB');
    const message = readSignedMessage(sig.bytes, MAX_SIGNATURE_SIZE);
    // As the guest's rPGP reads it: the last literal and signature packet.
    if (!message.lastLiteral || message.signatures.length === 0) throw new Error('not a signed message');
    ({ dockerReference, manifestDigest } = readIdentity(message.lastLiteral));
    const packet = parseSignature(message.signatures[message.signatures.length - 1]!);
    issuer = {
      ...(packet.issuerKeyId ? { keyId: packet.issuerKeyId } : {}),
      ...(packet.issuerFingerprint ? { fingerprint: packet.issuerFingerprint } : {}),
    };
  } catch (e) {
    return {
      stage: false,
      code: 'unreadable',
      reason: `not a simple signature the guest can read: ${(e as Error).message}`,
    };
  }
  let signed: DockerReference;
  try {
    signed = parseNormalizedNamed(dockerReference);
  } catch {
    return {
      stage: false,
      code: 'unreadable',
      reason: `its signed identity ${JSON.stringify(dockerReference)} is not a docker reference`,
    };
  }
  const ref: DockerReference = {
    registry: signed.registry,
    repository: sig.repositoryPath || signed.repository,
    digest: sig.digest,
  };
  const image = `${ref.registry}/${ref.repository}@${ref.digest}`;
  if (manifestDigest !== sig.digest) {
    return {
      stage: false,
      code: 'digest-mismatch',
      image,
      reason: `it signs manifest ${manifestDigest}, but it is stored for ${sig.digest}`,
    };
  }
  const { scope, requirements } = placementOf(ctx, ref).policy;
  if (!requirements.some((r) => r.type === 'signedBy')) {
    const types = requirements.map((r) => r.type).join(', ') || 'no requirements';
    return {
      stage: false,
      code: 'uncovered',
      image,
      reason: `no signedBy rule covers it (policy ${scope === 'default' ? 'default' : `scope ${scope}`}: ${types})`,
    };
  }
  const where = placementOf(ctx, ref).where;
  if (where.base === undefined)
    return { stage: false, code: 'no-store', image, reason: `the guest would not look for it: ${where.problem}` };
  const [algo, hex] = sig.digest.split(':') as [string, string];
  const guestDir = `${where.base === '/' ? '' : where.base}/${ref.repository}@${algo}=${hex}`;
  const untrusted = trustProblem(issuer, keys.get(scope) ?? [], scope);
  return { stage: true, guestDir, image, scope, ...(untrusted ? { untrusted } : {}) };
}

function trustProblem(
  issuer: { keyId?: string; fingerprint?: string },
  indexes: readonly KeyIndex[],
  scope: string,
): string | undefined {
  const keyId = issuer.keyId ?? issuer.fingerprint?.slice(-16);
  if (!keyId) return 'it names no issuer key';
  let subkeyOf: string | undefined;
  for (const index of indexes) {
    for (const entry of index.byKeyId.get(keyId.toUpperCase()) ?? []) {
      if (issuer.fingerprint && entry.fingerprint !== issuer.fingerprint.toUpperCase()) continue;
      if (!entry.isSubkey) return undefined;
      subkeyOf = entry.primaryFingerprint;
    }
  }
  if (subkeyOf)
    return `it was made by subkey ${keyId} of ${subkeyOf}; the guest (image-rs) accepts signatures by primary keys only`;
  return `it was made by key ${keyId}, which the policy for ${scope === 'default' ? 'default' : `scope ${scope}`} does not trust`;
}

/**
 * The signed identity and digest, for placing the file: a plain JSON.parse is enough here (it is
 * much faster than the strict parser, and staging does not judge the signature; `verify`
 * and `audit` do). Anything unusual falls back to the strict guest parser and its error text.
 */
function readIdentity(literal: Uint8Array): { dockerReference: string; manifestDigest: string } {
  try {
    const json = JSON.parse(Buffer.from(literal).toString('utf8')) as {
      critical?: { identity?: Record<string, unknown>; image?: Record<string, unknown> };
    };
    const ref = json.critical?.identity?.['docker-reference'];
    const digest = json.critical?.image?.['docker-manifest-digest'];
    if (typeof ref === 'string' && typeof digest === 'string') return { dockerReference: ref, manifestDigest: digest };
  } catch {
    // fall through to the strict parser for its message
  }
  const payload = parsePayload(literal, 'guest');
  return { dockerReference: payload.dockerReference, manifestDigest: payload.manifestDigest };
}
