/** New signing key pairs. RSA 3072 by default: statically built skopeo (x/crypto/openpgp) cannot read Ed25519 keys. */
import * as openpgp from 'openpgp';
import { InputError } from '../errors.js';

export const KEY_ALGORITHMS = ['rsa3072', 'rsa4096', 'ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export interface GeneratedKey {
  fingerprint: string;
  keyId: string;
  publicArmored: string;
  secretArmored: string;
}

export async function generateSigningKey(opts: {
  name: string;
  email?: string;
  algorithm?: KeyAlgorithm;
  passphrase?: string;
  date?: Date;
}): Promise<GeneratedKey> {
  const algorithm = opts.algorithm ?? 'rsa3072';
  if (!(KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new InputError('E_USAGE', { field: '--algorithm' }, `must be one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  if (opts.name.trim() === '') throw new InputError('E_USAGE', { field: '--name' }, 'must not be empty');
  const userIDs = [{ name: opts.name, ...(opts.email ? { email: opts.email } : {}) }];
  const typed =
    algorithm === 'ed25519'
      ? ({ type: 'ecc', curve: 'curve25519Legacy' } as const) // EdDSA as gpg 2.2 and image-rs read it
      : ({ type: 'rsa', rsaBits: algorithm === 'rsa4096' ? 4096 : 3072 } as const);
  const { privateKey, publicKey } = await openpgp.generateKey({
    ...typed,
    userIDs,
    ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
    ...(opts.date ? { date: opts.date } : {}),
    format: 'armored',
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    keyId: key.getKeyID().toHex().toUpperCase(),
    publicArmored: publicKey,
    secretArmored: privateKey,
  };
}
