/**
 * Where a rule's key bytes come from. Guest (image-rs ResourceProvider): a string without `://` is a
 * guest file path, `file://` a guest file, `kbs:///repo/type/tag` a resource of the same KBS
 * repository. Host: keyPath is a file path; the verifier reads it from the same rootfs (and a
 * `kbs://` URI from the same repository, with a note), so that the comparison is about the rules.
 */
import { parseKbsUri, resourcePath } from '../resource-id/resource-id.js';
import type { GuestFiles, ResourceSource } from './inputs.js';
import type { Side } from './types.js';

export type KeyBytesResult = { ok: true; bytes: Uint8Array; note?: string } | { ok: false; reason: string };

export async function readResourceUri(
  uri: string,
  resources: ResourceSource,
  files: GuestFiles,
): Promise<{ bytes?: Uint8Array; problem?: string; kbs: boolean }> {
  if (!uri.includes('://')) {
    const bytes = await files.readFile(uri);
    return bytes
      ? { bytes, kbs: false }
      : { problem: `Failed to read local file ${uri}: No such file or directory`, kbs: false };
  }
  const scheme = uri.slice(0, uri.indexOf('://'));
  if (scheme === 'file') {
    const path = decodeURIComponent(new URL(uri).pathname);
    const bytes = await files.readFile(path);
    return bytes
      ? { bytes, kbs: false }
      : { problem: `Failed to read local file ${path}: No such file or directory`, kbs: false };
  }
  if (scheme === 'kbs' || scheme.startsWith('kbs+')) {
    const id = parseKbsUri(uri.replace(/^kbs\+[^:]*:/, 'kbs:'));
    if (!id) return { problem: `Failed to parse resource uri: ${JSON.stringify(uri)}`, kbs: true };
    const bytes = await resources.get(resourcePath(id));
    return bytes
      ? { bytes, kbs: true }
      : { problem: `Get resource failed: ${resourcePath(id)} not found in the KBS repository`, kbs: true };
  }
  return { problem: `Resource URI scheme \`${scheme}\` not supported`, kbs: false };
}

/** keyPath of a signedBy/sigstoreSigned rule, worded per side. */
export async function readKeyPath(
  keyPath: string,
  side: Side,
  resources: ResourceSource,
  files: GuestFiles,
  ruleName: 'SignedBy' | 'Cosign',
): Promise<KeyBytesResult> {
  const r = await readResourceUri(keyPath, resources, files);
  if (side === 'guest') {
    if (r.bytes) return { ok: true, bytes: r.bytes };
    const reason =
      ruleName === 'SignedBy'
        ? `Read SignedBy keyPath failed: ${r.problem}, path: ${keyPath}`
        : `Read key failed: ${r.problem}, path: ${keyPath}`;
    return { ok: false, reason };
  }
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
