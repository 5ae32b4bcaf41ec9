/**
 * Just enough of RFC 4880 to take apart a simple signature: packet framing (old and new format,
 * partial lengths), one-pass signature, literal data and v3/v4 signature packets (compressed data:
 * decompress.ts). Everything here is synchronous and allocation-light: it is the per-signature hot path
 * of `audit` and `verify`; openpgp.js has no synchronous packet reader and costs more to load than a
 * whole cold `verify` may take.
 */

export const TAG = {
  pkesk: 1,
  signature: 2,
  skesk: 3,
  onePass: 4,
  compressed: 8,
  symEncrypted: 9,
  marker: 10,
  literal: 11,
  symEncryptedIntegrity: 18,
  aead: 20,
} as const;

export interface Packet {
  tag: number;
  body: Uint8Array;
}

export class PacketError extends Error {}

/** Splits `bytes` into packets. Throws PacketError on framing errors. */
export function readPackets(bytes: Uint8Array): Packet[] {
  const out: Packet[] = [];
  let i = 0;
  while (i < bytes.length) {
    const ctb = bytes[i++]!;
    if ((ctb & 0x80) === 0) throw new PacketError('not an OpenPGP packet header');
    if (ctb & 0x40) {
      const tag = ctb & 0x3f;
      const chunks: Uint8Array[] = [];
      for (;;) {
        if (i >= bytes.length) throw new PacketError('truncated packet length');
        const l1 = bytes[i++]!;
        let len: number;
        let partial = false;
        if (l1 < 192) len = l1;
        else if (l1 < 224) {
          if (i >= bytes.length) throw new PacketError('truncated packet length');
          len = ((l1 - 192) << 8) + bytes[i++]! + 192;
        } else if (l1 === 255) {
          if (i + 4 > bytes.length) throw new PacketError('truncated packet length');
          len = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
          i += 4;
        } else {
          len = 1 << (l1 & 0x1f);
          partial = true;
        }
        if (i + len > bytes.length) throw new PacketError('truncated packet');
        chunks.push(bytes.subarray(i, i + len));
        i += len;
        if (!partial) break;
      }
      out.push({ tag, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
    } else {
      const tag = (ctb >> 2) & 0x0f;
      const lt = ctb & 0x03;
      let len: number;
      if (lt === 3) len = bytes.length - i;
      else {
        const n = lt === 0 ? 1 : lt === 1 ? 2 : 4;
        if (i + n > bytes.length) throw new PacketError('truncated packet length');
        len = 0;
        for (let k = 0; k < n; k++) len = len * 256 + bytes[i + k]!;
        i += n;
      }
      if (i + len > bytes.length) throw new PacketError('truncated packet');
      out.push({ tag, body: bytes.subarray(i, i + len) });
      i += len;
    }
  }
  return out;
}

export interface OnePass {
  version: number;
  sigType: number;
  hashAlgo: number;
  pkAlgo: number;
  /** Uppercase hex, 16 characters. */
  keyId: string;
}

export function parseOnePass(body: Uint8Array): OnePass {
  if (body.length < 13 || body[0] !== 3) throw new PacketError('unsupported one-pass signature packet');
  return { version: 3, sigType: body[1]!, hashAlgo: body[2]!, pkAlgo: body[3]!, keyId: hex(body.subarray(4, 12)) };
}

export interface Literal {
  format: number;
  data: Uint8Array;
}

export function parseLiteral(body: Uint8Array): Literal {
  if (body.length < 6) throw new PacketError('truncated literal data packet');
  const nameLen = body[1]!;
  const start = 2 + nameLen + 4;
  if (start > body.length) throw new PacketError('truncated literal data packet');
  return { format: body[0]!, data: body.subarray(start) };
}

export interface SignaturePacket {
  version: 3 | 4;
  sigType: number;
  pkAlgo: number;
  hashAlgo: number;
  /** Bytes hashed after the data: v3 type+time, v4 hashed area plus the final trailer. */
  trailer: Uint8Array;
  left16: Uint8Array;
  /** The algorithm-specific signature fields after the hash prefix, as written (MPIs, or raw Ed25519/Ed448). */
  signatureData: Uint8Array;
  created: Date;
  /** Seconds after creation, from a signature expiration subpacket (0 or absent = never). */
  lifetime: number;
  /** Issuer key id (uppercase hex) from the packet (v3) or the issuer / issuer-fingerprint subpacket. */
  issuerKeyId?: string;
  issuerFingerprint?: string;
  /** Every issuer key id and issuer fingerprint subpacket, hashed or not (rPGP matches a key against all). */
  issuers: { keyIds: string[]; fingerprints: string[] };
  /** A critical subpacket we (and gpg) do not know: the signature must be rejected. */
  unknownCritical?: number;
}

/** Subpacket types whose criticality gpg accepts on a data signature. */
const KNOWN_SUBPACKETS = new Set([
  2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 16, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
]);

export function parseSignature(body: Uint8Array): SignaturePacket {
  const v = body[0];
  if (v === 3) {
    if (body.length < 19 || body[1] !== 5) throw new PacketError('malformed v3 signature packet');
    const created = readU32(body, 3);
    return {
      version: 3,
      sigType: body[2]!,
      trailer: body.subarray(2, 7),
      issuerKeyId: hex(body.subarray(7, 15)),
      issuers: { keyIds: [hex(body.subarray(7, 15))], fingerprints: [] },
      pkAlgo: body[15]!,
      hashAlgo: body[16]!,
      left16: body.subarray(17, 19),
      signatureData: checkedSignatureData(body[15]!, body.subarray(19)),
      created: new Date(created * 1000),
      lifetime: 0,
    };
  }
  if (v !== 4) throw new PacketError(`unsupported signature packet version ${v}`);
  if (body.length < 6) throw new PacketError('truncated signature packet');
  const hashedLen = (body[4]! << 8) | body[5]!;
  const hashedEnd = 6 + hashedLen;
  if (hashedEnd + 2 > body.length) throw new PacketError('truncated signature packet');
  const unhashedLen = (body[hashedEnd]! << 8) | body[hashedEnd + 1]!;
  const unhashedEnd = hashedEnd + 2 + unhashedLen;
  if (unhashedEnd + 2 > body.length) throw new PacketError('truncated signature packet');
  const trailer = Buffer.allocUnsafe(hashedEnd + 6);
  trailer.set(body.subarray(0, hashedEnd), 0);
  trailer[hashedEnd] = 0x04;
  trailer[hashedEnd + 1] = 0xff;
  trailer.writeUInt32BE(hashedEnd, hashedEnd + 2);
  const sig: SignaturePacket = {
    version: 4,
    sigType: body[1]!,
    pkAlgo: body[2]!,
    hashAlgo: body[3]!,
    trailer,
    left16: body.subarray(unhashedEnd, unhashedEnd + 2),
    signatureData: checkedSignatureData(body[2]!, body.subarray(unhashedEnd + 2)),
    created: new Date(NaN),
    lifetime: 0,
    issuers: { keyIds: [], fingerprints: [] },
  };
  readSubpackets(body.subarray(6, hashedEnd), true, sig);
  readSubpackets(body.subarray(hashedEnd + 2, unhashedEnd), false, sig);
  if (Number.isNaN(sig.created.getTime())) throw new PacketError('signature without a hashed creation time');
  return sig;
}

function readSubpackets(area: Uint8Array, hashed: boolean, sig: SignaturePacket): void {
  let i = 0;
  while (i < area.length) {
    const l1 = area[i++]!;
    let len: number;
    if (l1 < 192) len = l1;
    else if (l1 < 255) {
      if (i >= area.length) throw new PacketError('truncated subpacket');
      len = ((l1 - 192) << 8) + area[i++]! + 192;
    } else {
      if (i + 4 > area.length) throw new PacketError('truncated subpacket');
      len = readU32(area, i);
      i += 4;
    }
    if (len < 1 || i + len > area.length) throw new PacketError('truncated subpacket');
    const type = area[i]! & 0x7f;
    const critical = (area[i]! & 0x80) !== 0;
    const data = area.subarray(i + 1, i + len);
    i += len;
    if (critical && !KNOWN_SUBPACKETS.has(type) && sig.unknownCritical === undefined) sig.unknownCritical = type;
    if (type === 16 && data.length === 8) sig.issuers.keyIds.push(hex(data));
    if (type === 33 && data.length >= 21) sig.issuers.fingerprints.push(hex(data.subarray(1)));
    if (type === 2 && hashed && data.length === 4) sig.created = new Date(readU32(data, 0) * 1000);
    else if (type === 3 && hashed && data.length === 4) sig.lifetime = readU32(data, 0);
    else if (type === 16 && data.length === 8 && (hashed || sig.issuerKeyId === undefined)) sig.issuerKeyId = hex(data);
    else if (type === 33 && data.length >= 21 && (hashed || sig.issuerFingerprint === undefined)) {
      sig.issuerFingerprint = hex(data.subarray(1));
      if (data[0] === 4 && sig.issuerKeyId === undefined) sig.issuerKeyId = sig.issuerFingerprint.slice(-16);
    }
  }
}

/** Ed25519 (27) and Ed448 (28) signatures are raw bytes; every other algorithm writes MPIs that fill the rest. */
function checkedSignatureData(pkAlgo: number, data: Uint8Array): Uint8Array {
  if (pkAlgo === 27 || pkAlgo === 28) return data;
  let i = 0;
  while (i + 2 <= data.length) {
    i += 2 + ((((data[i]! << 8) | data[i + 1]!) + 7) >> 3);
    if (i > data.length) throw new PacketError('truncated MPI');
  }
  if (i !== data.length) throw new PacketError('trailing bytes after signature MPIs');
  return data;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').toUpperCase();
}
