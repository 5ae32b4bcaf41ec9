/**
 * The signatures of one image in a lookaside store, read as each side reads them. The sides differ
 * in what they list, in the schemes they accept and in what a file that is not a signature does:
 *
 *  - guest (image-rs `get_sigs_from_specific_sigstore`): `file://` only; every entry of the
 *    directory that is not a directory, whatever its name, in readdir order; a missing directory
 *    fails the rule; every file is handed to the signature check, which rejects what it cannot read;
 *  - host (containers/image `appendSignaturesFromLookaside` / `getOneSignature`): `signature-1`,
 *    `signature-2`, … until the first missing, at most 128; file, http and https; 4 MiB per HTTP
 *    body; each one is recognised by its first byte (`signature.FromBlob`) and one that is not a
 *    simple signing blob fails the whole read, so a good signature after it is never looked at.
 */
import * as posixPath from 'node:path/posix';
import type { ErrorCode } from '../error-codes.js';

/** Read-only files: the guest rootfs, or the host paths the verifier reads through it. */
export interface StoreFiles {
  /** Absolute path, symlinks resolved; undefined when missing. */
  readFile(absolutePath: string): Promise<Uint8Array | undefined>;
  listDir(
    absolutePath: string,
  ): Promise<Array<{ name: string; type: 'file' | 'dir' | 'symlink' | 'other' }> | undefined>;
}

/** A simple-signing store reachable over http(s) (host side only). */
export interface HttpGetter {
  get(url: string): Promise<{ status: number; bytes: Uint8Array }>;
}

export const MAX_LOOKASIDE_SIGNATURES = 128;
export const MAX_SIGNATURE_BODY = 4 * 1024 * 1024;
export const GUEST_HTTP_UNSUPPORTED = 'HTTP support for signature stores is not implemented.';

export interface SignatureBlob {
  source: string;
  bytes: Uint8Array;
}

export type SignatureStoreResult =
  | { ok: true; location: string; blobs: SignatureBlob[] }
  | { ok: false; location: string; reason: string; code: ErrorCode };

/** Rust's Debug of the io::Error image-rs prints for a missing path. */
const RUST_NOT_FOUND = 'Os { code: 2, kind: NotFound, message: "No such file or directory" }';

/** The guest's read of `<base>/<dirName>`. */
export async function readGuestSignatures(
  base: string,
  dirName: string,
  files: StoreFiles,
): Promise<SignatureStoreResult> {
  const location = `${base}/${dirName}`;
  const url = parseUrl(location);
  if (typeof url === 'string')
    return { ok: false, location, reason: `Failed to parse sigstore_uri: ${url}`, code: 'E_STORE_URL' };
  if (url.protocol !== 'file:') return { ok: false, location, reason: GUEST_HTTP_UNSUPPORTED, code: 'E_STORE_SCHEME' };
  const dir = url.pathname;
  const entries = await files.listDir(dir);
  if (entries === undefined) {
    const reason = `Read Sigstore Dir failed: ${RUST_NOT_FOUND}, path: ${dir}`;
    return { ok: false, location, reason, code: 'E_STORE_MISSING' };
  }
  const blobs: SignatureBlob[] = [];
  for (const entry of entries) {
    const p = posixPath.join(dir, entry.name);
    if (entry.type === 'dir') continue;
    // `path.is_dir()` follows symlinks: a link to a directory is skipped too.
    if (entry.type === 'symlink' && (await files.listDir(p)) !== undefined) continue;
    const bytes = await files.readFile(p);
    if (bytes === undefined) {
      const reason = `Read signature file failed: ${RUST_NOT_FOUND}, path: ${p}`;
      return { ok: false, location, reason, code: 'E_STORE_READ' };
    }
    blobs.push({ source: p, bytes });
  }
  return { ok: true, location, blobs };
}

