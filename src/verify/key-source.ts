/**
 * Where a rule's key bytes come from. Guest (image-rs ResourceProvider): a URL, `file://` put before a
 * plain path, a `file` URL read from the rootfs, `kbs:///repo/type/tag` a resource of the same KBS
 * repository. Host: keyPath is a file path; the verifier reads it from the same rootfs (and a
 * `kbs://` URI from the same repository, with a note), so that the comparison is about the rules.
 */
import { parseKbsUri, resourcePath } from '../resource-id/resource-id.js';
import type { GuestFiles, ResourceSource } from './inputs.js';
import type { Side } from './types.js';

export type KeyBytesResult = { ok: true; bytes: Uint8Array; note?: string } | { ok: false; reason: string };

/**
 * image-rs `ResourceProvider::get_resource`: `file://` is put before a URI without `://`, the result is
 * parsed as a URL (WHATWG, as Rust's url crate), and a file is read at the URL's path as it stands:
 * still percent-encoded, query and fragment cut off, the first segment of a relative path taken as the
 * host, the scheme compared case-insensitively. `kbs+<plugin>` schemes are KBS resources only from
 * guest-components v0.21.0 (`kbsPlugins`).
 */
export async function readResourceUri(
  uri: string,
  resources: ResourceSource,
  files: GuestFiles,
  options: { kbsPlugins?: boolean } = {},
): Promise<{ bytes?: Uint8Array; problem?: string; kbs: boolean }> {
  let url: URL;
  try {
    url = new URL(uri.includes('://') ? uri : `file://${uri}`);
  } catch (e) {
    return { problem: `Get resource failed: Failed to parse resource uri: ${(e as Error).message}`, kbs: false };
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'file') {
    const path = url.pathname;
    const bytes = await files.readFile(path);
    return bytes
      ? { bytes, kbs: false }
      : { problem: `Failed to read local file ${path}: No such file or directory`, kbs: false };
  }
  if (scheme === 'kbs' || ((options.kbsPlugins ?? true) && scheme.startsWith('kbs+'))) {
    // CDH takes exactly three path segments, `<repository>/<type>/<tag>`; the KBS address is ignored.
    const segments = url.pathname.replace(/^\//, '').split('/');
    if (segments.length !== 3 || segments.some((seg) => seg === ''))
      return { problem: `Get resource failed: resource uri path must be 3 segments: ${uri}`, kbs: true };
    const path = segments.join('/');
    const bytes = await resources.get(path);
    return bytes
      ? { bytes, kbs: true }
      : { problem: `Get resource failed: ${path} not found in the KBS repository`, kbs: true };
  }
  return { problem: `Resource URI scheme \`${scheme}\` not supported`, kbs: false };
}

/** A keyPath as containers/image reads it: a local file path (a `kbs://` URI only the guest resolves). */
async function readHostKeyPath(
  keyPath: string,
  resources: ResourceSource,
  files: GuestFiles,
): Promise<{ bytes?: Uint8Array; problem?: string; kbs: boolean }> {
  if (/^kbs(\+[^:]*)?:\/\//.test(keyPath)) {
    const id = parseKbsUri(keyPath.replace(/^kbs\+[^:]*:/, 'kbs:'));
    if (!id) return { problem: `Failed to parse resource uri: ${JSON.stringify(keyPath)}`, kbs: true };
    const bytes = await resources.get(resourcePath(id));
    return bytes ? { bytes, kbs: true } : { kbs: true };
  }
  const path = keyPath.startsWith('file://') ? decodeURIComponent(new URL(keyPath).pathname) : keyPath;
  const bytes = await files.readFile(path);
  return bytes ? { bytes, kbs: false } : { kbs: false };
}

/** keyPath of a signedBy/sigstoreSigned rule, worded per side. */
export async function readKeyPath(
  keyPath: string,
  side: Side,
  resources: ResourceSource,
  files: GuestFiles,
  ruleName: 'SignedBy' | 'Cosign',
  options: { kbsPlugins?: boolean } = {},
): Promise<KeyBytesResult> {
  if (side === 'guest') {
    const r = await readResourceUri(keyPath, resources, files, options);
    if (r.bytes) return { ok: true, bytes: r.bytes };
    const reason =
      ruleName === 'SignedBy'
        ? `Read SignedBy keyPath failed: ${r.problem}, path: ${keyPath}`
        : `Read key failed: ${r.problem}, path: ${keyPath}`;
    return { ok: false, reason };
  }
  const r = await readHostKeyPath(keyPath, resources, files);
  if (r.kbs) {
    if (!r.bytes) return { ok: false, reason: `open ${keyPath}: no such file or directory` };
    return {
      ok: true,
      bytes: r.bytes,
      note: `keyPath ${keyPath} is a kbs:// URI that only the guest resolves; containers/image reads keyPath as a local file (the comparison uses the same key)`,
    };
  }
  const path = keyPath.startsWith('file://') ? decodeURIComponent(new URL(keyPath).pathname) : keyPath;
  return r.bytes ? { ok: true, bytes: r.bytes } : { ok: false, reason: `open ${path}: no such file or directory` };
}
