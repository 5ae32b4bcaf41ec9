/**
 * A keyring reader without openpgp.js, for the cold-start `verify` path (loading openpgp.js costs
 * more than the whole rest of a verify). It takes only the plain, common case and answers
 * `undefined` for anything else, so that callers fall back to readPublicKeyring (openpgp.js):
 *
 *  - one binary (gpg --export) v4 RSA primary key of ≥ 2048 bits, user IDs and subkeys, or the same
 *    armored as gpg --export --armor writes it (one block with a valid checksum: see armor.ts);
 *  - every signature a v4 self-signature by that key (certifications on user IDs, bindings on
 *    subkeys) over SHA-2, cryptographically valid (checked here with node:crypto), created in the past,
 *    without a signature expiration, and with no critical subpacket we do not know;
 *  - no revocation, direct-key or third-party signatures; no signing-capable subkeys (their back-
 *    signatures are openpgp.js's job); a key expiration only on a key with one user ID and one
 *    self-signature per component.
 *
 * Within that case the descriptions and the key index agree with openpgp.js (test/openpgp/fast-keyring.test.ts
 * compares them on every fixture key).
 */
import { createHash } from 'node:crypto';
import { dearmorPublicKey } from './armor.js';
import { keyringFromPlainIndex, type PlainKeyEntry } from './key-index.js';
import { parseSignature, readPackets, type SignaturePacket } from './packets.js';
import { verificationKey, type VerificationKey } from './public-key.js';
import { checkSignature } from './signature-check.js';
import type { KeyDescription, SubkeyDescription } from './describe.js';
import type { Keyring } from './keyring.js';

const TAG_SIGNATURE = 2;
const TAG_PUBLIC_KEY = 6;
const TAG_USER_ID = 13;
const TAG_PUBLIC_SUBKEY = 14;
const RSA_ALGOS = new Set([1, 3]);
const SIGN_DATA_FLAG = 0x02;

/** SHA-2 only: a self-signature over SHA-1 is openpgp.js's (and gpg's) to judge. */
const SHA2 = new Set([8, 9, 10, 11]);

class NotPlain extends Error {}

interface KeyMaterial {
  body: Uint8Array;
  algorithm: number;
  created: Date;
  fingerprint: string;
  keyId: string;
  rsa?: { n: Uint8Array; e: Uint8Array };
}

interface SelfSig {
  sig: SignaturePacket;
  keyFlags?: number;
  keyExpiration?: number;
}

/** The keyring when `bytes` is the plain case described above, else undefined (use readPublicKeyring). */
export function readPlainPublicKeyring(bytes: Uint8Array, now: Date = new Date()): Keyring | undefined {
  try {
    if (bytes.length === 0) return undefined;
    const binary = (bytes[0]! & 0x80) !== 0 ? bytes : dearmorPublicKey(bytes);
    return binary ? read(binary, bytes, now) : undefined;
  } catch {
    return undefined;
  }
}

