/** The verifier's OpenPGP backend: the openpgp/ and signature/ modules. */
import { readPlainPublicKeyring } from '../openpgp/fast-keyring.js';
import type { GuestOpenPgpLibrary } from '../openpgp/guest-library.js';
import type { KeyringReadOptions } from '../openpgp/keyring.js';
import { verifySignature } from '../openpgp/verify-signature.js';
import { manifestDigest } from '../signature/digest.js';
import { parsePayload } from '../signature/payload.js';
import type { SignatureBackend } from './backend.js';
import type { Side } from './types.js';

/** How each side's OpenPGP library reads a keyring (see openpgp/guest-library.ts). */
export function keyringReadOptions(side: Side | undefined): KeyringReadOptions {
  if (side === 'guest') return { armoredBlocks: 'first', armorChecksum: 'ignore' };
  if (side === 'host') return { secretKeys: 'public-part' };
  return {};
}

export interface SignatureBackendOptions {
  /** The guest's OpenPGP library: 'rpgp' (guest-components v0.20.0 and later, the default) or 'sequoia'. */
  guestLibrary?: GuestOpenPgpLibrary;
}

export function createSignatureBackend(options: SignatureBackendOptions = {}): SignatureBackend {
  const guestLibrary = options.guestLibrary ?? 'rpgp';
  return {
    // A plain RSA key as gpg exports it is read without openpgp.js (which costs more to load than the
    // rest of a cold-start verify); anything else goes through readPublicKeyring, loaded on demand.
    readKeyring: async (bytes, location, side) =>
      readPlainPublicKeyring(bytes) ??
      (await import('../openpgp/keyring.js')).readPublicKeyring(bytes, location, keyringReadOptions(side)),
    verify: (blob, keyring, side, call = {}) =>
      verifySignature(blob, keyring, side, {
        guestLibrary: call.guestLibrary ?? guestLibrary,
        ...(call.now ? { now: call.now } : {}),
      }),
    parsePayload: (bytes, side) => parsePayload(bytes, side),
    manifestDigest: (bytes) => manifestDigest(bytes),
  };
}

export const defaultSignatureBackend: SignatureBackend = createSignatureBackend();
