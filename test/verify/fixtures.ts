/** Test inputs built from the shared fixtures: image-rs's KBS repository as a tree, a directory rootfs. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IMAGE_RS_FIXTURES } from '../helpers/paths.js';

export const IMAGE_RS_RESOURCES = path.join(IMAGE_RS_FIXTURES, 'offline-fs-kbc/aa-offline_fs_kbc-resources.json');
export const IMAGE_RS_SIGNATURES_TAR = path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/signatures.tar');
export const SIGNED_DIGEST = 'sha256:febcf61cd6e1ac9628f6ac14fa40836d16f3c6ddef3b303ff0321606e55ddd0b';
export const OTHER_SIGNED_DIGEST = 'sha256:7250923ba3543110040462388756ef099331822c6172a050b12c7a38361ea46f';

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `kbs-verify-${prefix}-`));
}

/** `{"repo/type/tag": base64}` → `<dir>/<repo>/<type>/<tag>` files (the nested KBS layout). */
export async function kbsTreeFromOfflineJson(jsonFile: string, dir: string): Promise<string> {
  const doc = JSON.parse(await fs.readFile(jsonFile, 'utf8')) as Record<string, string>;
  for (const [id, b64] of Object.entries(doc)) {
    await fs.mkdir(path.join(dir, path.dirname(id)), { recursive: true });
    await fs.writeFile(path.join(dir, id), Buffer.from(b64, 'base64'));
  }
  return dir;
}

/** A directory rootfs with image-rs's signatures.tar extracted where its sigstore-config points. */
export async function rootfsWithImageRsSignatures(dir: string): Promise<string> {
  const target = path.join(dir, 'etc/containers/quay_verification/signatures');
  await fs.mkdir(target, { recursive: true });
  execFileSync('tar', ['-xzf', IMAGE_RS_SIGNATURES_TAR, '-C', target]);
  return dir;
}

/** Writes `files` (guest path → content) under `dir`. */
export async function writeTree(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    const full = path.join(dir, p);
    await fs.mkdir(path.dirname(full), { recursive: true });
    await fs.writeFile(full, content);
  }
}

/** A policy (default reject) with one docker scope. */
export function policyWith(scope: string, requirements: unknown[], extra: Record<string, unknown> = {}): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [scope]: requirements } }, ...extra }),
  );
}

/**
 * A directory rootfs holding `files` and, under `/sigs`, a lookaside tree: for each entry,
 * `<repoPath>@<algo>=<hex>/<name>` with the bytes of the fixture file given.
 */
export async function lookasideRootfs(
  dir: string,
  repoPath: string,
  digest: string,
  signatures: Record<string, string>,
  files: Record<string, string | Uint8Array> = {},
): Promise<string> {
  const sigDir = path.join(dir, 'sigs', `${repoPath}@${digest.replace(':', '=')}`);
  await fs.mkdir(sigDir, { recursive: true });
  for (const [name, source] of Object.entries(signatures))
    await fs.writeFile(path.join(sigDir, name), await fs.readFile(source));
  await writeTree(dir, files);
  return dir;
}

export const SIGSTORE_BOTH_KEYS = 'default-docker:\n  sigstore: file:///sigs\n  lookaside: file:///sigs\n';
