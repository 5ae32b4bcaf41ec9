/**
 * `lint`: every piece of configuration the guest will fail on, or treat differently from the host,
 * each with its fix. Reads the same inputs as the verifier (policy, sigstore config, KBS resources,
 * optionally the rootfs) but judges configuration, not one image.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as posixPath from 'node:path/posix';
import type { PolicyRequirement } from '../policy/schema.js';
import { hostWithoutPort, parseReference, type DockerReference } from '../reference/index.js';
import type { Keyring } from '../keys/index.js';
import { reasonOf, type SignatureBackend } from './backend.js';
import { decodeBase64 } from './base64.js';
import type { GuestFiles, ResourceSource } from './inputs.js';
import { readResourceUri } from './key-source.js';
import { parsePolicy } from './policy.js';
import { parseSigstoreConfig, signatureBase } from './sigstore-config.js';
import type { SigstoreConfig } from '../sigstore/schema.js';

export interface LintFinding {
  code: string;
  /** Where: `policy.json transports.docker["reg/app"][0]`, `sigstore-config docker["reg"]`, … */
  where: string;
  problem: string;
  fix: string;
}

export interface LintInputs {
  policy: { bytes: Uint8Array; source: string };
  sigstoreConfig?: { bytes: Uint8Array; source: string };
  resources: ResourceSource;
  /** Without a rootfs, checks of guest files are skipped. */
  rootfs?: GuestFiles;
  /** Registry CA certificates the bundle gives the guest (PEM), by registry `host[:port]`. */
  registryCas?: Array<{ registry: string; pem: string; source: string }>;
  now?: Date;
}

const RUN_FIX = 'the kata agent mounts a tmpfs on /run at boot, hiding anything staged there: put the file elsewhere (e.g. /etc/...), or use keyData / a kbs:/// keyPath';

function scopeKeyProblem(key: string): string | undefined {
  if (key === '' || key.startsWith('*.')) return key.toLowerCase() === key || key === '' ? undefined : 'has uppercase letters';
  if (/[A-Z]/.test(key.split('/').slice(1).join('/'))) return 'has an uppercase repository path (references are lowercase, so it never matches)';
  const first = key.split('/')[0] ?? '';
  if (!(first.includes('.') || first.includes(':') || first === 'localhost')) {
    return `has no registry host (${JSON.stringify(first)} is not a host): scope keys are compared with fully-expanded names like docker.io/library/busybox, so it never matches`;
  }
  return undefined;
}

function scopeFix(key: string): string {
  try {
    const r = parseReference(key.toLowerCase());
    return `use ${JSON.stringify(`${r.registry}/${r.repository}`)} (the fully-expanded, lowercase name)`;
  } catch {
    return 'use a registry host, host/namespace or host/repository[:tag] key, all lowercase';
  }
}

/** A representative image of a scope key, for looking up its signature store. */
function imageForScope(key: string): DockerReference | undefined {
  if (key === '' || key.startsWith('*.') || !key.includes('/')) return undefined;
  try {
    return parseReference(key);
  } catch {
    return undefined;
  }
}

