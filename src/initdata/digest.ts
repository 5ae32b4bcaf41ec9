/**
 * The initdata digest a TEE reports, computed as the kata runtime computes it: the hash named by the TOML's
 * `algorithm` over the exact TOML bytes, then cut or zero-padded to the TEE's field (SNP HOST_DATA 32 bytes,
 * TDX MRCONFIGID 48, Arm CCA personalization value 64, s390x SE 256). Attestation policies compare this
 * value with the one in the evidence.
 */
import { createHash } from 'node:crypto';
import type { InitdataAlgorithm } from './schema.js';

export const TEES = ['snp', 'tdx', 'cca', 'se'] as const;
export type Tee = (typeof TEES)[number];

export const TEE_FIELD_BYTES: Record<Tee, number> = { snp: 32, tdx: 48, cca: 64, se: 256 };

export interface TeeDigest {
  tee: Tee;
  bytes: number;
  /** Lowercase hex, as attestation reference values usually hold it. */
  hex: string;
  /** Standard base64, as kata passes it to QEMU (host-data=, mrconfigid=, personalization-value=). */
  base64: string;
}

export function initdataHash(toml: string, algorithm: InitdataAlgorithm): Buffer {
  return createHash(algorithm).update(Buffer.from(toml, 'utf8')).digest();
}

/** The digest as the TEE's field holds it: truncated when longer, zero-padded when shorter. */
export function teeDigest(hash: Uint8Array, tee: Tee): TeeDigest {
  const bytes = TEE_FIELD_BYTES[tee];
  const field = Buffer.alloc(bytes);
  Buffer.from(hash).copy(field, 0, 0, Math.min(bytes, hash.length));
  return { tee, bytes, hex: field.toString('hex'), base64: field.toString('base64') };
}

export function teeDigests(toml: string, algorithm: InitdataAlgorithm, tees: readonly Tee[] = TEES): TeeDigest[] {
  const hash = initdataHash(toml, algorithm);
  return tees.map((t) => teeDigest(hash, t));
}
