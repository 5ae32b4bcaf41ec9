/**
 * Where each top-level OpenPGP packet of a message starts and ends (header and body), so that a mutation
 * can aim at a packet's length field, its body or a field of the signature packet. Written apart from
 * src/openpgp/packets.ts on purpose: the mutations must not share the framing code they attack.
 */
export interface Frame {
  tag: number;
  start: number;
  bodyStart: number;
  end: number;
  /** Offset and size of the length field (undefined for an old-format indeterminate length). */
  lengthAt?: { offset: number; size: number };
}

/** The packets of `bytes` (definite lengths only); undefined when the framing is not that simple. */
export function framesOf(bytes: Uint8Array): Frame[] | undefined {
  const frames: Frame[] = [];
  let i = 0;
  while (i < bytes.length) {
    const start = i;
    const ctb = bytes[i++]!;
    if ((ctb & 0x80) === 0) return undefined;
    let tag: number;
    let len: number;
    let lengthAt: Frame['lengthAt'];
    if (ctb & 0x40) {
      tag = ctb & 0x3f;
      const l1 = bytes[i];
      if (l1 === undefined) return undefined;
      if (l1 < 192) [len, lengthAt] = [l1, { offset: i, size: 1 }];
      else if (l1 < 224) [len, lengthAt] = [((l1 - 192) << 8) + (bytes[i + 1] ?? 0) + 192, { offset: i, size: 2 }];
      else if (l1 === 255) [len, lengthAt] = [Buffer.from(bytes).readUInt32BE(i + 1), { offset: i, size: 5 }];
      else return undefined; // partial body lengths
      i += lengthAt.size;
    } else {
      tag = (ctb >> 2) & 0x0f;
      const lt = ctb & 3;
      if (lt === 3) {
        len = bytes.length - i;
      } else {
        const size = [1, 2, 4][lt]!;
        len = 0;
        for (let k = 0; k < size; k++) len = len * 256 + (bytes[i + k] ?? 0);
        lengthAt = { offset: i, size };
        i += size;
      }
    }
    if (i + len > bytes.length) return undefined;
    frames.push({ tag, start, bodyStart: i, end: i + len, ...(lengthAt ? { lengthAt } : {}) });
    i += len;
  }
  return frames;
}

/** A packet in the new format with a definite length. */
export function newFormatPacket(tag: number, body: Uint8Array): Buffer {
  const n = body.length;
  const length =
    n < 192
      ? [n]
      : n < 8384
        ? [((n - 192) >> 8) + 192, (n - 192) & 0xff]
        : [255, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([0xc0 | tag, ...length]), body]);
}

/** The offset of a v4 signature packet's stored "left 16 bits" of the hash, given its frame. */
export function hashPrefixOffset(message: Uint8Array, sig: Frame): number | undefined {
  const b = Buffer.from(message);
  const body = sig.bodyStart;
  if (b[body] !== 4) return undefined;
  const hashed = b.readUInt16BE(body + 4);
  const unhashedAt = body + 6 + hashed;
  if (unhashedAt + 2 > sig.end) return undefined;
  const at = unhashedAt + 2 + b.readUInt16BE(unhashedAt);
  return at + 2 <= sig.end ? at : undefined;
}
