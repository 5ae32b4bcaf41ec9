/** One signedBy / sigstoreSigned rule: key sources, key health, identities the guest reads literally. */
import type { Keyring } from '../../keys/index.js';
import type { PolicyRequirement } from '../../policy/schema.js';
import { parseReference } from '../../reference/index.js';
import type { SigstoreConfig } from '../../lookaside/schema.js';
import type { SignatureBackend } from '../backend.js';
import { decodeBase64 } from '../base64.js';
import { readResourceUri } from '../key-source.js';
import { CURRENT_GUEST_RELEASE, guestHas } from '../../releases/guest-components.js';
import { lintSignaturesPresent, lintStagedSignatures } from './signatures.js';
import { RUN_FIX, type AddFinding, type LintInputs } from './types.js';

export async function lintRequirement(
  r: PolicyRequirement & Record<string, unknown>,
  where: string,
  scopeKey: string | undefined,
  inputs: LintInputs,
  sigstore: SigstoreConfig | undefined,
  backend: SignatureBackend,
  now: Date,
  add: AddFinding,
): Promise<void> {
  if (r.type !== 'signedBy' && r.type !== 'sigstoreSigned') return;
  if (r.type === 'signedBy' && r.keyPaths !== undefined) {
    add({
      code: 'L_KEYPATHS',
      where,
      problem: 'keyPaths is ignored by image-rs: the rule fails with "Neither keyPath or keyData specified."',
      fix: 'concatenate the keys into one keyring and give it as keyData (base64) or one keyPath',
    });
  }
  const keyPath = typeof r.keyPath === 'string' ? r.keyPath : undefined;
  if (keyPath?.startsWith('/run/') || keyPath?.startsWith('file:///run/')) {
    add({ code: 'L_RUN_PATH', where, problem: `keyPath ${keyPath} is under /run`, fix: RUN_FIX });
  }
  let keyBytes: Uint8Array | undefined;
  if (r.type === 'sigstoreSigned' && typeof r.keyData === 'string' && !r.keyData.includes('-----BEGIN')) {
    add({
      code: 'L_COSIGN_KEYDATA_BASE64',
      where,
      problem:
        'sigstoreSigned keyData is not PEM text: image-rs uses keyData as the PEM itself (containers/image expects base64 of it)',
      fix: 'for the guest, put the PEM text in keyData, or use keyPath kbs:///default/cosign-public-key/test',
    });
  }
  if (r.type === 'signedBy' && typeof r.keyData === 'string') {
    const d = decodeBase64(r.keyData, 'guest');
    if (d.ok) keyBytes = d.bytes;
    else
      add({
        code: 'L_KEYDATA_BASE64',
        where,
        problem: `keyData is not standard padded base64 for image-rs: ${d.error}`,
        fix: 'base64 -w0 < key.gpg',
      });
  } else if (keyPath && (inputs.rootfs || keyPath.includes('://'))) {
    const read = await readResourceUri(
      keyPath,
      inputs.resources,
      inputs.rootfs ?? { readFile: () => Promise.resolve(undefined), listDir: () => Promise.resolve(undefined) },
      { kbsPlugins: guestHas(inputs.guestRelease ?? CURRENT_GUEST_RELEASE, 'kbsPluginScheme') },
    );
    if (read.bytes) keyBytes = read.bytes;
    else
      add({
        code: 'L_KEY_MISSING',
        where,
        problem: `keyPath ${keyPath}: ${read.problem}`,
        fix: read.kbs
          ? 'add the key resource to the KBS repository'
          : 'stage the key file into the rootfs (kbs-bundler stage)',
      });
  }
  let keyring: Keyring | undefined;
  if (r.type === 'signedBy' && keyBytes) {
    try {
      keyring = await backend.readKeyring(keyBytes, { file: where });
    } catch (e) {
      add({
        code: 'L_KEY_UNREADABLE',
        where,
        problem: `the key is not an OpenPGP public keyring: ${(e as Error).message}`,
        fix: 'export it with gpg --export (or --armor --export)',
      });
    }
    for (const d of keyring?.descriptions ?? []) {
      if (d.expires !== null && Date.parse(d.expires) <= now.getTime()) {
        add({
          code: 'L_KEY_EXPIRED',
          where,
          problem: `key ${d.fingerprint} expired on ${d.expires}: image-rs still accepts its signatures, podman/CRI-O reject them`,
          fix: `extend it (gpg --quick-set-expire ${d.fingerprint} 2y) and re-export, or sign with a current key`,
        });
      }
      for (const s of d.subkeys) {
        if (s.canSign && !s.revoked) {
          add({
            code: 'L_SIGNING_SUBKEY',
            where,
            problem: `key ${d.fingerprint} has signing subkey ${s.fingerprint}: signatures it makes are rejected by image-rs (primary keys only) and accepted by the host`,
            fix: `sign with the primary key: gpg --default-key ${d.fingerprint}! (or skopeo --sign-by ${d.fingerprint}!)`,
          });
        }
      }
    }
  }
  const id = r.signedIdentity as { type?: string; dockerReference?: string; prefix?: string } | undefined;
  if (id?.type === 'exactReference' && typeof id.dockerReference === 'string') {
    try {
      const full = parseReference(id.dockerReference);
      const expanded = `${full.registry}/${full.repository}${full.tag ? `:${full.tag}` : ''}${full.digest ? `@${full.digest}` : ''}`;
      if (expanded !== id.dockerReference) {
        add({
          code: 'L_IDENTITY_LITERAL',
          where,
          problem: `exactReference ${JSON.stringify(id.dockerReference)} is not fully expanded: image-rs compares it literally with the signed reference (${expanded} as skopeo/podman sign it), the host normalises`,
          fix: `write ${JSON.stringify(expanded)}`,
        });
      }
    } catch {
      // the host refuses it at parse time; reported above
    }
  }
  if (id?.type === 'remapIdentity' && typeof id.prefix === 'string' && !id.prefix.includes('/')) {
    add({
      code: 'L_REMAP_PREFIX',
      where,
      problem: `remapIdentity prefix ${JSON.stringify(id.prefix)}: image-rs replaces it as a plain string prefix (so it also matches ${id.prefix}-other/...), the host only at a / boundary`,
      fix: 'use a prefix that ends at a namespace, e.g. host/namespace',
    });
  }
  // Signatures the guest would look for under the store of an allowed scope.
  if (r.type === 'signedBy' && scopeKey !== undefined && inputs.rootfs && sigstore) {
    const dirs = await lintSignaturesPresent(scopeKey, where, sigstore, inputs.rootfs, add);
    if (keyring) await lintStagedSignatures(dirs, keyring, where, inputs.rootfs, backend, now, add);
  }
}
