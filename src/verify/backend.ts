/**
 * The OpenPGP side of the verifier, as an interface: the keys/ and signature/ modules
 * implement it (see default-backend.ts); tests may substitute it.
 */
import type { Location } from '../errors.js';
import { isErrorCode, type ErrorCode } from '../error-codes.js';
import type { Keyring } from '../keys/index.js';
import type { GuestOpenPgpLibrary } from '../openpgp/guest-library.js';
import type { Side } from './types.js';

export interface VerifiedSignatureInfo {
  payloadBytes: Uint8Array;
  /** Primary key fingerprint, uppercase hex. */
  signerFingerprint: string;
  keyId: string;
  bySubkey: boolean;
  subkeyFingerprint?: string;
  keyExpired: string | null;
  signatureExpired: string | null;
  keyRevoked: boolean;
  subkeyRevoked: boolean;
}

export interface VerifyCallOptions {
  now?: Date;
  guestLibrary?: GuestOpenPgpLibrary;
}

export interface PayloadInfo {
  dockerReference: string;
  manifestDigest: string;
  type: string;
}

export interface SignatureBackend {
  /**
   * The keyring as `side` reads it (the guest: the first armored block, CRC ignored; the host: gpgme's
   * import, a secret-key export's public part); without a side, strictly (every block, CRC checked, a
   * secret key refused), as `lint` wants it.
   */
  readKeyring(bytes: Uint8Array, location: Location, side?: Side): Promise<Keyring>;
  /**
   * Throws an error with `.code` and `.reason` (worded per side) when the blob does not verify. `guestLibrary`
   * is the guest release's OpenPGP library (default: the backend's own, rPGP unless it was made otherwise).
   */
  verify(blob: Uint8Array, keyring: Keyring, side: Side, options?: VerifyCallOptions): Promise<VerifiedSignatureInfo>;
  /** Throws an error with `.reason` worded per side when the payload is not acceptable JSON. */
  parsePayload(bytes: Uint8Array, side: Side): PayloadInfo;
  /** containers/image `manifest.Digest` (schema1 JWS stripped); throws on malformed schema1. */
  manifestDigest(bytes: Uint8Array): string;
}

/** The side-worded reason of an error from the backend (SignatureError.reason, else its message). */
export function reasonOf(e: unknown): { reason: string; code?: ErrorCode } {
  const err = e as { reason?: unknown; code?: unknown; message?: unknown };
  const reason =
    typeof err.reason === 'string' ? err.reason : typeof err.message === 'string' ? err.message : String(e);
  return typeof err.code === 'string' && isErrorCode(err.code) ? { reason, code: err.code } : { reason };
}
