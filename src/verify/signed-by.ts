/**
 * The `signedBy` requirement (simple signing with GPG keys), per side.
 * Guest (image-rs `policy/simple/mod.rs`): keyType, key material, signatures from the store, then per
 * signature: crypto (primary keys, key-id check, no expiry) → payload → identity → digest.
 * Host (`policy_eval_signedby.go` + `simple.go`): signatures first, then per signature: crypto with
 * expiry → accepted key → strict payload → digest → identity.
 */
import type { SignedByRequirement } from '../policy/schema.js';
import type { Keyring } from '../keys/index.js';
import { reasonOf } from './backend.js';
import type { EvalContext } from './context.js';
import { decodeBase64 } from './base64.js';
import { identityMismatch } from './identity.js';
import { readKeyPath } from './key-source.js';
import { readGuestSignatures, readHostSignatures, type SignatureBlob } from '../store/image-signatures.js';
import { guestHas } from '../releases/guest-components.js';
import { hostHas } from '../releases/containers-image.js';
import { signatureBase, signatureDirName } from './sigstore-config.js';
import type { RequirementOutcome, SignatureAttempt } from './types.js';
import { describeKeyNotes, describeSignatureNotes } from './notes.js';

type Outcome = Omit<RequirementOutcome, 'index' | 'type' | 'rule'>;

export async function evaluateSignedBy(req: SignedByRequirement, ctx: EvalContext): Promise<Outcome> {
  return ctx.side === 'guest' ? guestSignedBy(req, ctx) : hostSignedBy(req, ctx);
}

const deny = (reason: string, extra: Partial<Outcome> = {}): Outcome => ({
  allowed: false,
  reason,
  signatures: [],
  notes: [],
  ...extra,
});

async function loadKeyring(
  ctx: EvalContext,
  bytes: Uint8Array,
  where: string,
): Promise<{ keyring?: Keyring; problem?: string }> {
  try {
    return { keyring: await ctx.backend.readKeyring(bytes, { file: where }, ctx.side) };
  } catch (e) {
    return { problem: reasonOf(e).reason };
  }
}

async function guestSignedBy(req: SignedByRequirement, ctx: EvalContext): Promise<Outcome> {
  if (req.keyType !== 'GPGKeys') return deny('Unknown key type in policy config: only support GPGKeys now.');
  let keyBytes: Uint8Array;
  let keyWhere: string;
  if (req.keyPath === undefined && req.keyData === undefined) return deny('Neither keyPath or keyData specified.');
  if (req.keyPath !== undefined && req.keyData !== undefined) return deny('Both keyPath and keyData specified.');
  if (req.keyData !== undefined) {
    const decoded = decodeBase64(req.keyData, 'guest');
    if (!decoded.ok) return deny(decoded.error);
    keyBytes = decoded.bytes;
    keyWhere = 'keyData';
  } else {
    const read = await readKeyPath(req.keyPath ?? '', 'guest', ctx.inputs.resources, ctx.inputs.rootfs, 'SignedBy', {
      kbsPlugins: guestHas(ctx.guestRelease, 'kbsPluginScheme'),
    });
    if (!read.ok) return deny(read.reason);
    keyBytes = read.bytes;
    keyWhere = req.keyPath ?? '';
  }
  const keys = await loadKeyring(ctx, keyBytes, keyWhere);
  const notes = keys.keyring ? describeKeyNotes(keys.keyring, ctx.now) : [];

  if (!ctx.sigstoreConfig) return deny('Simple Signing Sigstore Config not set', { notes });
  const base = signatureBase(ctx.sigstoreConfig, ctx.origin, 'guest');
  if (!base) return deny('The sigstore base url is none', { notes });
  const store = await readGuestSignatures(base.url, signatureDirName(ctx.origin, ctx.digest), ctx.inputs.rootfs);
  if (!store.ok) return deny(store.reason, { notes, signatureLocation: store.location });

  const attempts: SignatureAttempt[] = [];
  for (const blob of store.blobs) {
    const attempt = await guestJudge(blob, keys, req, ctx);
    attempts.push(attempt);
    if (attempt.accepted) return { allowed: true, signatures: attempts, notes, signatureLocation: store.location };
  }
  const reasons = attempts.length ? attempts.map((a) => a.reason) : ['Can not find any signatures.'];
  return deny(`The signatures do not satisfied! Reject reason: [${reasons.join(', ')}]`, {
    signatures: attempts,
    notes,
    signatureLocation: store.location,
  });
}

