/** Reads OpenPGP key material in either encoding, splitting concatenated armored blocks. */
import * as openpgp from 'openpgp';
import { InputError, type Location } from '../errors.js';

const ARMOR_BLOCK = /-----BEGIN PGP ([A-Z ]+)-----[\s\S]*?-----END PGP \1-----/g;

export function looksArmored(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 4096))).toString('latin1');
  return head.includes('-----BEGIN PGP ');
}

/** Every armored block in the text, with its type (`PUBLIC KEY BLOCK`, `PRIVATE KEY BLOCK`, …). */
export function armorBlocks(bytes: Uint8Array): Array<{ type: string; text: string }> {
  const text = Buffer.from(bytes).toString('utf8');
  return [...text.matchAll(ARMOR_BLOCK)].map((m) => ({ type: m[1] ?? '', text: m[0] }));
}

/**
 * Parses all keys (public or secret). Errors from openpgp are reduced to their message: they never
 * contain key material.
 */
export async function parseKeys(bytes: Uint8Array, location: Location): Promise<Array<openpgp.PublicKey | openpgp.PrivateKey>> {
  const notOpenpgp = (why: string, cause?: unknown) =>
    new InputError('E_NOT_OPENPGP', location, `not an OpenPGP key (armored or binary): ${why}`, { cause });
  if (bytes.length === 0) throw notOpenpgp('the file is empty');
  const keys: Array<openpgp.PublicKey | openpgp.PrivateKey> = [];
  if (looksArmored(bytes)) {
    const blocks = armorBlocks(bytes);
    if (blocks.length === 0) throw notOpenpgp('armor header without a matching END line');
    for (const block of blocks) {
      if (block.type !== 'PUBLIC KEY BLOCK' && block.type !== 'PRIVATE KEY BLOCK') {
        throw notOpenpgp(`armored block is a "PGP ${block.type}", not a key`);
      }
      try {
        keys.push(...(await openpgp.readKeys({ armoredKeys: block.text })));
      } catch (e) {
        throw notOpenpgp(reason(e), e);
      }
    }
  } else {
    // A binary key starts with a public-key (6) or secret-key (5) packet tag.
    const first = bytes[0] ?? 0;
    if ((first & 0x80) === 0) throw notOpenpgp('neither armored text nor an OpenPGP packet');
    try {
      keys.push(...(await openpgp.readKeys({ binaryKeys: bytes })));
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
