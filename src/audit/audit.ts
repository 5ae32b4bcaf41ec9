/**
 * `audit`: every signature in a store, judged by both sides. Each file gets one status (what is wrong
 * with it, or `good`) and whether the guest (image-rs) and the host (containers/image) would accept it
 * for the image whose directory it sits in (crypto, key, payload and digest; identity is reported,
 * not matched, since a store does not say which pull reference it serves).
 */
import type { Keyring } from '../keys/index.js';
import { parseNormalizedNamed } from '../reference/index.js';
import { SignatureError, type SignatureErrorCode } from '../openpgp/signature-error.js';
import { parsePayload, type SignaturePayload } from '../signature/payload.js';
import type { StoredSignature } from '../store/read-store.js';
import { judgeSignature, type VerifiedSignature } from '../openpgp/verify-signature.js';

export type AuditStatus =
  | 'good'
  | 'bad-signature'
  | 'unknown-key'
  | 'not-signed'
  | 'too-large'
  | 'invalid-payload'
  | 'invalid-identity'
  | 'digest-mismatch'
  | 'expired-key'
  | 'expired-signature'
  | 'subkey'
  | 'key-id-mismatch'
  | 'revoked';

export interface SideVerdict {
  accepted: boolean;
  reason?: string;
}

export interface AuditedSignature {
  source: string;
  name: string;
  status: AuditStatus;
  signer?: { fingerprint: string; userId?: string; keyId: string; bySubkey: boolean; subkeyFingerprint?: string };
  identity?: string;
  digest?: string;
  created?: string;
  /** With a policy: the scopes whose signedBy rules trust the signer. */
  trustedBy?: string[];
  guest: SideVerdict;
  host: SideVerdict;
}

export interface AuditedImage {
  repositoryPath: string;
  digest: string;
  guestAccepts: boolean;
  hostAccepts: boolean;
  signatures: AuditedSignature[];
}

export interface AuditReport {
  images: AuditedImage[];
  total: number;
  good: number;
  counts: Partial<Record<AuditStatus, number>>;
}

const STATUS_BY_CODE: Record<SignatureErrorCode, AuditStatus> = {
  E_SIG_FORMAT: 'not-signed',
  E_SIG_TOO_LARGE: 'too-large',
  E_SIG_UNKNOWN_KEY: 'unknown-key',
  E_SIG_BAD: 'bad-signature',
  E_SIG_EXPIRED: 'expired-signature',
  E_KEY_EXPIRED: 'expired-key',
  E_KEY_REVOKED: 'revoked',
  E_SIG_SUBKEY: 'subkey',
  E_SIG_KEY_ID: 'key-id-mismatch',
  E_SIG_PAYLOAD: 'invalid-payload',
};

type SideResult =
  | { ok: true; verified: VerifiedSignature; payload: SignaturePayload }
  | { ok: false; code: AuditStatus; reason: string };

function side(result: VerifiedSignature | SignatureError, mode: 'host' | 'guest', expectedDigest: string): SideResult {
  if (result instanceof SignatureError) return { ok: false, code: STATUS_BY_CODE[result.code], reason: result.reason };
  let payload: SignaturePayload;
  try {
    payload = parsePayload(result.payloadBytes, mode);
  } catch (e) {
    if (e instanceof SignatureError) return { ok: false, code: 'invalid-payload', reason: e.reason };
    throw e;
  }
  if (payload.manifestDigest !== expectedDigest) {
    const reason =
      mode === 'host'
        ? `Signature for digest ${expectedDigest} does not match`
        : `SigPayload's manifest digest does not match, the input is ${expectedDigest}, but in SigPayload it is ${payload.manifestDigest}`;
    return { ok: false, code: 'digest-mismatch', reason };
  }
  if (mode === 'host') {
    try {
      parseNormalizedNamed(payload.dockerReference);
    } catch {
      return {
        ok: false,
        code: 'invalid-identity',
        reason: `Invalid docker reference ${JSON.stringify(payload.dockerReference)} in signature`,
      };
    }
  }
  return { ok: true, verified: result, payload };
}

/**
 * What one signature's audit found, without the file's name and place and without the policy scopes:
 * all a worker thread has to send back (see wire.ts). Reasons are present exactly when a side rejects.
 */
export interface AuditFinding {
  status: AuditStatus;
  guestReason?: string;
  hostReason?: string;
  signer?: { fingerprint: string; keyId: string; bySubkey: boolean; subkeyFingerprint?: string };
  created?: string;
  identity?: string;
  digest?: string;
}

