/**
 * What goes between `audit`'s main thread and its worker threads, in forms that are cheap to pass:
 * a chunk of signatures as one transferable buffer with end offsets and the expected digests (no file
 * names, no per-signature objects), and findings as one flat array of strings (structured-cloning many
 * nested result objects costs far more CPU than one flat array).
 */
import type { AuditFinding, AuditStatus } from './audit.js';
import type { StoredSignature } from '../store/read-store.js';

export interface PackedChunk {
  /** Every blob of the chunk, back to back. */
  bytes: ArrayBuffer;
  /** ends[i] = offset just past blob i in `bytes`. */
  ends: Uint32Array<ArrayBuffer>;
  /** The manifest digest each blob is checked against. */
  digests: string[];
}

export function packChunk(signatures: readonly StoredSignature[], from: number, to: number): PackedChunk {
  let total = 0;
  for (let i = from; i < to; i++) total += signatures[i]!.bytes.byteLength;
  // Not pooled and not zero-filled: its ArrayBuffer is exactly these bytes, and it is transferred.
  const packed = Buffer.allocUnsafeSlow(total);
  const ends = new Uint32Array(to - from);
  const digests = new Array<string>(to - from);
  let at = 0;
  for (let i = from; i < to; i++) {
    const sig = signatures[i]!;
    packed.set(sig.bytes, at);
    at += sig.bytes.byteLength;
    ends[i - from] = at;
    digests[i - from] = sig.digest;
  }
  return { bytes: packed.buffer, ends, digests };
}

/** Blob i of a packed chunk, as a Buffer view (no copy), the type the store reader gives. */
export function chunkBlob(chunk: PackedChunk, i: number): Buffer {
  const start = i === 0 ? 0 : chunk.ends[i - 1]!;
  return Buffer.from(chunk.bytes, start, chunk.ends[i]! - start);
}

/** Values per finding in the flat form. */
const FIELDS = 10;

export type FlatFindings = Array<string | boolean | undefined>;

export function encodeFindings(findings: readonly AuditFinding[]): FlatFindings {
  const out: FlatFindings = new Array<string | boolean | undefined>(findings.length * FIELDS);
  let k = 0;
  for (const f of findings) {
    out[k++] = f.status;
    out[k++] = f.guestReason;
    out[k++] = f.hostReason;
    out[k++] = f.signer?.fingerprint;
    out[k++] = f.signer?.keyId;
    out[k++] = f.signer?.bySubkey;
    out[k++] = f.signer?.subkeyFingerprint;
    out[k++] = f.created;
    out[k++] = f.identity;
    out[k++] = f.digest;
  }
  return out;
}

/** The inverse of encodeFindings: the same findings, with the same keys present. */
export function decodeFindings(flat: FlatFindings): AuditFinding[] {
  if (flat.length % FIELDS !== 0) throw new Error(`audit worker: ${flat.length} values do not make whole findings`);
  const out = new Array<AuditFinding>(flat.length / FIELDS);
  for (let k = 0, n = 0; k < flat.length; k += FIELDS, n++) {
    const f: AuditFinding = { status: flat[k] as AuditStatus };
    const str = (j: number) => flat[k + j] as string | undefined;
    if (str(1) !== undefined) f.guestReason = str(1);
    if (str(2) !== undefined) f.hostReason = str(2);
    if (str(3) !== undefined) {
      f.signer = { fingerprint: str(3)!, keyId: str(4)!, bySubkey: flat[k + 5] as boolean };
      if (str(6) !== undefined) f.signer.subkeyFingerprint = str(6);
    }
    if (str(7) !== undefined) f.created = str(7);
    if (str(8) !== undefined) f.identity = str(8);
    if (str(9) !== undefined) f.digest = str(9);
    out[n] = f;
  }
  return out;
}
