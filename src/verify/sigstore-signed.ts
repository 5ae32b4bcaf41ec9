/**
 * The `sigstoreSigned` requirement with a static cosign key, per side.
 * Guest (image-rs `policy/cosign/mod.rs`): signedIdentity absent, matchRepository or
 * exactRepository only; keyData is the PEM text itself; ≥1 layer of `<repo>:sha256-<hex>.sig` must
 * verify (ECDSA P-256 / RSA), then every layer's payload digest must be the manifest digest or,
 * for multi-arch images, the manifest-list digest.
 * Host (containers/image): reads cosign signatures only when registries.d sets
 * `use-sigstore-attachments: true`; keyData is base64 of the PEM; one accepted signature suffices,
 * digest against the manifest only, identity default matchRepoDigestOrExact.
 */
import { createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import type { SignedIdentity, SigstoreSignedRequirement } from '../policy/schema.js';
import { referenceName, referenceString, scopeCandidates } from '../reference/index.js';
import { reasonOf } from './backend.js';
import type { EvalContext } from './context.js';
import { decodeBase64 } from './base64.js';
import { identityMismatch } from './identity.js';
import type { CosignSignatureBlob, CosignSignatureSet } from './inputs.js';
import { readKeyPath } from './key-source.js';
import { formatGuestRelease, GUEST_FEATURES, guestHas } from '../releases/guest-components.js';
import { hostDigestMismatch } from './signed-by.js';
import type { RequirementOutcome, SignatureAttempt } from './types.js';
import { jsonProblem } from '../util/json-input.js';

type Outcome = Omit<RequirementOutcome, 'index' | 'type' | 'rule'>;
const deny = (reason: string, extra: Partial<Outcome> = {}): Outcome => ({
  allowed: false,
  reason,
  signatures: [],
  notes: [],
  ...extra,
});

/** Rust's `{:?}` of image-rs's PolicyReqMatchType. */
function rustDebug(id: SignedIdentity): string {
  switch (id.type) {
    case 'matchExact':
      return 'MatchExact';
    case 'matchRepoDigestOrExact':
      return 'MatchRepoDigestOrExact';
    case 'matchRepository':
      return 'MatchRepository';
    case 'exactReference':
      return `ExactReference { docker_reference: ${JSON.stringify(id.dockerReference)} }`;
    case 'exactRepository':
      return `ExactRepository { docker_repository: ${JSON.stringify(id.dockerRepository)} }`;
    case 'remapIdentity':
      return `RemapIdentity { prefix: ${JSON.stringify(id.prefix)}, signed_prefix: ${JSON.stringify(id.signedPrefix)} }`;
  }
}

export function cosignSignatureReference(ctx: EvalContext): string {
  return `${referenceName(ctx.origin)}:${ctx.digest.replace(':', '-')}.sig`;
}

function verifyLayer(layer: CosignSignatureBlob, key: KeyObject, stripNewlines = true): boolean {
  if (!layer.signature) return false;
  // Without the stripping, base64 decoding fails on a line break.
  if (!stripNewlines && /[\r\n]/.test(layer.signature)) return false;
  const sig = Buffer.from(layer.signature.replace(/[\r\n]/g, ''), 'base64');
  try {
    if (key.asymmetricKeyType === 'rsa') {
      return (
        cryptoVerify('sha256', layer.payload, key, sig) ||
        cryptoVerify(
          'sha256',
          layer.payload,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
          sig,
        )
      );
    }
    return cryptoVerify('sha256', layer.payload, key, sig);
  } catch {
    return false;
  }
}

function readLayerPayload(layer: CosignSignatureBlob): { reference: string; digest: string } | string {
  try {
    const p = JSON.parse(Buffer.from(layer.payload).toString('utf8')) as {
      critical?: { identity?: { 'docker-reference'?: unknown }; image?: { 'docker-manifest-digest'?: unknown } };
    };
    const digest = p.critical?.image?.['docker-manifest-digest'];
    const reference = p.critical?.identity?.['docker-reference'];
    if (typeof digest !== 'string' || typeof reference !== 'string')
      return 'cosign payload lacks critical.image or critical.identity';
    return { reference, digest };
  } catch (e) {
    return e instanceof SyntaxError
      ? `cosign payload is not JSON: ${jsonProblem(Buffer.from(layer.payload).toString('utf8'))}`
      : `cosign payload is unreadable: ${(e as Error).message}`;
  }
}

async function fetchSignatureImage(ctx: EvalContext): Promise<CosignSignatureSet | string> {
  const ref = cosignSignatureReference(ctx);
  if (!ctx.inputs.cosign) return `the cosign signature image ${ref} is in the registry: run with --fetch to check it`;
  try {
    return (await ctx.inputs.cosign(referenceString(ctx.origin), ctx.digest)) ?? `no cosign signature image ${ref}`;
  } catch (e) {
    return reasonOf(e).reason;
  }
}

function publicKey(pem: Uint8Array): KeyObject | string {
  try {
    return createPublicKey({ key: Buffer.from(pem), format: 'pem' });
  } catch (e) {
    return `failed to build public key verifier: ${(e as Error).message}`;
  }
}

export async function evaluateSigstoreSigned(req: SigstoreSignedRequirement, ctx: EvalContext): Promise<Outcome> {
  return ctx.side === 'guest' ? guestCosign(req, ctx) : hostCosign(req, ctx);
}

async function guestCosign(req: SigstoreSignedRequirement, ctx: EvalContext): Promise<Outcome> {
  const id = req.signedIdentity;
  if (id && id.type !== 'matchRepository' && id.type !== 'exactRepository') return deny(`Denied by ${rustDebug(id)}`);
  if (req.keyPath === undefined && req.keyData === undefined) return deny('Neither keyPath nor keyData is specified.');
  if (req.keyPath !== undefined && req.keyData !== undefined) return deny('Both keyPath and keyData are specified.');
  let pem: Uint8Array;
  if (req.keyData !== undefined) {
    pem = new TextEncoder().encode(req.keyData);
  } else {
    const read = await readKeyPath(req.keyPath ?? '', 'guest', ctx.inputs.resources, ctx.inputs.rootfs, 'Cosign', {
      kbsPlugins: guestHas(ctx.guestRelease, 'kbsPluginScheme'),
    });
    if (!read.ok) return deny(read.reason);
    pem = read.bytes;
  }
  const key = publicKey(pem);
  if (typeof key === 'string') return deny(key);
  const anyKeyType = guestHas(ctx.guestRelease, 'cosignAnyKeyType');
  if (!anyKeyType && !(key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')) {
    return deny(
      `the key is not an ECDSA P-256 key: image-rs before ${formatGuestRelease(GUEST_FEATURES.cosignAnyKeyType.since)} verifies cosign signatures with ECDSA P-256 SHA-256 only`,
    );
  }
  const image = await fetchSignatureImage(ctx);
  const location = cosignSignatureReference(ctx);
  if (typeof image === 'string') return deny(image, { signatureLocation: location });
  const stripNewlines = guestHas(ctx.guestRelease, 'cosignSignatureNewlines');
  const listDigest = guestHas(ctx.guestRelease, 'cosignListDigest') ? ctx.inputs.manifest.listDigest : undefined;
  const attempts: SignatureAttempt[] = image.layers.map((layer, i) => {
    const ok = verifyLayer(layer, key, stripNewlines);
    return {
      source: `${image.reference} layer ${i + 1}`,
      accepted: ok,
      reason: ok ? 'signature verifies' : 'signature does not verify with the key',
    };
  });
  if (!attempts.some((a) => a.accepted)) {
    return deny(`[PublicKeyVerifier: no signature layer of ${image.reference} verifies with the key]`, {
      signatures: attempts,
      signatureLocation: location,
    });
  }
  for (const [i, layer] of image.layers.entries()) {
    const p = readLayerPayload(layer);
    const attempt = attempts[i];
    if (typeof p === 'string') {
      if (attempt) Object.assign(attempt, { accepted: false, reason: p });
      return deny(p, { signatures: attempts, signatureLocation: location });
    }
    if (attempt) Object.assign(attempt, { signedIdentity: p.reference, signedDigest: p.digest });
    if (p.digest !== ctx.digest && (listDigest === undefined || p.digest !== listDigest)) {
      if (attempt) Object.assign(attempt, { accepted: false, reason: 'Manifest digest does not match signature.' });
      return deny('Manifest digest does not match signature.', { signatures: attempts, signatureLocation: location });
    }
    if (id) {
      const mismatch = identityMismatch(id, ctx.origin, p.reference, 'guest');
      if (mismatch) {
        if (attempt) Object.assign(attempt, { accepted: false, reason: mismatch });
        return deny(mismatch, { signatures: attempts, signatureLocation: location });
      }
    }
  }
  return { allowed: true, signatures: attempts, notes: [], signatureLocation: location };
}

/** registries.d `use-sigstore-attachments`, first non-nil value in scope order. */
function useAttachments(ctx: EvalContext): boolean {
  const docker = ctx.sigstoreConfig?.docker ?? {};
  for (const key of scopeCandidates(ctx.origin)) {
    const v = docker[key]?.['use-sigstore-attachments'];
    if (v !== undefined) return v;
  }
  return ctx.sigstoreConfig?.['default-docker']?.['use-sigstore-attachments'] ?? false;
}

async function hostCosign(req: SigstoreSignedRequirement, ctx: EvalContext): Promise<Outcome> {
  const notes: string[] = [];
  if (!useAttachments(ctx)) {
    notes.push(
      'containers/image reads cosign signatures only when registries.d sets use-sigstore-attachments: true for the scope; image-rs always fetches them',
    );
    return deny('A signature was required, but no signature exists', { notes });
  }
  let pem: Uint8Array | undefined;
  if (req.keyData !== undefined) {
    const decoded = decodeBase64(req.keyData, 'host');
    if (!decoded.ok) return deny(decoded.error);
    pem = decoded.bytes;
  } else if (req.keyPath !== undefined) {
    const read = await readKeyPath(req.keyPath, 'host', ctx.inputs.resources, ctx.inputs.rootfs, 'Cosign');
    if (!read.ok) return deny(read.reason);
    if (read.note) notes.push(read.note);
    pem = read.bytes;
  } else {
    return deny('only keyPath and keyData cosign keys are evaluated by kbs-bundler', { notes });
  }
  const key = publicKey(pem);
  if (typeof key === 'string') return deny(key, { notes });
  const image = await fetchSignatureImage(ctx);
  const location = cosignSignatureReference(ctx);
  if (typeof image === 'string') return deny(image, { signatureLocation: location, notes });
  if (image.layers.length === 0)
    return deny('A signature was required, but no signature exists', { signatureLocation: location, notes });
  const attempts: SignatureAttempt[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const attempt: SignatureAttempt = { source: `${image.reference} layer ${i + 1}`, accepted: false, reason: '' };
    attempts.push(attempt);
    if (!verifyLayer(layer, key)) {
      attempt.reason =
        'cryptographic signature verification failed: invalid signature when validating ASN.1 encoded signature';
      continue;
    }
    const p = readLayerPayload(layer);
    if (typeof p === 'string') {
      attempt.reason = p;
      continue;
    }
    Object.assign(attempt, { signedIdentity: p.reference, signedDigest: p.digest });
    const digestProblem = hostDigestMismatch(p.digest, ctx);
    if (digestProblem) {
      attempt.reason = digestProblem;
      continue;
    }
    const mismatch = identityMismatch(
      req.signedIdentity ?? { type: 'matchRepoDigestOrExact' },
      ctx.origin,
      p.reference,
      'host',
    );
    if (mismatch) {
      attempt.reason = mismatch;
      continue;
    }
    Object.assign(attempt, { accepted: true, reason: 'accepted' });
    return { allowed: true, signatures: attempts, notes, signatureLocation: location };
  }
  const reason =
    attempts.length === 1
      ? (attempts[0]?.reason ?? '')
      : `None of the signatures were accepted, reasons: ${attempts.map((a) => a.reason).join('; ')}`;
  return deny(reason, { signatures: attempts, notes, signatureLocation: location });
}
