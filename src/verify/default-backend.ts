/** The verifier's OpenPGP backend: the keys/ and signature/ modules. */
import { readPlainPublicKeyring } from '../openpgp/fast-keyring.js';
import { manifestDigest } from '../signature/digest.js';
import { parsePayload } from '../signature/payload.js';
import { verifySignature } from '../openpgp/verify-signature.js';
import type { SignatureBackend } from './backend.js';

export const defaultSignatureBackend: SignatureBackend = {
  // A plain binary RSA key is read without openpgp.js (which costs more to load than the rest of a
  // cold-start verify); anything else goes through readPublicKeyring, loaded on demand.
  readKeyring: async (bytes, location) =>
    readPlainPublicKeyring(bytes) ?? (await import('../openpgp/keyring.js')).readPublicKeyring(bytes, location),
  verify: (blob, keyring, side, now) => verifySignature(blob, keyring, side, now ? { now } : {}),
  parsePayload: (bytes, side) => parsePayload(bytes, side),
  manifestDigest: (bytes) => manifestDigest(bytes),
};