async function guestJudge(
  blob: SignatureBlob,
  keys: { keyring?: Keyring; problem?: string },
  req: SignedByRequirement,
  ctx: EvalContext,
): Promise<SignatureAttempt> {
  const attempt: SignatureAttempt = { source: blob.source, accepted: false, reason: '' };
  if (!keys.keyring)
    return { ...attempt, reason: `Failed to parse public key ring: ${keys.problem}`, code: 'E_KEYRING' };
  let payloadBytes: Uint8Array;
  try {
    const v = await ctx.backend.verify(blob.bytes, keys.keyring, 'guest', {
      ...(ctx.now ? { now: ctx.now } : {}),
      guestLibrary: ctx.guestOpenPgp,
    });
    attempt.signer = v.signerFingerprint;
    payloadBytes = v.payloadBytes;
    const sigNotes = describeSignatureNotes(v);
    if (sigNotes.length) attempt.notes = sigNotes;
  } catch (e) {
    const r = reasonOf(e);
    return { ...attempt, reason: r.reason, ...(r.code ? { code: r.code } : {}) };
  }
  let payload;
  try {
    payload = ctx.backend.parsePayload(payloadBytes, 'guest');
  } catch (e) {
    return { ...attempt, reason: reasonOf(e).reason, code: 'E_SIG_PAYLOAD' };
  }
  attempt.signedIdentity = payload.dockerReference;
  attempt.signedDigest = payload.manifestDigest;
  const rule = req.signedIdentity ?? { type: 'matchRepoDigestOrExact' as const };
  const mismatch = identityMismatch(rule, ctx.origin, payload.dockerReference, 'guest');
  if (mismatch) return { ...attempt, reason: mismatch, code: 'E_IDENTITY' };
  if (payload.manifestDigest !== ctx.digest) {
    return {
      ...attempt,
      reason: `SigPayload's manifest digest does not match, the input is ${ctx.digest}, but in SigPayload it is ${payload.manifestDigest}`,
      code: 'E_DIGEST',
    };
  }
  return { ...attempt, accepted: true, reason: 'accepted' };
}

async function hostSignedBy(req: SignedByRequirement, ctx: EvalContext): Promise<Outcome> {
  const base = signatureBase(ctx.sigstoreConfig, ctx.origin, 'host');
  if (!base) return deny('no signature storage configured');
  const store = await readHostSignatures(
    base.url,
    signatureDirName(ctx.origin, ctx.digest),
    ctx.inputs.rootfs,
    ctx.inputs.http,
  );
  const notes: string[] = [];
  if (!store.ok) return deny(store.reason, { signatureLocation: store.location });
  if (store.blobs.length === 0) {
    return deny('A signature was required, but no signature exists', { signatureLocation: store.location, notes });
  }
  // c/image reads the keys for every signature; read them once, the outcome is the same.
  const keys = await hostKeys(req, ctx);
  if (keys.note) notes.push(keys.note);
  if (keys.keyring) notes.push(...describeKeyNotes(keys.keyring, ctx.now));
  const attempts: SignatureAttempt[] = [];
  for (const blob of store.blobs) {
    const attempt = await hostJudge(blob, keys, req, ctx);
    attempts.push(attempt);
    if (attempt.accepted) return { allowed: true, signatures: attempts, notes, signatureLocation: store.location };
  }
  const reason =
    attempts.length === 1
      ? (attempts[0]?.reason ?? '')
      : `None of the signatures were accepted, reasons: ${attempts.map((a) => a.reason).join('; ')}`;
  return deny(reason, { signatures: attempts, notes, signatureLocation: store.location });
}

