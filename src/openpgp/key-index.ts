/**
 * Everything the per-signature path needs about a keyring, computed once per keyring and cached:
 * keys by key id, a node:crypto verification key for each key and subkey, and each one's standing.
 */
import type * as openpgp from 'openpgp';
import type { KeyDescription } from './describe.js';
import type { Keyring } from './keyring.js';
import { verificationKey, type VerificationKey } from './public-key.js';

export interface KeyEntry {
  description: KeyDescription;
  /** The OpenPGP public-key algorithm id. */
  algorithm: number;
  created: Date;
  isSubkey: boolean;
  fingerprint: string;
  keyId: string;
  primaryFingerprint: string;
  /** Undefined when node:crypto cannot take the key material (not a signing algorithm): nothing verifies. */
  verificationKey?: VerificationKey;
  revoked: boolean;
  expires: string | null;
  /** gpg accepts it as a signing key now (key flags, binding and back-signature, not revoked/expired). */
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

/** The public-key packet body as it was read (a secret key packet's public part). */
function publicBody(packet: KeyPacket): Uint8Array {
  return (packet as unknown as { writePublicKey(): Uint8Array }).writePublicKey();
}

async function signingUsable(primary: openpgp.PublicKey, keyId: openpgp.KeyID): Promise<boolean> {
  const pgp = await import('openpgp');
  // gpg (and so gpgme on the host) verifies with DSA keys, which openpgp.js refuses by default.
  const config = { ...pgp.config, rejectPublicKeyAlgorithms: new Set<openpgp.enums.publicKey>() };
  try {
    await primary.getSigningKey(keyId, new Date(), undefined, config);
    return true;
  } catch {
    return false;
  }
}

function entryOf(
  description: KeyDescription,
  packet: KeyPacket,
  facts: { isSubkey: boolean; fingerprint: string; keyId: string; revoked: boolean; expires: string | null },
  usable: boolean,
): KeyEntry {
  const body = publicBody(packet);
  const key = verificationKey(body);
  return {
    description,
    algorithm: packet.algorithm,
    created: packet.created,
    ...facts,
    primaryFingerprint: description.fingerprint,
    ...(key ? { verificationKey: key } : {}),
    signingUsable: usable,
  };
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
    const d = keyring.descriptions[i]!;
    const entry = entryOf(
      d,
      primary.keyPacket,
      { isSubkey: false, fingerprint: d.fingerprint, keyId: d.keyId, revoked: d.revoked, expires: d.expires },
      await signingUsable(primary, primary.getKeyID()),
    );
    primaries.push(entry);
    add(entry);
    for (const [j, subkey] of primary.subkeys.entries()) {
      const sd = d.subkeys[j]!;
      const facts = {
        isSubkey: true,
        fingerprint: sd.fingerprint,
        keyId: sd.keyId,
        revoked: sd.revoked,
        expires: sd.expires,
      };
      add(entryOf(d, subkey.keyPacket, facts, await signingUsable(primary, subkey.getKeyID())));
    }
  }
  return { byKeyId, primaries };
}

/** A KeyIndex as plain data (structured-clone safe), for worker threads. */
export interface PlainKeyEntry {
  description: KeyDescription;
  algorithm: number;
  created: number;
  isSubkey: boolean;
  fingerprint: string;
  keyId: string;
  primaryFingerprint: string;
  /** The public-key packet body, base64. */
  keyPacket: string;
  revoked: boolean;
  expires: string | null;
  signingUsable: boolean;
  primary: boolean;
}

const plainBodies = new WeakMap<KeyEntry, Uint8Array>();

/** The plain form of a keyring's index (primaries first, in keyring order, as the guest tries them). */
export async function plainKeyIndex(keyring: Keyring): Promise<PlainKeyEntry[] | undefined> {
  const index = await keyIndex(keyring);
  const primaries = new Set(index.primaries);
  const all = [...index.primaries, ...[...index.byKeyId.values()].flat().filter((e) => !primaries.has(e))];
  const bodies = new Map<string, Uint8Array>();
  for (const [i, key] of keyring.keys.entries()) {
    bodies.set(keyring.descriptions[i]!.fingerprint, publicBody(key.keyPacket));
    for (const [j, sub] of key.subkeys.entries())
      bodies.set(keyring.descriptions[i]!.subkeys[j]!.fingerprint, publicBody(sub.keyPacket));
  }
  const out: PlainKeyEntry[] = [];
  for (const e of all) {
    const body = plainBodies.get(e) ?? bodies.get(e.fingerprint);
    if (body === undefined) return undefined;
    out.push({
      description: e.description,
      algorithm: e.algorithm,
      created: e.created.getTime(),
      isSubkey: e.isSubkey,
      fingerprint: e.fingerprint,
      keyId: e.keyId,
      primaryFingerprint: e.primaryFingerprint,
      keyPacket: Buffer.from(body).toString('base64'),
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
    const body = Buffer.from(p.keyPacket, 'base64');
    const key = verificationKey(body);
    const entry: KeyEntry = {
      description: p.description,
      algorithm: p.algorithm,
      created: new Date(p.created),
      isSubkey: p.isSubkey,
      fingerprint: p.fingerprint,
      keyId: p.keyId,
      primaryFingerprint: p.primaryFingerprint,
      ...(key ? { verificationKey: key } : {}),
      revoked: p.revoked,
      expires: p.expires,
      signingUsable: p.signingUsable,
    };
    plainBodies.set(entry, body);
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
