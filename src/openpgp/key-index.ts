/**
 * Everything the per-signature path needs about a keyring, computed once per keyring and cached:
 * keys by key id, node:crypto KeyObjects for RSA keys, and each key's and subkey's standing.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type * as openpgp from 'openpgp';
import type { KeyDescription } from './describe.js';
import type { Keyring } from './keyring.js';

// openpgp.enums.publicKey values, written out so that this module does not load openpgp.js at run time
// (audit workers use it without openpgp.js; see plainKeyIndex).
const RSA_ENCRYPT_SIGN = 1;
const RSA_SIGN = 3;

export interface KeyEntry {
  description: KeyDescription;
  /** The key packet (an openpgp.js object), or just its algorithm and creation time in a plain index. */
  packet: KeyPacket | { algorithm: number; created: Date };
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

type KeyPacket =
  openpgp.PublicKeyPacket | openpgp.PublicSubkeyPacket | openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket;

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
  if (algo !== RSA_ENCRYPT_SIGN && algo !== RSA_SIGN) return undefined;
  const params = packet.publicParams as unknown as { n: Uint8Array; e: Uint8Array };
  let n = params.n;
  while (n.length > 0 && n[0] === 0) n = n.subarray(1);
  return rsaFromJwk(b64url(n), b64url(params.e));
}

function rsaFromJwk(n: string, e: string): KeyEntry['rsa'] {
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
    return { key, modulusBytes: Buffer.from(n, 'base64url').length };
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

/** A KeyIndex as plain data (structured-clone safe), for worker threads. RSA keys only. */
export interface PlainKeyEntry {
  description: KeyDescription;
  algorithm: number;
  created: number;
  isSubkey: boolean;
  fingerprint: string;
  keyId: string;
  primaryFingerprint: string;
  rsa: { n: string; e: string };
  revoked: boolean;
  expires: string | null;
  signingUsable: boolean;
  primary: boolean;
}

/** The plain form of a keyring's index, or undefined when a key is not RSA (workers then parse the keyring). */
export async function plainKeyIndex(keyring: Keyring): Promise<PlainKeyEntry[] | undefined> {
  const index = await keyIndex(keyring);
  // Primaries first, in keyring order (the guest tries them in that order), then subkeys.
  const primaries = new Set(index.primaries);
  const all = [...index.primaries, ...[...index.byKeyId.values()].flat().filter((e) => !primaries.has(e))];
  const out: PlainKeyEntry[] = [];
  for (const e of all) {
    if (!e.rsa) return undefined;
    const jwk = e.rsa.key.export({ format: 'jwk' }) as { n: string; e: string };
    out.push({
      description: e.description,
      algorithm: e.packet.algorithm as unknown as number,
      created: e.packet.created.getTime(),
      isSubkey: e.isSubkey,
      fingerprint: e.fingerprint,
      keyId: e.keyId,
      primaryFingerprint: e.primaryFingerprint,
      rsa: { n: jwk.n, e: jwk.e },
      revoked: e.revoked,
      expires: e.expires,
      signingUsable: e.signingUsable,
      primary: primaries.has(e),
    });
  }
  return out;
}

/** A Keyring (without openpgp.js key objects) whose index is rebuilt from plain data. */
export function keyringFromPlainIndex(entries: readonly PlainKeyEntry[]): Keyring {
  const byKeyId = new Map<string, KeyEntry[]>();
  const primaries: KeyEntry[] = [];
  const descriptions: KeyDescription[] = [];
  for (const p of entries) {
    const entry: KeyEntry = {
      description: p.description,
      packet: { algorithm: p.algorithm, created: new Date(p.created) },
      isSubkey: p.isSubkey,
      fingerprint: p.fingerprint,
      keyId: p.keyId,
      primaryFingerprint: p.primaryFingerprint,
      rsa: rsaFromJwk(p.rsa.n, p.rsa.e),
      revoked: p.revoked,
      expires: p.expires,
      signingUsable: p.signingUsable,
    };
    if (p.primary) {
      primaries.push(entry);
      descriptions.push(p.description);
    }
    const list = byKeyId.get(entry.keyId);
    if (list) list.push(entry);
    else byKeyId.set(entry.keyId, [entry]);
  }
  const keyring: Keyring = { bytes: new Uint8Array(), keys: [], descriptions };
  cache.set(keyring, Promise.resolve({ byKeyId, primaries }));
  return keyring;
}