export async function lintConfiguration(inputs: LintInputs, backend: SignatureBackend): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  const add = (f: LintFinding) => findings.push(f);
  const now = inputs.now ?? new Date();
  const policyName = inputs.policy.source;

  const guest = parsePolicy(inputs.policy.bytes, 'guest');
  const host = parsePolicy(inputs.policy.bytes, 'host');
  let raw: { default?: unknown; transports?: Record<string, Record<string, unknown>> } = {};
  try {
    raw = JSON.parse(Buffer.from(inputs.policy.bytes).toString('utf8')) as typeof raw;
  } catch {
    // reported below through the parse results
  }
  if (!guest.ok) {
    const missingTransports = raw && typeof raw === 'object' && !('transports' in raw);
    add({
      code: missingTransports ? 'L_MISSING_TRANSPORTS' : 'L_POLICY_GUEST_INVALID',
      where: policyName,
      problem: `the guest cannot read the policy: Invalid image policy file${guest.detail ? ` (${guest.detail})` : ''}; every pull fails`,
      fix: missingTransports ? 'add "transports": {"docker": {}} (image-rs requires both "default" and "transports")' : 'fix the field named; image-rs knows insecureAcceptAnything, reject, signedBy and sigstoreSigned only',
    });
  }
  if (!host.ok) {
    const empty = host.reason.includes('must not be empty');
    if (!empty) add({ code: 'L_POLICY_HOST_INVALID', where: policyName, problem: `podman/CRI-O refuse the policy: ${host.reason}`, fix: 'fix the field named so that host and guest read the same policy' });
  }

  // Walk the requirement lists as the guest reads them (or the raw JSON when the guest cannot).
  const lists: Array<[string, string | undefined, unknown]> = [];
  if (Array.isArray(raw.default)) lists.push([`${policyName} default`, undefined, raw.default]);
  for (const [transport, scopes] of Object.entries(raw.transports ?? {})) {
    if (transport !== 'docker') continue;
    for (const [key, reqs] of Object.entries(scopes ?? {})) lists.push([`${policyName} transports.docker[${JSON.stringify(key)}]`, key, reqs]);
  }

  let sigstore: SigstoreConfig | undefined;
  if (inputs.sigstoreConfig) {
    const g = parseSigstoreConfig(inputs.sigstoreConfig.bytes, 'guest');
    const h = parseSigstoreConfig(inputs.sigstoreConfig.bytes, 'host');
    if (g.ok) sigstore = g.config;
    else if (h.ok) {
      add({
        code: 'L_LOOKASIDE_ONLY',
        where: inputs.sigstoreConfig.source,
        problem: `the guest cannot read the sigstore config (${g.reason}: ${g.detail ?? ''}); image-rs reads only the sigstore: key and requires it in every entry, so a lookaside:-only entry makes every pull fail`,
        fix: 'write sigstore: <file:// base> in every entry (keep lookaside: beside it for hosts)',
      });
    } else add({ code: 'L_SIGSTORE_CONFIG_INVALID', where: inputs.sigstoreConfig.source, problem: g.reason, fix: 'write valid registries.d YAML' });
    if (h.ok) {
      const entries = [['default-docker', h.config['default-docker']] as const, ...Object.entries(h.config.docker ?? {}).map(([k, v]) => [`docker[${JSON.stringify(k)}]`, v] as const)];
      for (const [where, e] of entries) {
        if (!e) continue;
        const url = e.sigstore;
        if (url && !url.startsWith('file://')) {
          add({ code: 'L_HTTP_STORE', where: `${inputs.sigstoreConfig.source} ${where}`, problem: `sigstore: ${url} is not file://: image-rs fails with "HTTP support for signature stores is not implemented."`, fix: 'stage the signatures into the guest rootfs and point sigstore: at that file:// directory' });
        }
        if (url?.startsWith('file:///run/')) {
          add({ code: 'L_RUN_PATH', where: `${inputs.sigstoreConfig.source} ${where}`, problem: `signature store ${url} is under /run`, fix: RUN_FIX });
        }
        if (e.sigstore && e.lookaside && e.sigstore !== e.lookaside) {
          add({ code: 'L_STORE_SPLIT', where: `${inputs.sigstoreConfig.source} ${where}`, problem: `the guest reads sigstore: ${e.sigstore}, the host reads lookaside: ${e.lookaside}`, fix: 'point both at the same signatures, or accept that guest and host check different stores' });
        }
      }
    }
  }

  for (const [where, key, reqs] of lists) {
    if (key !== undefined) {
      const problem = scopeKeyProblem(key);
      if (problem) add({ code: 'L_SCOPE_NEVER_MATCHES', where, problem: `scope key ${JSON.stringify(key)} ${problem}`, fix: scopeFix(key) });
    }
    if (!Array.isArray(reqs)) continue;
    if (reqs.length === 0) {
      add({ code: 'L_EMPTY_LIST', where, problem: 'empty requirement list: image-rs allows any image here, podman/CRI-O refuse the whole policy (List of verification policy requirements must not be empty)', fix: 'write [{"type": "insecureAcceptAnything"}] to allow or [{"type": "reject"}] to refuse, explicitly' });
      continue;
    }
    for (const [i, r] of (reqs as Array<Record<string, unknown>>).entries()) {
      await lintRequirement(r as PolicyRequirement & Record<string, unknown>, `${where}[${i}]`, key, inputs, sigstore, backend, now, add);
    }
  }
  if (!inputs.sigstoreConfig && lists.some(([, , reqs]) => Array.isArray(reqs) && reqs.some((r) => (r as { type?: unknown }).type === 'signedBy'))) {
    add({ code: 'L_NO_SIGSTORE_CONFIG', where: policyName, problem: 'signedBy rules but no sigstore config: image-rs fails with "Simple Signing Sigstore Config not set"', fix: 'add the sigstore-config resource (sigstore: file:///… for the scopes) and set sigstore_config_uri in cdh.toml' });
  }
  for (const ca of inputs.registryCas ?? []) lintRegistryCa(ca, add);
  return findings;
}