/** The host's read of `<base>/<dirName>/signature-N`. */
export async function readHostSignatures(
  base: string,
  dirName: string,
  files: StoreFiles,
  http?: HttpGetter,
): Promise<SignatureStoreResult> {
  const location = `${base}/${dirName}`;
  const url = parseUrl(location);
  if (typeof url === 'string')
    return { ok: false, location, reason: `Invalid signature storage URL ${base}: ${url}`, code: 'E_STORE_URL' };
  const fail = (reason: string, code: ErrorCode): SignatureStoreResult => ({ ok: false, location, reason, code });
  let fetchOne: (i: number) => Promise<{ source: string; bytes?: Uint8Array } | SignatureStoreResult>;
  if (url.protocol === 'file:') {
    const dir = decodeURIComponent(url.pathname);
    fetchOne = async (i) => {
      const source = `${dir}/signature-${i}`;
      const bytes = await files.readFile(source);
      return bytes === undefined ? { source } : { source, bytes };
    };
  } else if (url.protocol === 'http:' || url.protocol === 'https:') {
    if (!http) return fail(`reading signature from ${location}: no HTTP client configured`, 'E_STORE_HTTP');
    fetchOne = (i) => fetchHttp(`${location}/signature-${i}`, http, fail);
  } else return fail(`Unsupported scheme when reading signature from ${location}`, 'E_STORE_SCHEME');

  const blobs: SignatureBlob[] = [];
  for (let i = 1; ; i++) {
    const got = await fetchOne(i);
    if ('ok' in got) return got;
    if (got.bytes === undefined) break;
    if (i > MAX_LOOKASIDE_SIGNATURES) {
      const reason = `server provided ${MAX_LOOKASIDE_SIGNATURES} signatures, assuming that's unreasonable and a server error`;
      return fail(reason, 'E_STORE_TOO_MANY');
    }
    const recognised = hostSignatureFormat(got.bytes);
    if ('problem' in recognised) {
      // Go's %q for a file path, the redacted URL as it is for http(s).
      const where = url.protocol === 'file:' ? JSON.stringify(got.source) : got.source;
      return fail(`parsing signature ${where}: ${recognised.problem}`, 'E_STORE_FORMAT');
    }
    if (recognised.simpleSigning) blobs.push({ source: got.source, bytes: recognised.simpleSigning });
  }
  return { ok: true, location, blobs };
}

/** First bytes of an OpenPGP message containers/image takes for a simple signature (see below). */
const OPENPGP_FIRST_BYTES = new Set([
  // compressed data packet (old format, any length type; new format)
  0xa0, 0xa1, 0xa2, 0xa3, 0xc8,
  // one-pass signature packet
  0x90, 0x91, 0x92, 0x3d, 0xc4,
  // signature packet
  0x88, 0x89, 0x8a, 0x8b, 0xc2,
]);

/**
 * containers/image's `signature.FromBlob`: an OpenPGP binary message is a simple signature; a zero
 * byte starts the newer `\0<format>\n<data>` form, where `simple-signing` is a simple signature and
 * `sigstore-json` one that a signedBy rule never sees (`UnparsedImage.Signatures` keeps simple
 * signatures only); anything else — an ASCII-armored signature, text, an empty file — is a problem.
 */
export function hostSignatureFormat(bytes: Uint8Array): { simpleSigning?: Uint8Array } | { problem: string } {
  if (bytes.length === 0) return { problem: 'empty signature blob' };
  const first = bytes[0]!;
  if (OPENPGP_FIRST_BYTES.has(first)) return { simpleSigning: bytes };
  if (first !== 0) return { problem: `unrecognized signature format, starting with binary 0x${first.toString(16)}` };
  const newline = bytes.indexOf(0x0a, 1);
  if (newline < 0) return { problem: 'invalid signature format, missing newline' };
  const format = bytes.subarray(1, newline);
  for (const b of format)
    if (b < 32 || b >= 0x7f) return { problem: `invalid signature format, non-ASCII byte 0x${b.toString(16)}` };
  const name = Buffer.from(format).toString('latin1');
  if (name === 'simple-signing') return { simpleSigning: bytes.subarray(newline + 1) };
  if (name === 'sigstore-json') return {};
  return { problem: `unrecognized signature format ${JSON.stringify(name)}` };
}

async function fetchHttp(
  url: string,
  http: HttpGetter,
  fail: (reason: string, code: ErrorCode) => SignatureStoreResult,
): Promise<{ source: string; bytes?: Uint8Array } | SignatureStoreResult> {
  let res: { status: number; bytes: Uint8Array };
  try {
    res = await http.get(url);
  } catch (e) {
    return fail(`reading signature from ${url}: ${(e as Error).message}`, 'E_STORE_HTTP');
  }
  if (res.status === 404) return { source: url };
  if (res.status !== 200) return fail(`reading signature from ${url}: status ${res.status}`, 'E_STORE_HTTP');
  if (res.bytes.length > MAX_SIGNATURE_BODY) {
    const reason = `reading signature from ${url}: exceeded maximum allowed size of ${MAX_SIGNATURE_BODY} bytes`;
    return fail(reason, 'E_STORE_TOO_LARGE');
  }
  return { source: url, bytes: res.bytes };
}

/** The URL, or the parser's message. */
function parseUrl(location: string): URL | string {
  try {
    return new URL(location);
  } catch (e) {
    return (e as Error).message;
  }
}
