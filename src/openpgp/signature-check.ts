/**
 * The cryptographic check of one signature packet: the hash over the signed parts and the packet's
 * trailer, verified by node:crypto with the signer's KeyObject (RSA PKCS#1 v1.5, DSA, ECDSA, EdDSA).
 * V3 packets (GnuPG < 2.1), which openpgp.js v6 no longer reads, are checked too (RFC 4880 §5.2.2:
 * the hash covers the data, then the signature type and creation time).
 *
 * The "left 16 bits" of the hash stored in the packet are reported, not enforced: gpg ignores them,
 * rPGP (the guest) refuses a signature whose prefix does not match.
 */
import { createHash, verify } from 'node:crypto';
import type { SignaturePacket } from './packets.js';
import { der, derInteger, PUBLIC_KEY_ALGORITHM, type VerificationKey } from './public-key.js';

const HASH_NAMES: Record<number, string> = { 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

/** MD5 and RIPEMD-160 are refused (as gpg ≥ 2.2 and openpgp.js do); SHA-1 is still accepted for data. */
export function hashAccepted(hashAlgo: number): boolean {
  return HASH_NAMES[hashAlgo] !== undefined;
}

export interface SignatureCheck {
  /** The signature is cryptographically valid for the key. */
  valid: boolean;
  /** The packet's two-byte hash prefix equals the computed hash. */
  hashPrefixMatches: boolean;
}

const INVALID: SignatureCheck = { valid: false, hashPrefixMatches: false };

/** Binary (0x00) signatures hash the data as is; text (0x01) signatures hash it with CRLF line ends. */
export function dataSignatureInput(sig: SignaturePacket, data: Uint8Array): Uint8Array | undefined {
  if (sig.sigType === 0x00) return data;
  if (sig.sigType === 0x01)
    return Buffer.from(
      Buffer.from(data)
        .toString('latin1')
        .replace(/\r\n|\r|\n/g, '\r\n'),
      'latin1',
    );
  return undefined;
}

/** Checks `sig` over `parts` (the data, or the key and user-id prefixes of a self-signature). */
export function checkSignature(
  key: VerificationKey,
  sig: SignaturePacket,
  parts: readonly Uint8Array[],
): SignatureCheck {
  const hashName = HASH_NAMES[sig.hashAlgo];
  if (hashName === undefined || sig.pkAlgo !== key.algorithm) return INVALID;
  const message = Buffer.concat([...parts, sig.trailer]);
  const digest = createHash(hashName).update(message).digest();
  const hashPrefixMatches = digest[0] === sig.left16[0] && digest[1] === sig.left16[1];
  const signature = signatureBytes(key, sig.signatureData);
  if (signature === undefined) return { valid: false, hashPrefixMatches };
  let valid: boolean;
  try {
    if (key.algorithm === PUBLIC_KEY_ALGORITHM.dsa || key.algorithm === PUBLIC_KEY_ALGORITHM.ecdsa) {
      valid = verify(hashName, message, { key: key.key, dsaEncoding: 'der' }, signature);
    } else if (isEdDsa(key.algorithm)) {
      // EdDSA in OpenPGP signs the hash value, not the message.
      valid = verify(null, digest, key.key, signature);
    } else {
      valid = verify(hashName, message, key.key, signature);
    }
  } catch {
    valid = false;
  }
  return { valid, hashPrefixMatches };
}

function isEdDsa(algorithm: number): boolean {
  return (
    algorithm === PUBLIC_KEY_ALGORITHM.eddsaLegacy ||
    algorithm === PUBLIC_KEY_ALGORITHM.ed25519 ||
    algorithm === PUBLIC_KEY_ALGORITHM.ed448
  );
}

/** The algorithm-specific signature fields, in the encoding node:crypto verifies. */
function signatureBytes(key: VerificationKey, data: Uint8Array): Uint8Array | undefined {
  switch (key.algorithm) {
    case PUBLIC_KEY_ALGORITHM.ed25519:
      return data.length === 64 ? data : undefined;
    case PUBLIC_KEY_ALGORITHM.ed448:
      return data.length === 114 ? data : undefined;
  }
  const mpis = readMpis(data);
  if (mpis === undefined) return undefined;
  switch (key.algorithm) {
    case PUBLIC_KEY_ALGORITHM.rsaEncryptSign:
    case PUBLIC_KEY_ALGORITHM.rsaSign: {
      const s = mpis[0];
      const size = key.modulusBytes ?? 0;
      if (mpis.length !== 1 || s === undefined || s.length > size) return undefined;
      return leftPad(s, size);
    }
    case PUBLIC_KEY_ALGORITHM.dsa:
    case PUBLIC_KEY_ALGORITHM.ecdsa:
      return mpis.length === 2 ? der(0x30, derInteger(mpis[0]!), derInteger(mpis[1]!)) : undefined;
    case PUBLIC_KEY_ALGORITHM.eddsaLegacy:
      if (mpis.length !== 2 || mpis[0]!.length > 32 || mpis[1]!.length > 32) return undefined;
      return Buffer.concat([leftPad(mpis[0]!, 32), leftPad(mpis[1]!, 32)]);
    default:
      return undefined;
  }
}

/** MPIs filling `data` exactly, without their bit counts; undefined when they do not. */
function readMpis(data: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i + 2 <= data.length) {
    const n = (((data[i]! << 8) | data[i + 1]!) + 7) >> 3;
    i += 2;
    if (i + n > data.length) return undefined;
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return i === data.length ? out : undefined;
}

function leftPad(b: Uint8Array, size: number): Uint8Array {
  if (b.length >= size) return b;
  const out = Buffer.alloc(size);
  out.set(b, size - b.length);
  return out;
}
