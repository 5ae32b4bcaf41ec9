/** What a key index says of each key, in a form `toEqual` compares (the fast and full readers must agree). */
import type { Keyring } from '../../src/keys/index.js';
import { keyIndex } from '../../src/openpgp/key-index.js';

export async function keyIndexFacts(keyring: Keyring) {
  const index = await keyIndex(keyring);
  return [...index.byKeyId.values()].flat().map((e) => ({
    keyId: e.keyId,
    fingerprint: e.fingerprint,
    primaryFingerprint: e.primaryFingerprint,
    isSubkey: e.isSubkey,
    revoked: e.revoked,
    expires: e.expires,
    signingUsable: e.signingUsable,
    algorithm: e.algorithm,
    created: e.created.getTime(),
    key: e.verificationKey?.key.export({ format: 'jwk' }),
  }));
}