async function hostKeys(
  req: SignedByRequirement,
  ctx: EvalContext,
): Promise<{ keyring?: Keyring; problem?: string; note?: string }> {
  if (req.keyType !== 'GPGKeys') return { problem: `Unimplemented "keyType" value ${JSON.stringify(req.keyType)}` };
  const chunks: Uint8Array[] = [];
  let note: string | undefined;
  if (req.keyData !== undefined) {
    const decoded = decodeBase64(req.keyData, 'host');
    if (!decoded.ok) return { problem: decoded.error };
    chunks.push(decoded.bytes);
  } else {
    for (const p of req.keyPaths ?? (req.keyPath !== undefined ? [req.keyPath] : [])) {
      const read = await readKeyPath(p, 'host', ctx.inputs.resources, ctx.inputs.rootfs, 'SignedBy');
      if (!read.ok) return { problem: read.reason };
      note = read.note ?? `containers/image reads keyPath ${p} on the host; the verifier read it from the guest rootfs`;
      chunks.push(read.bytes);
    }
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) return { problem: 'No public keys imported', ...(note ? { note } : {}) };
  const keys = await loadKeyring(ctx, bytes, req.keyData !== undefined ? 'keyData' : (req.keyPath ?? 'keyPaths'));
  if (!keys.keyring) return { problem: `No public keys imported (${keys.problem})`, ...(note ? { note } : {}) };
  return { keyring: keys.keyring, ...(note ? { note } : {}) };
}

async function hostJudge(
  blob: SignatureBlob,
  keys: { keyring?: Keyring; problem?: string },
  req: SignedByRequirement,
  ctx: EvalContext,
): Promise<SignatureAttempt> {
  const attempt: SignatureAttempt = { source: blob.source, accepted: false, reason: '' };
  if (!keys.keyring) return { ...attempt, reason: keys.problem ?? 'No public keys imported', code: 'E_KEYRING' };
  let payloadBytes: Uint8Array;
  let viaSubkey: string | undefined;
  try {
    const v = await ctx.backend.verify(blob.bytes, keys.keyring, 'host', ctx.now ? { now: ctx.now } : {});
    attempt.signer = v.signerFingerprint;
    payloadBytes = v.payloadBytes;
    const sigNotes = describeSignatureNotes(v);
    if (sigNotes.length) attempt.notes = sigNotes;
    if (v.bySubkey && !hostHas(ctx.hostRelease, 'subkeySignatures')) {
      return {
        ...attempt,
        reason: `Signature by key ${v.subkeyFingerprint ?? v.keyId} is not accepted`,
        code: 'E_SIG_SUBKEY',
      };
    }
    if (v.bySubkey) {
      viaSubkey = `made by signing subkey ${v.subkeyFingerprint ?? v.keyId} of ${v.signerFingerprint}: accepted by containers/image ≥ 5.37; older hosts (skopeo 1.9.3 / c/image 5.23) reject it with "Signature by key ${v.subkeyFingerprint ?? v.keyId} is not accepted"`;
    }
  } catch (e) {
    const r = reasonOf(e);
    return { ...attempt, reason: r.reason, ...(r.code ? { code: r.code } : {}) };
  }
  let payload;
  try {
    payload = ctx.backend.parsePayload(payloadBytes, 'host');
  } catch (e) {
    return { ...attempt, reason: reasonOf(e).reason, code: 'E_SIG_PAYLOAD' };
  }
  attempt.signedIdentity = payload.dockerReference;
  attempt.signedDigest = payload.manifestDigest;
  const digestProblem = hostDigestMismatch(payload.manifestDigest, ctx);
  if (digestProblem) return { ...attempt, reason: digestProblem, code: 'E_DIGEST' };
  const rule = req.signedIdentity ?? { type: 'matchRepoDigestOrExact' as const };
  const mismatch = identityMismatch(rule, ctx.origin, payload.dockerReference, 'host');
  if (mismatch) return { ...attempt, reason: mismatch, code: 'E_IDENTITY' };
  return { ...attempt, accepted: true, reason: viaSubkey ? `accepted; ${viaSubkey}` : 'accepted' };
}

/** `manifest.MatchesDigest`: sha256 of the manifest bytes (schema1 stripped), else the digest given. */
export function hostDigestMismatch(signedDigest: string, ctx: EvalContext): string | undefined {
  let actual = ctx.digest;
  const bytes = ctx.inputs.manifest.bytes;
  if (bytes) {
    try {
      actual = ctx.backend.manifestDigest(bytes);
    } catch (e) {
      return reasonOf(e).reason;
    }
  }
  return signedDigest === actual ? undefined : `Signature for digest ${signedDigest} does not match`;
}
