/** The verifier's OpenPGP backend: helper B's keys/ and signature/ modules. */
import { readPublicKeyring } from '../keys/index.js';
import { manifestDigest, parsePayload, verifySignature } from '../signature/index.js';
import type { SignatureBackend } from './backend.js';

export const defaultSignatureBackend: SignatureBackend = {
  readKeyring: (bytes, location) => readPublicKeyring(bytes, location),
  verify: (blob, keyring, side, now) => verifySignature(blob, keyring, side, now ? { now } : {}),
  parsePayload: (bytes, side) => parsePayload(bytes, side),
  manifestDigest: (bytes) => manifestDigest(bytes),
};
