/** A signature that does not verify. `reason` is worded as the side that judged it (guest or host) words it. */
import { KbsBundlerError } from '../errors.js';

export type SignatureErrorCode =
  | 'E_SIG_FORMAT'
  | 'E_SIG_TOO_LARGE'
  | 'E_SIG_UNKNOWN_KEY'
  | 'E_SIG_BAD'
  | 'E_SIG_EXPIRED'
  | 'E_KEY_EXPIRED'
  | 'E_KEY_REVOKED'
  | 'E_SIG_SUBKEY'
  | 'E_SIG_KEY_ID'
  | 'E_SIG_PAYLOAD';

export type VerifyMode = 'host' | 'guest';

export class SignatureError extends KbsBundlerError {
  readonly code: SignatureErrorCode;
  /** The text the judging side (containers/image on the host, image-rs in the guest) would give. */
  readonly reason: string;
  readonly mode: VerifyMode;
  /** A rejected signature is a denial, not bad input. */
  override readonly exitCode = 1 as const;
  /** Set when the cryptography held but a rule refused the signature (expiry, revocation, subkey, key id). */
  readonly verified?: import('./verify-signature.js').VerifiedSignature;
  constructor(
    code: SignatureErrorCode,
    mode: VerifyMode,
    reason: string,
    verified?: import('./verify-signature.js').VerifiedSignature,
  ) {
    super(reason);
    if (verified) this.verified = verified;
    this.name = 'SignatureError';
    this.code = code;
    this.mode = mode;
    this.reason = reason;
  }
}