/** `packetBytes` are the binary packets; `bytes` what was given (the keyring's bytes: armored or not). */
function read(packetBytes: Uint8Array, bytes: Uint8Array, now: Date): Keyring | undefined {
  if (packetBytes.length === 0 || (packetBytes[0]! & 0x80) === 0) return undefined; // not OpenPGP
  const packets = readPackets(packetBytes);
  if (packets[0]?.tag !== TAG_PUBLIC_KEY) return undefined;
  const primary = keyMaterial(packets[0].body);
  if (!primary.rsa || bitLength(primary.rsa.n) < 2048) return undefined;
  const rsa = verificationKey(primary.body);
  if (rsa === undefined) return undefined;

  const users: Array<{ id: string; body: Uint8Array; sigs: SelfSig[] }> = [];
  const subkeys: Array<{ key: KeyMaterial; sigs: SelfSig[] }> = [];
  let current:
    | { kind: 'user'; sigs: SelfSig[]; body: Uint8Array }
    | { kind: 'subkey'; sigs: SelfSig[]; key: KeyMaterial }
    | undefined;
  for (const p of packets.slice(1)) {
    if (p.tag === TAG_USER_ID) {
      const user = {
        id: new TextDecoder('utf-8', { fatal: true }).decode(p.body),
        body: p.body,
        sigs: [] as SelfSig[],
      };
      users.push(user);
      current = { kind: 'user', sigs: user.sigs, body: p.body };
    } else if (p.tag === TAG_PUBLIC_SUBKEY) {
      const sub = { key: keyMaterial(p.body), sigs: [] as SelfSig[] };
      subkeys.push(sub);
      current = { kind: 'subkey', sigs: sub.sigs, key: sub.key };
    } else if (p.tag === TAG_SIGNATURE && current) {
      const s = selfSignature(p.body, primary, now);
      const expected = current.kind === 'user' ? [0x10, 0x11, 0x12, 0x13] : [0x18];
      if (!expected.includes(s.sig.sigType)) return undefined;
      const signed =
        current.kind === 'user'
          ? [keyHashPrefix(primary.body), userIdHashPrefix(current.body)]
          : [keyHashPrefix(primary.body), keyHashPrefix(current.key.body)];
      if (!selfSignatureVerifies(rsa, s.sig, signed)) return undefined;
      current.sigs.push(s);
    } else return undefined;
  }
  if (users.length === 0 || users.some((u) => u.sigs.length === 0) || subkeys.some((s) => s.sigs.length !== 1))
    return undefined;

  const certs = users.flatMap((u) => u.sigs);
  const flags = new Set(certs.map((c) => c.keyFlags));
  if (flags.size !== 1) return undefined; // which self-signature is the primary user's would matter
  const primaryFlags = certs[0]!.keyFlags;
  const expiring = [...certs, ...subkeys.flatMap((s) => s.sigs)].some((c) => c.keyExpiration !== undefined);
  if (expiring && (users.length !== 1 || certs.length !== 1)) return undefined;
  const expires = expiry(primary.created, certs[0]!.keyExpiration);
  if (subkeys.some((s) => s.sigs[0]!.keyFlags === undefined || (s.sigs[0]!.keyFlags & SIGN_DATA_FLAG) !== 0))
    return undefined;

  const subDescriptions: SubkeyDescription[] = subkeys.map((s) => ({
    fingerprint: s.key.fingerprint,
    keyId: s.key.keyId,
    canSign: false,
    revoked: false,
    expires: expiry(s.key.created, s.sigs[0]!.keyExpiration),
  }));
  const description: KeyDescription = {
    fingerprint: primary.fingerprint,
    keyId: primary.keyId,
    userIds: users.map((u) => u.id),
    algorithm: `rsa${bitLength(primary.rsa.n)}`,
    created: primary.created.toISOString(),
    expires,
    revoked: false,
    subkeys: subDescriptions,
  };
  const notExpired = expires === null || Date.parse(expires) > now.getTime();
  const entry = (k: KeyMaterial, isSubkey: boolean, signingUsable: boolean, exp: string | null): PlainKeyEntry => ({
    description,
    algorithm: k.algorithm,
    created: k.created.getTime(),
    isSubkey,
    fingerprint: k.fingerprint,
    keyId: k.keyId,
    primaryFingerprint: primary.fingerprint,
    keyPacket: Buffer.from(k.body).toString('base64'),
    revoked: false,
    expires: exp,
    signingUsable,
    primary: !isSubkey,
  });
  const entries = [
    entry(primary, false, notExpired && (primaryFlags === undefined || (primaryFlags & SIGN_DATA_FLAG) !== 0), expires),
    ...subkeys.map((s, i) => entry(s.key, true, false, subDescriptions[i]!.expires)),
  ];
  const keyring = keyringFromPlainIndex(entries);
  (keyring as { bytes: Uint8Array }).bytes = bytes; // the index is cached per keyring object, so set the bytes on it
  return keyring;
}

