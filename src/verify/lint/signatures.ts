/** Signatures staged in the rootfs for an allowed scope: present at all, and judged alike by both sides. */
import * as posixPath from 'node:path/posix';
import type { Keyring } from '../../keys/index.js';
import { parseReference, type DockerReference } from '../../reference/index.js';
import type { SigstoreConfig } from '../../lookaside/schema.js';
import { reasonOf, type SignatureBackend } from '../backend.js';
import type { GuestFiles } from '../inputs.js';
import { signatureBase } from '../sigstore-config.js';
import { imageForScope, scopeKeyProblem } from './scope-keys.js';
import type { AddFinding } from './types.js';

const MAX_SIGNATURE_DIRS = 64;

/** Signature directories (`<name>@sha256=<hex>`) at most `depth` levels below `dir`, up to a limit. */
async function findSignatureDirs(
  files: GuestFiles,
  dir: string,
  prefix: string,
  depth: number,
  out: string[] = [],
): Promise<string[]> {
  for (const e of (await files.listDir(dir)) ?? []) {
    if (out.length >= MAX_SIGNATURE_DIRS) break;
    if (e.type !== 'dir' && e.type !== 'symlink') continue;
    const p = posixPath.join(dir, e.name);
    if (e.name.includes('@sha256=') && e.name.startsWith(prefix)) out.push(p);
    else if (depth > 0 && !e.name.includes('@')) await findSignatureDirs(files, p, '', depth - 1, out);
  }
  return out;
}

export async function lintSignaturesPresent(
  scopeKey: string,
  where: string,
  sigstore: SigstoreConfig,
  rootfs: GuestFiles,
  add: AddFinding,
): Promise<string[]> {
  if (scopeKey === '' || scopeKey.startsWith('*.') || scopeKeyProblem(scopeKey)) return [];
  // A repository scope is an image name; a host or namespace scope stands for any image below it.
  const repoScope = imageForScope(scopeKey);
  let probe: DockerReference;
  try {
    probe = repoScope ?? parseReference(`${scopeKey}/kbs-bundler-probe`);
  } catch {
    return [];
  }
  const base = signatureBase(sigstore, probe, 'guest');
  if (!base) {
    add({
      code: 'L_NO_STORE',
      where,
      problem: `no sigstore-config entry covers ${scopeKey} and there is no default-docker: image-rs fails with "The sigstore base url is none"`,
      fix: 'add a docker: entry (or default-docker) with sigstore: file:///…',
    });
    return [];
  }
  if (!base.url.startsWith('file://')) return [];
  const root = decodeURIComponent(new URL(base.url).pathname);
  const repoPath = repoScope ? repoScope.repository : probe.repository.split('/').slice(0, -1).join('/');
  const found = repoScope
    ? await findSignatureDirs(
        rootfs,
        posixPath.dirname(posixPath.join(root, repoPath)),
        `${posixPath.basename(repoPath)}@`,
        0,
      )
    : await findSignatureDirs(rootfs, posixPath.join(root, repoPath), '', 4);
  if (found.length === 0) {
    add({
      code: 'L_NO_SIGNATURES',
      where,
      problem: `no signatures for ${scopeKey} under ${base.url} in the rootfs (no ${posixPath.join(root, repoPath || '.')}${repoScope ? '@sha256=…' : '/…@sha256=…'} directory): every pull it covers is denied`,
      fix: 'stage the signatures: kbs-bundler stage --rootfs … (or copy the lookaside tree there)',
    });
  }
  return found;
}

/** Staged signatures that one side accepts and the other refuses (subkey-made, expired key or signature). */
export async function lintStagedSignatures(
  dirs: string[],
  keyring: Keyring,
  where: string,
  rootfs: GuestFiles,
  backend: SignatureBackend,
  now: Date,
  add: AddFinding,
): Promise<void> {
  for (const dir of dirs) {
    for (const e of (await rootfs.listDir(dir)) ?? []) {
      if (e.type === 'dir') continue;
      const file = posixPath.join(dir, e.name);
      const blob = await rootfs.readFile(file);
      if (!blob) continue;
      const judge = async (side: 'guest' | 'host') =>
        backend.verify(blob, keyring, side, now ? { now } : {}).then(
          () => undefined,
          (err: unknown) => reasonOf(err).reason,
        );
      const [guest, host] = [await judge('guest'), await judge('host')];
      if ((guest === undefined) === (host === undefined)) continue;
      const problem =
        guest === undefined
          ? `signature ${file} verifies in the guest but the host refuses it: ${host}`
          : `signature ${file} is refused by the guest (${guest}) but accepted by the host`;
      const fix =
        guest === undefined
          ? 'sign again with a key that has not expired (and re-stage), so that host-side checks agree'
          : 'sign with the primary key (gpg --default-key <primary fingerprint>!), which is the only key image-rs tries';
      add({ code: 'L_SIGNATURE_DIVERGES', where, problem, fix });
    }
  }
}
