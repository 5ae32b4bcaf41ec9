/**
 * De-armoring of one public key block without openpgp.js, for the cold-start `verify` path
 * (RFC 4880 §6: armor header line, armor headers, blank line, base64 body, `=XXXX` CRC-24, tail line).
 * It answers only the plain form `gpg --export --armor` writes:
 *
 *  - nothing but ASCII whitespace before `-----BEGIN PGP PUBLIC KEY BLOCK-----` and after the END line;
 *  - armor headers `Name: value` (printable ASCII), then an empty line;
 *  - base64 lines of [A-Za-z0-9+/], `=` padding only at the very end, a multiple of 4 characters in all;
 *  - a checksum line present and equal to the CRC-24 of the decoded bytes;
 *  - LF or CRLF line ends.
 *
 * Anything else (a bad or missing checksum, several blocks, text around the block, trailing spaces,
 * a secret key block, …) answers undefined and the caller goes the openpgp.js way, which decides as
 * before. Within this form openpgp.js's `unarmor` yields the same bytes (test/openpgp/armor.test.ts).
 */

const BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const END = '-----END PGP PUBLIC KEY BLOCK-----';
const HEADER = /^[A-Za-z0-9][A-Za-z0-9-]*: [!-~](?:[ -~]*[!-~])?$/;
const BODY_LINE = /^[A-Za-z0-9+/]+={0,2}$/;
const CHECKSUM = /^=[A-Za-z0-9+/]{4}$/;

/** The binary packets of a plain armored public key block, or undefined (use openpgp.js). */
export function dearmorPublicKey(bytes: Uint8Array): Uint8Array | undefined {
  for (const b of bytes) if (b > 0x7e) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').trim();
  if (text.replace(/\r\n/g, '').includes('\r')) return undefined; // a CR that does not end a line
  const lines = text.split(/\r?\n/);
  if (lines[0] !== BEGIN || lines[lines.length - 1] !== END) return undefined;
  let i = 1;
  while (i < lines.length && lines[i] !== '') {
    if (!HEADER.test(lines[i]!)) return undefined;
    i++;
  }
  i++; // the blank line
  const body = lines.slice(i, lines.length - 2);
  const checksum = lines[lines.length - 2];
  if (body.length === 0 || checksum === undefined || !CHECKSUM.test(checksum)) return undefined;
  for (let k = 0; k < body.length; k++) {
    if (!BODY_LINE.test(body[k]!) || (k < body.length - 1 && body[k]!.includes('='))) return undefined;
  }
  const b64 = body.join('');
  if (b64.length % 4 !== 0) return undefined;
  const data = Buffer.from(b64, 'base64');
  const expected = Buffer.from(checksum.slice(1), 'base64');
  const crc = crc24(data);
  if (
    expected.length !== 3 ||
    expected[0] !== crc >>> 16 ||
    expected[1] !== ((crc >>> 8) & 0xff) ||
    expected[2] !== (crc & 0xff)
  )
    return undefined;
  return data;
}

/** RFC 4880 §6.1 CRC-24 (init 0xB704CE, generator 0x1864CFB). */
export function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let bit = 0; bit < 8; bit++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

export interface ArmoredBlock {
  /** `PUBLIC KEY BLOCK`, `SIGNATURE`, `MESSAGE`, … */
  type: string;
  data: Uint8Array;
  /** The `=XXXX` checksum line's value, when there is one. */
  checksum?: number;
}

const BLOCK = /-----BEGIN PGP ([A-Z ,/0-9]+)-----\r?\n([\s\S]*?)-----END PGP \1-----/;

/**
 * The first armored block of `text`, read leniently (armor headers up to the first empty line, base64
 * with any whitespace, an optional checksum line), or undefined when there is none.
 */
export function firstArmoredBlock(text: string): ArmoredBlock | undefined {
  const m = BLOCK.exec(text);
  if (!m) return undefined;
  const lines = m[2]!.split(/\r?\n/);
  const blank = lines.findIndex((l) => l.trim() === '');
  const body = (
    blank >= 0 && lines.slice(0, blank).every((l) => /^[^:\s][^:]*: /.test(l)) ? lines.slice(blank + 1) : lines
  )
    .map((l) => l.trim())
    .filter((l) => l !== '');
  let checksum: number | undefined;
  const last = body[body.length - 1];
  if (last !== undefined && /^=[A-Za-z0-9+/]{4}$/.test(last)) {
    body.pop();
    checksum = Buffer.from(last.slice(1), 'base64').readUIntBE(0, 3);
  }
  const block: ArmoredBlock = { type: m[1]!, data: Buffer.from(body.join(''), 'base64') };
  if (checksum !== undefined) block.checksum = checksum;
  return block;
}

/** gpg's `CRC error; XXXXXX - YYYYYY` when the block's checksum line does not match its data, else undefined. */
export function armorChecksumError(blockText: string): string | undefined {
  const block = firstArmoredBlock(blockText);
  if (block?.checksum === undefined) return undefined;
  const actual = crc24(block.data);
  if (actual === block.checksum) return undefined;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(6, '0');
  return `CRC error; ${hex(actual)} - ${hex(block.checksum)}`;
}
