/**
 * Reads OpenPGP key material in either encoding, splitting concatenated armored blocks. openpgp.js
 * is loaded on the first parse, not with this module (looksArmored, armorBlocks and keyring.ts's
 * checks do not need it).
 */
import type * as openpgp from 'openpgp';
import { InputError, type Location } from '../errors.js';
import { armorChecksumError } from './armor.js';

/** How a reader other than gpg treats armored key text. */
export interface KeyParseOptions {
  /** 'first': only the first armored block, as rPGP's and sequoia's readers do. Default 'all' (gpg). */
  armoredBlocks?: 'all' | 'first';
  /** 'refuse' a bad CRC-24 as gpg does ("CRC error", the default), or 'ignore' it as rPGP does (RFC 9580). */
  armorChecksum?: 'refuse' | 'ignore';
}

const ARMOR_BLOCK = /-----BEGIN PGP ([A-Z ]+)-----[\s\S]*?-----END PGP \1-----/g;

export function looksArmored(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 4096))).toString('latin1');
  return head.includes('-----BEGIN PGP ');
}

/** Every armored block in the text, with its type (`PUBLIC KEY BLOCK`, `PRIVATE KEY BLOCK`, …). */
export function armorBlocks(bytes: Uint8Array): Array<{ type: string; text: string; start: number; end: number }> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Binary keys (most key files) have no armor: no need to decode them and run the pattern.
  if (!buffer.includes('-----BEGIN PGP ')) return [];
  // latin1 keeps one character per byte, so offsets are byte offsets (armor itself is ASCII).
  const text = buffer.toString('latin1');
  return [...text.matchAll(ARMOR_BLOCK)].map((m) => ({
    type: m[1] ?? '',
    text: m[0],
    start: m.index,
    end: m.index + m[0].length,
  }));
}

/** Binary key packets before the first or after the last armored block (files joined with `cat`). */
function binaryOutsideArmor(bytes: Uint8Array, blocks: Array<{ start: number; end: number }>): Uint8Array[] {
  const parts = [bytes.subarray(0, blocks[0]!.start), bytes.subarray(blocks[blocks.length - 1]!.end)];
  return parts.map((p) => trimAsciiSpace(p)).filter((p) => p.length > 0 && (p[0]! & 0x80) !== 0);
}

function trimAsciiSpace(b: Uint8Array): Uint8Array {
  let i = 0;
  let j = b.length;
  const space = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  while (i < j && space(b[i]!)) i++;
  while (j > i && space(b[j - 1]!)) j--;
  return b.subarray(i, j);
}

/**
 * Parses all keys (public or secret). Errors from openpgp are reduced to their message: they never
 * contain key material.
 */
export async function parseKeys(
  bytes: Uint8Array,
  location: Location,
  options: KeyParseOptions = {},
): Promise<Array<openpgp.PublicKey | openpgp.PrivateKey>> {
  const notOpenpgp = (why: string, cause?: unknown) =>
    new InputError('E_NOT_OPENPGP', location, `not an OpenPGP key (armored or binary): ${why}`, { cause });
  if (bytes.length === 0) throw notOpenpgp('the file is empty');
  const pgp = await import('openpgp');
  const keys: Array<openpgp.PublicKey | openpgp.PrivateKey> = [];
  if (looksArmored(bytes)) {
    const all = armorBlocks(bytes);
    if (all.length === 0) throw notOpenpgp('armor header without a matching END line');
    const blocks = options.armoredBlocks === 'first' ? all.slice(0, 1) : all;
    for (const block of blocks) {
      if (block.type !== 'PUBLIC KEY BLOCK' && block.type !== 'PRIVATE KEY BLOCK') {
        throw notOpenpgp(`armored block is a "PGP ${block.type}", not a key`);
      }
      const crc = options.armorChecksum === 'ignore' ? undefined : armorChecksumError(block.text);
      if (crc !== undefined) throw new InputError('E_ARMOR_CRC', location, `armored key: ${crc}`);
      try {
        keys.push(...(await pgp.readKeys({ armoredKeys: block.text })));
      } catch (e) {
        throw notOpenpgp(reason(e), e);
      }
    }
    for (const binary of options.armoredBlocks === 'first' ? [] : binaryOutsideArmor(bytes, blocks)) {
      try {
        keys.push(...(await pgp.readKeys({ binaryKeys: binary })));
      } catch (e) {
        throw notOpenpgp(`binary data beside the armored blocks: ${reason(e)}`, e);
      }
    }
  } else {
    // A binary key starts with a public-key (6) or secret-key (5) packet tag.
    const first = bytes[0] ?? 0;
    if ((first & 0x80) === 0) throw notOpenpgp('neither armored text nor an OpenPGP packet');
    try {
      keys.push(...(await pgp.readKeys({ binaryKeys: bytes })));
    } catch (e) {
      throw notOpenpgp(reason(e), e);
    }
  }
  return keys;
}

function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}