/** Judges one blob for the image whose manifest digest is `expectedDigest`, as both sides would. */
export async function auditFinding(bytes: Uint8Array, expectedDigest: string, keyring: Keyring): Promise<AuditFinding> {
  const verdicts = await judgeSignature(bytes, keyring);
  const host = side(verdicts.host, 'host', expectedDigest);
  const guest = side(verdicts.guest, 'guest', expectedDigest);
  const finding: AuditFinding = { status: !host.ok ? host.code : !guest.ok ? guest.code : 'good' };
  if (!guest.ok) finding.guestReason = guest.reason;
  if (!host.ok) finding.hostReason = host.reason;
  const verified = host.ok ? host : guest.ok ? guest : undefined;
  const known = (r: VerifiedSignature | SignatureError) => (r instanceof SignatureError ? r.verified : r);
  const facts = verified?.verified ?? known(verdicts.host) ?? known(verdicts.guest);
  if (facts) {
    finding.signer = { fingerprint: facts.signerFingerprint, keyId: facts.keyId, bySubkey: facts.bySubkey };
    if (facts.subkeyFingerprint) finding.signer.subkeyFingerprint = facts.subkeyFingerprint;
    finding.created = facts.signatureCreated;
  }
  if (verified) {
    finding.identity = verified.payload.dockerReference;
    finding.digest = verified.payload.manifestDigest;
  }
  return finding;
}

/** The report entry for one file: its finding with the file's name and place, the signer's user id and the trusting scopes. */
export function auditedSignature(
  sig: Pick<StoredSignature, 'source' | 'name'>,
  finding: AuditFinding,
  keyring: Pick<Keyring, 'descriptions'>,
  scopesByFingerprint?: Map<string, string[]>,
): AuditedSignature {
  const out: AuditedSignature = {
    source: sig.source,
    name: sig.name,
    status: finding.status,
    guest: finding.guestReason === undefined ? { accepted: true } : { accepted: false, reason: finding.guestReason },
    host: finding.hostReason === undefined ? { accepted: true } : { accepted: false, reason: finding.hostReason },
  };
  const signer = finding.signer;
  if (signer) {
    const description = keyring.descriptions.find((d) => d.fingerprint === signer.fingerprint);
    out.signer = {
      fingerprint: signer.fingerprint,
      keyId: signer.keyId,
      bySubkey: signer.bySubkey,
      ...(description?.userIds[0] ? { userId: description.userIds[0] } : {}),
      ...(signer.subkeyFingerprint ? { subkeyFingerprint: signer.subkeyFingerprint } : {}),
    };
    out.created = finding.created;
    if (scopesByFingerprint) out.trustedBy = scopesByFingerprint.get(signer.fingerprint) ?? [];
  }
  if (finding.identity !== undefined) {
    out.identity = finding.identity;
    out.digest = finding.digest;
  }
  return out;
}

export async function auditSignature(
  sig: StoredSignature,
  keyring: Keyring,
  scopesByFingerprint?: Map<string, string[]>,
): Promise<AuditedSignature> {
  return auditedSignature(sig, await auditFinding(sig.bytes, sig.digest, keyring), keyring, scopesByFingerprint);
}

export async function auditSignatures(
  signatures: readonly StoredSignature[],
  keyring: Keyring,
  onProgress?: (done: number, total: number) => void,
  scopesByFingerprint?: Map<string, string[]>,
): Promise<AuditReport> {
  const audited: AuditedSignature[] = [];
  for (const sig of signatures) {
    audited.push(await auditSignature(sig, keyring, scopesByFingerprint));
    onProgress?.(audited.length, signatures.length);
  }
  return assembleReport(signatures, audited);
}

/** Groups per-file results (in the order of `signatures`) into images and counts. */
export function assembleReport(
  signatures: readonly StoredSignature[],
  audited: readonly AuditedSignature[],
): AuditReport {
  const images = new Map<string, AuditedImage>();
  const counts: Partial<Record<AuditStatus, number>> = {};
  for (const [i, sig] of signatures.entries()) {
    const result = audited[i]!;
    const key = `${sig.repositoryPath}\0${sig.digest}`;
    let image = images.get(key);
    if (!image) {
      image = {
        repositoryPath: sig.repositoryPath,
        digest: sig.digest,
        guestAccepts: false,
        hostAccepts: false,
        signatures: [],
      };
      images.set(key, image);
    }
    image.signatures.push(result);
    image.guestAccepts ||= result.guest.accepted;
    image.hostAccepts ||= result.host.accepted;
    counts[result.status] = (counts[result.status] ?? 0) + 1;
  }
  return { images: [...images.values()], total: signatures.length, good: counts.good ?? 0, counts };
}

/** One keyring from several files (keys in the order given); `bytes` is the binary form of all keys. */
export function mergeKeyrings(keyrings: readonly Keyring[]): Keyring {
  if (keyrings.length === 1) return keyrings[0]!;
  return {
    bytes: Buffer.concat(keyrings.flatMap((k) => k.keys.map((key) => key.write()))),
    keys: keyrings.flatMap((k) => k.keys),
    descriptions: keyrings.flatMap((k) => k.descriptions),
  };
}
