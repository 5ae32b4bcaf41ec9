/**
 * The cryptographic check of one signature packet over the literal data. RSA (nearly every simple
 * signature) goes through node:crypto with a KeyObject built once per key; other algorithms are handed
 * to openpgp.js's signature packet. V3 packets (GnuPG < 2.1), which openpgp.js v6 no longer reads, are
 * checked here too (RFC 4880 §5.2.2: the hash covers the data, then the signature type and creation time).
 */
import { constants, createHash, publicDecrypt } from 'node:crypto';
import type * as openpgp from 'openpgp';
import type { KeyEntry } from './key-index.js';
import type { SignaturePacket } from './packets.js';

const HASHES: Record<number, { name: string; digestInfo: Buffer }> = {
  2: { name: 'sha1', digestInfo: Buffer.from('3021300906052b0e03021a05000414', 'hex') },
  8: { name: 'sha256', digestInfo: Buffer.from('3031300d060960864801650304020105000420', 'hex') },
  9: { name: 'sha384', digestInfo: Buffer.from('3041300d060960864801650304020205000430', 'hex') },
  10: { name: 'sha512', digestInfo: Buffer.from('3051300d060960864801650304020305000440', 'hex') },
  11: { name: 'sha224', digestInfo: Buffer.from('302d300d06096086480165030402040500041c', 'hex') },
};

/** MD5 and RIPEMD-160 are refused (as gpg ≥ 2.2 and openpgp.js do); SHA-1 is still accepted for data. */
export function hashAccepted(hashAlgo: number): boolean {
  return HASHES[hashAlgo] !== undefined;
}

/** Binary (0x00) signatures hash the data as is; text (0x01) signatures hash it with CRLF line ends. */
function signedData(sig: SignaturePacket, data: Uint8Array): Uint8Array | undefined {
  if (sig.sigType === 0x00) return data;
  if (sig.sigType === 0x01)
    return Buffer.from(
      Buffer.from(data)
        .toString('latin1')
        .replace(/\r\n|\r|\n/g, '\r\n'),
      'latin1',
    );
  return undefined;
}

export async function cryptoVerifies(entry: KeyEntry, sig: SignaturePacket, data: Uint8Array): Promise<boolean> {
  const hash = HASHES[sig.hashAlgo];
  const signed = signedData(sig, data);
  if (!hash || !signed) return false;
  if (sig.pkAlgo !== (entry.packet.algorithm as unknown as number)) return false;
  if (entry.rsa) return rsaVerifies(entry.rsa, hash, sig, signed);
  if (sig.version !== 4) return false;
  return openpgpVerifies(entry, sig, data);
}

function rsaVerifies(
  rsa: NonNullable<KeyEntry['rsa']>,
  hash: { name: string; digestInfo: Buffer },
  sig: SignaturePacket,
  data: Uint8Array,
): boolean {
  const digest = createHash(hash.name).update(data).update(sig.trailer).digest();
  if (digest[0] !== sig.left16[0] || digest[1] !== sig.left16[1]) return false;
  let s = sig.mpis[0];
  if (!s || sig.mpis.length !== 1 || s.length > rsa.modulusBytes) return false;
  if (s.length < rsa.modulusBytes) {
    const padded = Buffer.alloc(rsa.modulusBytes);
    padded.set(s, rsa.modulusBytes - s.length);
    s = padded;
  }
  let decoded: Buffer;
  try {
    decoded = publicDecrypt({ key: rsa.key, padding: constants.RSA_PKCS1_PADDING }, s);
  } catch {
    return false;
  }
  // PKCS#1 v1.5 verification: the recovered block must be exactly DigestInfo || hash.
  const expectedLength = hash.digestInfo.length + digest.length;
  return (
    decoded.length === expectedLength &&
    decoded.subarray(0, hash.digestInfo.length).equals(hash.digestInfo) &&
    decoded.subarray(hash.digestInfo.length).equals(digest)
  );
}

async function openpgpVerifies(entry: KeyEntry, sig: SignaturePacket, data: Uint8Array): Promise<boolean> {
  // Loaded on demand: the RSA path (and audit workers with RSA keyrings) never needs openpgp.js.
  if (!('getFingerprint' in entry.packet)) return false;
  const keyPacket = entry.packet;
  const openpgp = await import('openpgp');
  try {
    const packet = new openpgp.SignaturePacket();
    packet.read(sig.body);
    const literal = new openpgp.LiteralDataPacket();
    (literal as unknown as { setBytes(b: Uint8Array, f: openpgp.enums.literal): void }).setBytes(
      data,
      openpgp.enums.literal.binary,
    );
    const config = { ...openpgp.config, rejectMessageHashAlgorithms: new Set<openpgp.enums.hash>() };
    await packet.verify(
      keyPacket,
      sig.sigType as openpgp.enums.signature,
      literal,
      null as unknown as Date,
      false,
      config,
    );
    return true;
  } catch {
    return false;
  }
}
