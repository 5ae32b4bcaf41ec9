/**
 * A node:crypto KeyObject from the body of an OpenPGP v4 public-key packet (RFC 4880 §5.5.2, RFC 9580
 * §5.5.5), so that every signature is checked by one `crypto.verify` whatever the algorithm: RSA and
 * Ed25519/Ed448 through JWK, DSA and ECDSA through a DER SubjectPublicKeyInfo (node reads neither from
 * JWK parameters alone). Key material node cannot take (ElGamal, ECDH, unknown curves) gives undefined:
 * no signature verifies with it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

export const PUBLIC_KEY_ALGORITHM = {
  rsaEncryptSign: 1,
  rsaSign: 3,
  dsa: 17,
  ecdsa: 19,
  eddsaLegacy: 22,
  ed25519: 27,
  ed448: 28,
} as const;

export interface VerificationKey {
  /** The OpenPGP public-key algorithm id. */
  algorithm: number;
  key: KeyObject;
  /** RSA modulus length in bytes (signatures shorter than it are left-padded). */
  modulusBytes?: number;
}

/** Named-curve OIDs (DER contents) as OpenPGP writes them, for ECDSA keys node can read. */
const EC_CURVES = new Set([
  '2a8648ce3d030107', // NIST P-256
  '2b81040022', // NIST P-384
  '2b81040023', // NIST P-521
  '2b8104000a', // secp256k1
  '2b2403030208010107', // brainpoolP256r1
  '2b240303020801010b', // brainpoolP384r1
  '2b240303020801010d', // brainpoolP512r1
]);
const ED25519_LEGACY_OID = '2b06010401da470f01';
const OID_EC_PUBLIC_KEY = Buffer.from('06072a8648ce3d0201', 'hex');
const OID_DSA = Buffer.from('06072a8648ce380401', 'hex');

class Reader {
  private at: number;
  constructor(
    private readonly b: Uint8Array,
    start: number,
  ) {
    this.at = start;
  }
  mpi(): Uint8Array {
    if (this.at + 2 > this.b.length) throw new RangeError('truncated MPI');
    const bits = (this.b[this.at]! << 8) | this.b[this.at + 1]!;
    const end = this.at + 2 + ((bits + 7) >> 3);
    if (end > this.b.length) throw new RangeError('truncated MPI');
    const out = this.b.subarray(this.at + 2, end);
    this.at = end;
    return out;
  }
  oid(): string {
    const len = this.b[this.at];
    if (len === undefined || len === 0 || len === 0xff || this.at + 1 + len > this.b.length)
      throw new RangeError('bad curve OID');
    const out = Buffer.from(this.b.subarray(this.at + 1, this.at + 1 + len)).toString('hex');
    this.at += 1 + len;
    return out;
  }
  raw(n: number): Uint8Array {
    if (this.at + n > this.b.length) throw new RangeError('truncated key');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/** The verification key of a v4 public-key (or subkey) packet body, or undefined. */
export function verificationKey(body: Uint8Array): VerificationKey | undefined {
  if (body.length < 6 || body[0] !== 4) return undefined;
  const algorithm = body[5]!;
  const r = new Reader(body, 6);
  try {
    switch (algorithm) {
      case PUBLIC_KEY_ALGORITHM.rsaEncryptSign:
      case PUBLIC_KEY_ALGORITHM.rsaSign: {
        const n = stripZeros(r.mpi());
        const e = stripZeros(r.mpi());
        const key = createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
        return { algorithm, key, modulusBytes: n.length };
      }
      case PUBLIC_KEY_ALGORITHM.dsa: {
        const [p, q, g, y] = [r.mpi(), r.mpi(), r.mpi(), r.mpi()];
        const params = der(0x30, derInteger(p), derInteger(q), derInteger(g));
        const spki = der(0x30, der(0x30, OID_DSA, params), bitString(derInteger(y)));
        return { algorithm, key: createPublicKey({ key: spki, format: 'der', type: 'spki' }) };
      }
      case PUBLIC_KEY_ALGORITHM.ecdsa: {
        const oid = r.oid();
        if (!EC_CURVES.has(oid)) return undefined;
        const point = r.mpi();
        const curve = der(0x06, Buffer.from(oid, 'hex'));
        const spki = der(0x30, der(0x30, OID_EC_PUBLIC_KEY, curve), bitString(point));
        return { algorithm, key: createPublicKey({ key: spki, format: 'der', type: 'spki' }) };
      }
      case PUBLIC_KEY_ALGORITHM.eddsaLegacy: {
        if (r.oid() !== ED25519_LEGACY_OID) return undefined;
        const point = r.mpi();
        if (point.length !== 33 || point[0] !== 0x40) return undefined;
        return { algorithm, key: okp('Ed25519', point.subarray(1)) };
      }
      case PUBLIC_KEY_ALGORITHM.ed25519:
        return { algorithm, key: okp('Ed25519', r.raw(32)) };
      case PUBLIC_KEY_ALGORITHM.ed448:
        return { algorithm, key: okp('Ed448', r.raw(57)) };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

function okp(crv: 'Ed25519' | 'Ed448', x: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: b64url(x) }, format: 'jwk' });
}

/** DER TLV. */
export function der(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

/** A DER INTEGER of an unsigned big-endian number. */
export function derInteger(value: Uint8Array): Buffer {
  const v = stripZeros(value);
  return v.length > 0 && (v[0]! & 0x80) === 0 ? der(0x02, v) : der(0x02, Buffer.from([0]), v);
}

function bitString(bytes: Uint8Array): Buffer {
  return der(0x03, Buffer.from([0]), bytes);
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}