function keyMaterial(body: Uint8Array): KeyMaterial {
  if (body.length < 6 || body[0] !== 4) throw new NotPlain('not a v4 key');
  const algorithm = body[5]!;
  const created = new Date(Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32BE(1) * 1000);
  const fp = createHash('sha1').update(keyHashPrefix(body)).digest('hex').toUpperCase();
  const key: KeyMaterial = { body, algorithm, created, fingerprint: fp, keyId: fp.slice(-16) };
  if (RSA_ALGOS.has(algorithm)) {
    const [n, e, rest] = mpis(body, 6, 2);
    if (rest !== body.length) throw new NotPlain('trailing bytes in an RSA key');
    key.rsa = { n, e };
  }
  return key;
}

function mpis(body: Uint8Array, offset: number, count: number): [Uint8Array, Uint8Array, number] {
  const out: Uint8Array[] = [];
  let i = offset;
  for (let k = 0; k < count; k++) {
    if (i + 2 > body.length) throw new NotPlain('truncated MPI');
    const bits = (body[i]! << 8) | body[i + 1]!;
    const len = (bits + 7) >> 3;
    if (len === 0 || i + 2 + len > body.length) throw new NotPlain('truncated MPI');
    out.push(body.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return [out[0]!, out[1]!, i];
}

function selfSignature(body: Uint8Array, primary: KeyMaterial, now: Date): SelfSig {
  const sig = parseSignature(body);
  if (sig.version !== 4 || sig.unknownCritical !== undefined || sig.lifetime !== 0)
    throw new NotPlain('unusual signature');
  if (sig.pkAlgo !== primary.algorithm || !SHA2.has(sig.hashAlgo)) throw new NotPlain('unusual algorithm');
  if (sig.created.getTime() > now.getTime() || sig.created.getTime() < primary.created.getTime())
    throw new NotPlain('signature time');
  if (sig.issuerKeyId === undefined && sig.issuerFingerprint === undefined) throw new NotPlain('no issuer');
  if (sig.issuerKeyId !== undefined && sig.issuerKeyId.toUpperCase() !== primary.keyId)
    throw new NotPlain('third-party signature');
  if (sig.issuerFingerprint !== undefined && sig.issuerFingerprint.toUpperCase() !== primary.fingerprint)
    throw new NotPlain('third-party signature');
  const out: SelfSig = { sig };
  const hashedLen = (body[4]! << 8) | body[5]!;
  const area = body.subarray(6, 6 + hashedLen);
  for (let i = 0; i < area.length;) {
    const l1 = area[i++]!;
    let len: number;
    if (l1 < 192) len = l1;
    else if (l1 < 255) len = ((l1 - 192) << 8) + area[i++]! + 192;
    else {
      len = Buffer.from(area.buffer, area.byteOffset, area.byteLength).readUInt32BE(i);
      i += 4;
    }
    const type = area[i]! & 0x7f;
    const data = area.subarray(i + 1, i + len);
    i += len;
    if (type === 27 && data.length >= 1) out.keyFlags = data[0]!;
    else if (type === 9 && data.length === 4) {
      const seconds = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32BE(0);
      if (seconds !== 0) out.keyExpiration = seconds;
    } else if (type === 32) throw new NotPlain('embedded signature');
  }
  return out;
}

function keyHashPrefix(body: Uint8Array): Buffer {
  const head = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([head, body]);
}

function userIdHashPrefix(body: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0xb4;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** As openpgp.js checks a self-signature: valid, and the stored hash prefix equal to the computed one. */
function selfSignatureVerifies(key: VerificationKey, sig: SignaturePacket, parts: Uint8Array[]): boolean {
  const check = checkSignature(key, sig, parts);
  return check.valid && check.hashPrefixMatches;
}

function expiry(created: Date, seconds: number | undefined): string | null {
  return seconds === undefined ? null : new Date(created.getTime() + seconds * 1000).toISOString();
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function bitLength(n: Uint8Array): number {
  const m = stripZeros(n);
  return m.length * 8 - (Math.clz32(m[0]!) - 24);
}
