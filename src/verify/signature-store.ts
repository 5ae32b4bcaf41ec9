/**
 * Reading simple-signing signatures from a store, as each side does it.
 * Guest (`get_sigs_from_specific_sigstore`): `file://` only; every entry of the directory that is
 * not a directory, whatever its name, in readdir order; a missing directory fails the rule.
 * Host (`appendSignaturesFromLookaside`): `signature-1`, `signature-2`, … until the first missing,
 * at most 128; file, http and https; 4 MiB per HTTP body.
 */
import * as posixPath from 'node:path/posix';
import type { GuestFiles, HttpGetter } from './inputs.js';
import type { Side } from './types.js';

export const MAX_LOOKASIDE_SIGNATURES = 128;
export const MAX_SIGNATURE_BODY = 4 * 1024 * 1024;
export const GUEST_HTTP_UNSUPPORTED = 'HTTP support for signature stores is not implemented.';

export interface SignatureBlob {
  source: string;
  bytes: Uint8Array;
}

export type SignatureStoreResult =
  | { ok: true; location: string; blobs: SignatureBlob[] }
  | { ok: false; location: string; reason: string; code: string };

/** Rust's Debug of the io::Error image-rs prints for a missing path. */
const RUST_NOT_FOUND = 'Os { code: 2, kind: NotFound, message: "No such file or directory" }';

export async function readSignatureStore(
  base: string,
  dirName: string,
  side: Side,
  files: GuestFiles,
  http?: HttpGetter,
): Promise<SignatureStoreResult> {
  const location = `${base}/${dirName}`;
  let url: URL;
  try {
    url = new URL(location);
  } catch (e) {
    const reason =
      side === 'guest'
        ? `Failed to parse sigstore_uri: ${(e as Error).message}`
        : `Invalid signature storage URL ${base}: ${(e as Error).message}`;
    return { ok: false, location, reason, code: 'E_STORE_URL' };
  }
  if (side === 'guest') {
    if (url.protocol !== 'file:')
      return { ok: false, location, reason: GUEST_HTTP_UNSUPPORTED, code: 'E_STORE_SCHEME' };
    return readGuestDir(url.pathname, location, files);
  }
  if (url.protocol === 'file:') return readHostFiles(decodeURIComponent(url.pathname), location, files);
  if (url.protocol === 'http:' || url.protocol === 'https:') return readHostHttp(location, http);
  return {
    ok: false,
    location,
    reason: `Unsupported scheme when reading signature from ${location}`,
    code: 'E_STORE_SCHEME',
  };
}

async function readGuestDir(dir: string, location: string, files: GuestFiles): Promise<SignatureStoreResult> {
  const entries = await files.listDir(dir);
  if (entries === undefined) {
    return {
      ok: false,
      location,
      reason: `Read Sigstore Dir failed: ${RUST_NOT_FOUND}, path: ${dir}`,
      code: 'E_STORE_MISSING',
    };
  }
  const blobs: SignatureBlob[] = [];
  for (const entry of entries) {
    const p = posixPath.join(dir, entry.name);
    if (entry.type === 'dir') continue;
    // `path.is_dir()` follows symlinks: a link to a directory is skipped too.
    if (entry.type === 'symlink' && (await files.listDir(p)) !== undefined) continue;
    const bytes = await files.readFile(p);
    if (bytes === undefined) {
      return {
        ok: false,
        location,
        reason: `Read signature file failed: ${RUST_NOT_FOUND}, path: ${p}`,
        code: 'E_STORE_READ',
      };
    }
    blobs.push({ source: p, bytes });
  }
  return { ok: true, location, blobs };
}

async function readHostFiles(dir: string, location: string, files: GuestFiles): Promise<SignatureStoreResult> {
  const blobs: SignatureBlob[] = [];
  for (let i = 1; ; i++) {
    const p = `${dir}/signature-${i}`;
    const bytes = await files.readFile(p);
    if (bytes === undefined) break;
    if (i > MAX_LOOKASIDE_SIGNATURES) {
      return {
        ok: false,
        location,
        reason: `server provided ${MAX_LOOKASIDE_SIGNATURES} signatures, assuming that's unreasonable and a server error`,
        code: 'E_STORE_TOO_MANY',
      };
    }
    blobs.push({ source: p, bytes });
  }
  return { ok: true, location, blobs };
}

async function readHostHttp(location: string, http: HttpGetter | undefined): Promise<SignatureStoreResult> {
  if (!http)
    return {
      ok: false,
      location,
      reason: `reading signature from ${location}: no HTTP client configured`,
      code: 'E_STORE_HTTP',
    };
  const blobs: SignatureBlob[] = [];
  for (let i = 1; ; i++) {
    const url = `${location}/signature-${i}`;
    let res: { status: number; bytes: Uint8Array };
    try {
      res = await http.get(url);
    } catch (e) {
      return {
        ok: false,
        location,
        reason: `reading signature from ${url}: ${(e as Error).message}`,
        code: 'E_STORE_HTTP',
      };
    }
    if (res.status === 404) break;
    if (res.status !== 200) {
      return {
        ok: false,
        location,
        reason: `reading signature from ${url}: status ${res.status}`,
        code: 'E_STORE_HTTP',
      };
    }
    if (res.bytes.length > MAX_SIGNATURE_BODY) {
      return {
        ok: false,
        location,
        reason: `reading signature from ${url}: exceeded maximum allowed size of ${MAX_SIGNATURE_BODY} bytes`,
        code: 'E_STORE_TOO_LARGE',
      };
    }
    if (i > MAX_LOOKASIDE_SIGNATURES) {
      return {
        ok: false,
        location,
        reason: `server provided ${MAX_LOOKASIDE_SIGNATURES} signatures, assuming that's unreasonable and a server error`,
        code: 'E_STORE_TOO_MANY',
      };
    }
    blobs.push({ source: url, bytes: res.bytes });
  }
  return { ok: true, location, blobs };
}
