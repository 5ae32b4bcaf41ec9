/**
 * Strict standard base64 as each side decodes `keyData`: Rust's base64 STANDARD engine (guest:
 * padding required, canonical, no whitespace) and Go's StdEncoding (host: padding required,
 * `\r` and `\n` skipped). Node's own decoder accepts anything, so it is only used after checking.
 * Errors give the offset but not the symbol Rust's engine names (`Invalid symbol 35, offset 4.`): no
 * message quotes a byte of a file the user gave.
 */
import type { Side } from './types.js';

const ALPHABET = /[A-Za-z0-9+/]/;

export type Base64Result = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

export function decodeBase64(text: string, side: Side): Base64Result {
  const s = side === 'host' ? text.replace(/[\r\n]/g, '') : text;
  const bad = (i: number): Base64Result =>
    side === 'host'
      ? { ok: false, error: `illegal base64 data at input byte ${i}` }
      : { ok: false, error: `Invalid symbol, offset ${i}.` };
  let end = s.length;
  while (end > 0 && s[end - 1] === '=') end--;
  for (let i = 0; i < end; i++) if (!ALPHABET.test(s[i] ?? '')) return bad(i);
  const padding = s.length - end;
  if (padding > 2 || s.length % 4 !== 0) {
    return side === 'host' ? bad(Math.max(0, end - (end % 4))) : { ok: false, error: 'Invalid padding' };
  }
  const bytes = new Uint8Array(Buffer.from(s, 'base64'));
  // Canonical: re-encoding gives the same text (no stray trailing bits).
  if (Buffer.from(bytes).toString('base64') !== s) {
    return side === 'host' ? bad(end - 1) : { ok: false, error: `Invalid last symbol, offset ${end - 1}.` };
  }
  return { ok: true, bytes };
}
