/** Secret keys for signing, as `gpg --export-secret-keys` writes them (armored or binary, encrypted or not). */
import * as openpgp from 'openpgp';
import { InputError, type Location } from '../errors.js';
import { parseKeys } from '../openpgp/parse.js';

/**
 * Returns the decrypted secret key. When the file holds several secret keys, `fingerprint` (or a key
 * id suffix) chooses one. Errors: E_PUBLIC_KEY, E_SEVERAL_KEYS, E_KEY_NOT_FOUND, E_PASSPHRASE_REQUIRED,
 * E_BAD_PASSPHRASE — none of them echoes the passphrase.
 */
export async function readSecretKey(
  bytes: Uint8Array,
  passphrase: string | undefined,
  location: Location,
  options: { fingerprint?: string } = {},
): Promise<openpgp.PrivateKey> {
  const parsed = await parseKeys(bytes, location);
  let secret = parsed.filter((k): k is openpgp.PrivateKey => k.isPrivate());
  if (secret.length === 0) {
    throw new InputError('E_PUBLIC_KEY', location, 'is a public key; give the secret key (gpg --export-secret-keys)');
  }
  if (options.fingerprint !== undefined) {
    const want = options.fingerprint.replace(/\s+/g, '').toUpperCase();
    secret = secret.filter((k) => k.getFingerprint().toUpperCase().endsWith(want));
    if (secret.length === 0) throw new InputError('E_KEY_NOT_FOUND', location, `holds no secret key ${want}`);
  }
  if (secret.length > 1) {
    const fprs = secret.map((k) => k.getFingerprint().toUpperCase()).join(', ');
    throw new InputError('E_SEVERAL_KEYS', location, `holds several secret keys (${fprs}); choose one by fingerprint`);
  }
  const key = secret[0]!;
  if (key.isDecrypted()) return key;
  if (passphrase === undefined || passphrase === '') {
    throw new InputError(
      'E_PASSPHRASE_REQUIRED',
      location,
      'the secret key is passphrase-protected; give the passphrase (--passphrase-file or KBS_BUNDLER_PASSPHRASE)',
    );
  }
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch {
    // The cause is dropped on purpose: nothing derived from the passphrase travels further.
    throw new InputError('E_BAD_PASSPHRASE', location, 'wrong passphrase for the secret key');
  }
}
