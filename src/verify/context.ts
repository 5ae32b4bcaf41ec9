/** What every requirement evaluator receives: the inputs, already parsed for one side. */
import type { DockerReference } from '../reference/index.js';
import type { HostRelease } from '../releases/containers-image.js';
import type { GuestOpenPgp, GuestRelease } from '../releases/guest-components.js';
import type { SigstoreConfig } from '../lookaside/schema.js';
import type { SignatureBackend } from './backend.js';
import type { VerifyInputs } from './inputs.js';
import type { Side } from './types.js';

export interface EvalContext {
  side: Side;
  inputs: VerifyInputs;
  backend: SignatureBackend;
  /** The image as pulled: normalised, `:latest` added when neither tag nor digest. */
  origin: DockerReference;
  /** Platform manifest digest used for signature lookup and the guest's digest check. */
  digest: string;
  /** The sigstore config as this side read it; undefined when none (guest: not set). */
  sigstoreConfig: SigstoreConfig | undefined;
  now: Date;
  guestRelease: GuestRelease;
  hostRelease: HostRelease;
  /**
   * The OpenPGP behaviour of the guest release (sequoia before v0.20.0, rPGP since), for the signature
   * backend to follow where the two read signature files and keyrings differently.
   */
  guestOpenPgp: GuestOpenPgp;
}
