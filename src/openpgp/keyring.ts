/** Public keyrings: the trusted keys of a signedBy rule, or the keys `audit` and `verify` check against. */
import type * as openpgp from 'openpgp';
import { InputError, type Location } from '../errors.js';
import { describeKey, keyLabel, type KeyDescription } from './describe.js';
import { parseKeys, type KeyParseOptions } from './parse.js';

export interface KeyringReadOptions extends KeyParseOptions {
  /**
   * 'refuse' a secret-key export (E_SECRET_KEY, the default: a policy should carry public keys), or
   * take its 'public-part', as gpgme's import (the host) does.
   */
  secretKeys?: 'refuse' | 'public-part';
}

export interface Keyring {
  /** Exactly the bytes read (what goes into `keyData`). */
  readonly bytes: Uint8Array;
  readonly keys: readonly openpgp.PublicKey[];
  readonly descriptions: readonly KeyDescription[];
}

/**
 * Armored or binary, one or several keys (concatenated armored blocks too). InputError codes:
 * E_NOT_OPENPGP, E_ARMOR_CRC, E_SECRET_KEY, E_NO_KEYS. Secret material is never echoed.
 */
export async function readPublicKeyring(
  bytes: Uint8Array,
  location: Location,
  options: KeyringReadOptions = {},
): Promise<Keyring> {
  const parsed = await parseKeys(bytes, location, options);
  if (options.secretKeys !== 'public-part' && parsed.some((k) => k.isPrivate())) {
    throw new InputError('E_SECRET_KEY', location, 'is a secret key; give the public key (gpg --export)');
  }
  if (parsed.length === 0) throw new InputError('E_NO_KEYS', location, 'holds no OpenPGP public key');
  const keys = parsed.map((k) => (k.isPrivate() ? k.toPublic() : k));
  const descriptions = await Promise.all(keys.map((k) => describeKey(k)));
  return { bytes, keys, descriptions };
}

/** E_KEY_REVOKED / E_KEY_EXPIRED (with the date) unless allowed. */
export function assertKeyringUsable(
  keyring: Keyring,
  location: Location,
  options: { allowExpired?: boolean; allowRevoked?: boolean; now?: Date } = {},
): void {
  const now = options.now ?? new Date();
  for (const d of keyring.descriptions) {
    if (d.revoked && !options.allowRevoked) {
      throw new InputError('E_KEY_REVOKED', location, `key ${keyLabel(d)} is revoked`);
    }
    if (d.expires !== null && Date.parse(d.expires) <= now.getTime() && !options.allowExpired) {
      throw new InputError('E_KEY_EXPIRED', location, `key ${keyLabel(d)} expired on ${d.expires}`);
    }
  }
}
