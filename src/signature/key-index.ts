/**
 * Everything the per-signature path needs about a keyring, computed once per keyring and cached:
 * keys by key id, node:crypto KeyObjects for RSA keys, and each key's and subkey's standing.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { KeyDescription } from '../keys/index.js';
import type { Keyring } from '../keys/index.js';

export interface KeyEntry {
  primary: openpgp.PublicKey;
  description: KeyDescription;
  packet: KeyPacket;
  isSubkey: boolean;
  fingerprint: string;
  keyId: string;
  primaryFingerprint: string;
  /** Present for RSA keys: the fast path. */
  rsa?: { key: KeyObject; modulusBytes: number };
  revoked: boolean;
  expires: string | null;
  /** openpgp.js accepts it as a signing key now (key flags, binding and back-signature, not revoked/expired). */
  signingUsable: boolean;
}

type KeyPacket = openpgp.PublicKeyPacket | openpgp.PublicSubkeyPacket | openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket;

export interface KeyIndex {
  byKeyId: Map<string, KeyEntry[]>;
  primaries: KeyEntry[];
}

const cache = new WeakMap<Keyring, Promise<KeyIndex>>();

export function keyIndex(keyring: Keyring): Promise<KeyIndex> {
  let p = cache.get(keyring);
  if (!p) {
    p = buildIndex(keyring);
    cache.set(keyring, p);
  }
  return p;
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

function rsaKey(packet: KeyPacket): KeyEntry['rsa'] {
  const algo = packet.algorithm as unknown as number;
  if (algo !== openpgp.enums.publicKey.rsaEncryptSign && algo !== openpgp.enums.publicKey.rsaSign) return undefined;
  const params = packet.publicParams as unknown as { n: Uint8Array; e: Uint8Array };
  let n = params.n;
  while (n.length > 0 && n[0] === 0) n = n.subarray(1);
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(params.e) }, format: 'jwk' });
    return { key, modulusBytes: n.length };
  } catch {
    return undefined;
  }
}

async function signingUsable(primary: openpgp.PublicKey, keyId: openpgp.KeyID): Promise<boolean> {
  try {
    await primary.getSigningKey(keyId, new Date());
    return true;
  } catch {
    return false;
  }
}

async function buildIndex(keyring: Keyring): Promise<KeyIndex> {
  const byKeyId = new Map<string, KeyEntry[]>();
  const primaries: KeyEntry[] = [];
  const add = (e: KeyEntry) => {
    const list = byKeyId.get(e.keyId);
    if (list) list.push(e);
    else byKeyId.set(e.keyId, [e]);
  };
  for (const [i, primary] of keyring.keys.entries()) {
    const description = keyring.descriptions[i]!;
    const entry: KeyEntry = {
      primary,
      description,
      packet: primary.keyPacket,
      isSubkey: false,
      fingerprint: description.fingerprint,
      keyId: description.keyId,
      primaryFingerprint: description.fingerprint,
      rsa: rsaKey(primary.keyPacket),
      revoked: description.revoked,
      expires: description.expires,
      signingUsable: await signingUsable(primary, primary.getKeyID()),
    };
    primaries.push(entry);
    add(entry);
    for (const [j, subkey] of primary.subkeys.entries()) {
      const sd = description.subkeys[j]!;
      add({
        primary,
        description,
        packet: subkey.keyPacket,
        isSubkey: true,
        fingerprint: sd.fingerprint,
        keyId: sd.keyId,
        primaryFingerprint: description.fingerprint,
        rsa: rsaKey(subkey.keyPacket),
        revoked: sd.revoked,
        expires: sd.expires,
        signingUsable: await signingUsable(primary, subkey.getKeyID()),
      });
    }
  }
  return { byKeyId, primaries };
}
