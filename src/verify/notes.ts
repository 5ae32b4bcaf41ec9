/** Facts about keys and signatures that one side checks and the other does not. */
import type { Keyring } from '../keys/index.js';
import type { VerifiedSignatureInfo } from './backend.js';

function keyName(d: { fingerprint: string; userIds?: readonly string[] }): string {
  const uid = d.userIds?.[0];
  return uid ? `${d.fingerprint} (${uid})` : d.fingerprint;
}

export function describeKeyNotes(keyring: Keyring, now: Date): string[] {
  const notes: string[] = [];
  for (const d of keyring.descriptions) {
    if (d.expires !== null && Date.parse(d.expires) <= now.getTime()) {
      notes.push(
        `key ${keyName(d)} expired on ${d.expires}: image-rs does not check expiry, containers/image rejects its signatures`,
      );
    }
    if (d.revoked)
      notes.push(`key ${keyName(d)} is revoked: image-rs does not check revocation, containers/image rejects it`);
    for (const sub of d.subkeys) {
      if (sub.canSign && !sub.revoked) {
        notes.push(
          `key ${d.fingerprint} has signing subkey ${sub.fingerprint}: image-rs only tries primary keys, containers/image maps subkey signatures to the primary`,
        );
      }
    }
  }
  return notes;
}

export function describeSignatureNotes(v: VerifiedSignatureInfo): string[] {
  const notes: string[] = [];
  if (v.keyExpired) notes.push(`signing key expired on ${v.keyExpired} (not checked by image-rs)`);
  if (v.signatureExpired) notes.push(`signature expired on ${v.signatureExpired} (not checked by image-rs)`);
  if (v.keyRevoked) notes.push('signing key is revoked (not checked by image-rs)');
  if (v.subkeyRevoked) notes.push('signing subkey is revoked (not checked by image-rs)');
  if (v.bySubkey) notes.push(`made by subkey ${v.subkeyFingerprint ?? v.keyId} of ${v.signerFingerprint}`);
  return notes;
}
