/** Plain descriptions of OpenPGP keys (fingerprints, user ids, expiry, revocation) for reports and checks. */
import type * as openpgp from 'openpgp';

/** openpgp.enums.keyFlags.signData (RFC 4880 §5.2.3.21): a value, so that this module does not load openpgp.js. */
const SIGN_DATA = 0x02;

export interface SubkeyDescription {
  fingerprint: string;
  keyId: string;
  canSign: boolean;
  revoked: boolean;
  expires: string | null;
}

export interface KeyDescription {
  /** Uppercase hex, 40 characters for a v4 key. */
  fingerprint: string;
  /** Uppercase hex, 16 characters. */
  keyId: string;
  userIds: string[];
  /** e.g. `rsa3072`, `ed25519`. */
  algorithm: string;
  created: string;
  /** ISO date, or null when the key never expires. */
  expires: string | null;
  revoked: boolean;
  subkeys: SubkeyDescription[];
}

type AnyKey = openpgp.PublicKey | openpgp.PrivateKey;

export function algorithmName(info: { algorithm: string; bits?: number; curve?: string }): string {
  const { algorithm, bits, curve } = info;
  if (algorithm.startsWith('rsa')) return `rsa${bits ?? ''}`;
  if (algorithm === 'dsa') return `dsa${bits ?? ''}`;
  if (algorithm === 'ed25519' || algorithm === 'eddsaLegacy' || curve === 'ed25519Legacy') return 'ed25519';
  if (algorithm === 'ed448') return 'ed448';
  if (curve) return `${algorithm}-${curve}`;
  return algorithm;
}

function isoOrNull(t: Date | number | null): string | null {
  if (t instanceof Date) return t.toISOString();
  return null; // Infinity (never) or null (no valid self-signature)
}

async function expiration(key: { getExpirationTime(): Promise<Date | number | null> }): Promise<string | null> {
  try {
    return isoOrNull(await key.getExpirationTime());
  } catch {
    return null;
  }
}

/** Revocation as of now (openpgp checks every revocation signature when none is given). */
async function revoked(key: AnyKey | openpgp.Subkey): Promise<boolean> {
  try {
    return await key.isRevoked(undefined as never, undefined as never);
  } catch {
    return false;
  }
}

function subkeyCanSign(subkey: openpgp.Subkey): boolean {
  const sigs = [...subkey.bindingSignatures].sort((a, b) => (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0));
  const flags = sigs[0]?.keyFlags?.[0];
  if (flags === undefined) return false;
  return (flags & SIGN_DATA) !== 0;
}

export async function describeKey(key: AnyKey): Promise<KeyDescription> {
  const subkeys: SubkeyDescription[] = [];
  for (const subkey of key.subkeys) {
    subkeys.push({
      fingerprint: subkey.getFingerprint().toUpperCase(),
      keyId: subkey.getKeyID().toHex().toUpperCase(),
      canSign: subkeyCanSign(subkey),
      revoked: await revoked(subkey),
      expires: await expiration(subkey),
    });
  }
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    keyId: key.getKeyID().toHex().toUpperCase(),
    userIds: key.getUserIDs(),
    algorithm: algorithmName(key.getAlgorithmInfo()),
    created: key.getCreationTime().toISOString(),
    expires: await expiration(key),
    revoked: await revoked(key),
    subkeys,
  };
}

/** `FINGERPRINT (first user id)` for messages. */
export function keyLabel(d: KeyDescription): string {
  return d.userIds[0] ? `${d.fingerprint} (${d.userIds[0]})` : d.fingerprint;
}