/**
 * A self-signed CA:TRUE certificate that names the registry itself is what the registry serves as its
 * own certificate (openEuler's guide makes one): curl and skopeo accept it once trusted, the guest's
 * rustls refuses a CA certificate used as an end-entity certificate (CaUsedAsEndEntity).
 */
function lintRegistryCa(ca: { registry: string; pem: string; source: string }, add: (f: LintFinding) => void): void {
  const host = hostWithoutPort(ca.registry);
  for (const block of ca.pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      continue;
    }
    const namesRegistry = isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
    if (cert.ca && cert.checkIssued(cert) && namesRegistry) {
      add({
        code: 'L_CA_AS_SERVER_CERT',
        where: ca.source,
        problem: `the CA certificate for ${ca.registry} is a self-signed CA:TRUE certificate that names ${host} itself: if the registry serves it as its own certificate, the guest's rustls refuses it (CaUsedAsEndEntity) while podman and skopeo accept it`,
        fix: 'make a CA and a separate server certificate (CA:FALSE, subjectAltName of the registry) signed by it; serve the server certificate and give the guest the CA',
      });
    }
  }
}

async function lintRequirement(
  r: PolicyRequirement & Record<string, unknown>,
  where: string,
  scopeKey: string | undefined,
  inputs: LintInputs,
  sigstore: SigstoreConfig | undefined,
  backend: SignatureBackend,
  now: Date,
  add: (f: LintFinding) => void,
): Promise<void> {
  if (r.type !== 'signedBy' && r.type !== 'sigstoreSigned') return;
  if (r.type === 'signedBy' && r.keyPaths !== undefined) {
    add({ code: 'L_KEYPATHS', where, problem: 'keyPaths is ignored by image-rs: the rule fails with "Neither keyPath or keyData specified."', fix: 'concatenate the keys into one keyring and give it as keyData (base64) or one keyPath' });
  }
  const keyPath = typeof r.keyPath === 'string' ? r.keyPath : undefined;
  if (keyPath?.startsWith('/run/') || keyPath?.startsWith('file:///run/')) {
    add({ code: 'L_RUN_PATH', where, problem: `keyPath ${keyPath} is under /run`, fix: RUN_FIX });
  }
  let keyBytes: Uint8Array | undefined;
  if (r.type === 'sigstoreSigned' && typeof r.keyData === 'string' && !r.keyData.includes('-----BEGIN')) {
    add({ code: 'L_COSIGN_KEYDATA_BASE64', where, problem: 'sigstoreSigned keyData is not PEM text: image-rs uses keyData as the PEM itself (containers/image expects base64 of it)', fix: 'for the guest, put the PEM text in keyData, or use keyPath kbs:///default/cosign-public-key/test' });
  }
  if (r.type === 'signedBy' && typeof r.keyData === 'string') {
    const d = decodeBase64(r.keyData, 'guest');
    if (d.ok) keyBytes = d.bytes;
    else add({ code: 'L_KEYDATA_BASE64', where, problem: `keyData is not standard padded base64 for image-rs: ${d.error}`, fix: 'base64 -w0 < key.gpg' });
  } else if (keyPath && (inputs.rootfs || keyPath.includes('://'))) {
    const read = await readResourceUri(keyPath, inputs.resources, inputs.rootfs ?? { readFile: async () => undefined, listDir: async () => undefined });
    if (read.bytes) keyBytes = read.bytes;
    else add({ code: 'L_KEY_MISSING', where, problem: `keyPath ${keyPath}: ${read.problem}`, fix: read.kbs ? 'add the key resource to the KBS repository' : 'stage the key file into the rootfs (kbs-bundler stage)' });
  }
  let keyring: Keyring | undefined;
  if (r.type === 'signedBy' && keyBytes) {
    try {
      keyring = await backend.readKeyring(keyBytes, { file: where });
    } catch (e) {
      add({ code: 'L_KEY_UNREADABLE', where, problem: `the key is not an OpenPGP public keyring: ${(e as Error).message}`, fix: 'export it with gpg --export (or --armor --export)' });
    }
    for (const d of keyring?.descriptions ?? []) {
      if (d.expires !== null && Date.parse(d.expires) <= now.getTime()) {
        add({ code: 'L_KEY_EXPIRED', where, problem: `key ${d.fingerprint} expired on ${d.expires}: image-rs still accepts its signatures, podman/CRI-O reject them`, fix: `extend it (gpg --quick-set-expire ${d.fingerprint} 2y) and re-export, or sign with a current key` });
      }
      for (const s of d.subkeys) {
        if (s.canSign && !s.revoked) {
          add({ code: 'L_SIGNING_SUBKEY', where, problem: `key ${d.fingerprint} has signing subkey ${s.fingerprint}: signatures it makes are rejected by image-rs (primary keys only) and accepted by the host`, fix: `sign with the primary key: gpg --default-key ${d.fingerprint}! (or skopeo --sign-by ${d.fingerprint}!)` });
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
        add({ code: 'L_IDENTITY_LITERAL', where, problem: `exactReference ${JSON.stringify(id.dockerReference)} is not fully expanded: image-rs compares it literally with the signed reference (${expanded} as skopeo/podman sign it), the host normalises`, fix: `write ${JSON.stringify(expanded)}` });
      }
    } catch {
      // the host refuses it at parse time; reported above
    }
  }
  if (id?.type === 'remapIdentity' && typeof id.prefix === 'string' && !id.prefix.includes('/')) {
    add({ code: 'L_REMAP_PREFIX', where, problem: `remapIdentity prefix ${JSON.stringify(id.prefix)}: image-rs replaces it as a plain string prefix (so it also matches ${id.prefix}-other/...), the host only at a / boundary`, fix: 'use a prefix that ends at a namespace, e.g. host/namespace' });
  }
  // Signatures the guest would look for under the store of an allowed scope.
  if (r.type === 'signedBy' && scopeKey !== undefined && inputs.rootfs && sigstore) {
    const dirs = await lintSignaturesPresent(scopeKey, where, sigstore, inputs.rootfs, add);
    if (keyring) await lintStagedSignatures(dirs, keyring, where, inputs.rootfs, backend, now, add);
  }
}

const MAX_SIGNATURE_DIRS = 64;

/** Signature directories (`<name>@sha256=<hex>`) at most `depth` levels below `dir`, up to a limit. */
async function findSignatureDirs(files: GuestFiles, dir: string, prefix: string, depth: number, out: string[] = []): Promise<string[]> {
  for (const e of (await files.listDir(dir)) ?? []) {
    if (out.length >= MAX_SIGNATURE_DIRS) break;
    if (e.type !== 'dir' && e.type !== 'symlink') continue;
    const p = posixPath.join(dir, e.name);
    if (e.name.includes('@sha256=') && e.name.startsWith(prefix)) out.push(p);
    else if (depth > 0 && !e.name.includes('@')) await findSignatureDirs(files, p, '', depth - 1, out);
  }
  return out;
}

async function lintSignaturesPresent(scopeKey: string, where: string, sigstore: SigstoreConfig, rootfs: GuestFiles, add: (f: LintFinding) => void): Promise<string[]> {
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
    add({ code: 'L_NO_STORE', where, problem: `no sigstore-config entry covers ${scopeKey} and there is no default-docker: image-rs fails with "The sigstore base url is none"`, fix: 'add a docker: entry (or default-docker) with sigstore: file:///…' });
    return [];
  }
  if (!base.url.startsWith('file://')) return [];
  const root = decodeURIComponent(new URL(base.url).pathname);
  const repoPath = repoScope ? repoScope.repository : probe.repository.split('/').slice(0, -1).join('/');
  const found = repoScope
    ? await findSignatureDirs(rootfs, posixPath.dirname(posixPath.join(root, repoPath)), `${posixPath.basename(repoPath)}@`, 0)
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
async function lintStagedSignatures(dirs: string[], keyring: Keyring, where: string, rootfs: GuestFiles, backend: SignatureBackend, now: Date, add: (f: LintFinding) => void): Promise<void> {
  for (const dir of dirs) {
    for (const e of (await rootfs.listDir(dir)) ?? []) {
      if (e.type === 'dir') continue;
      const file = posixPath.join(dir, e.name);
      const blob = await rootfs.readFile(file);
      if (!blob) continue;
      const judge = async (side: 'guest' | 'host') => backend.verify(blob, keyring, side, now).then(() => undefined, (err: unknown) => reasonOf(err).reason);
      const [guest, host] = [await judge('guest'), await judge('host')];
      if ((guest === undefined) === (host === undefined)) continue;
      const problem = guest === undefined
        ? `signature ${file} verifies in the guest but the host refuses it: ${host}`
        : `signature ${file} is refused by the guest (${guest}) but accepted by the host`;
      const fix = guest === undefined
        ? 'sign again with a key that has not expired (and re-stage), so that host-side checks agree'
        : 'sign with the primary key (gpg --default-key <primary fingerprint>!), which is the only key image-rs tries';
      add({ code: 'L_SIGNATURE_DIVERGES', where, problem, fix });
    }
  }
}
