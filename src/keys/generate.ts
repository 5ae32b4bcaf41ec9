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
  assertUserId(opts.name, opts.email);
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

// The user id is `Name <email>`: a name holding <, > or a control character, or an e-mail that is
// not `local@domain.tld`, makes a user id that gpg and openpgp.js read differently or refuse.
const NAME_FORBIDDEN = /[<>\p{C}]/u;
const EMAIL =
  /^[^\s@<>\\\p{C}]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/u;

/** InputError naming --name or --email and what is wrong with it; run before any key is generated. */
export function assertUserId(name: string, email: string | undefined): void {
  if (name.trim() === '') throw new InputError('E_USAGE', { field: '--name' }, 'must not be empty');
  if (NAME_FORBIDDEN.test(name))
    throw new InputError('E_USAGE', { field: '--name' }, 'must not hold "<", ">" or control characters');
  if (email !== undefined && !EMAIL.test(email))
    throw new InputError(
      'E_USAGE',
      { field: '--email' },
      `${JSON.stringify(email)} is not an e-mail address of the form name@example.com`,
    );
}
