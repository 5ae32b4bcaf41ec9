/**
 * Host-side twins for podman/CRI-O nodes: `policy.json` (keys always embedded as base64 keyData),
 * `registries.d/` with both `lookaside:` and `sigstore:` for each store (CRI-O before Kubernetes
 * 1.26 reads the latter), and `certs.d/<registry>/ca.crt` for registries with a CA file.
 * `default-docker` goes to `registries.d/default.yaml`, the file distributions keep it in (two
 * files defining it is an error for containers/image), the per-scope entries to
 * `registries.d/kbs-bundler.yaml`. With registry credentials, `auth.json` (containers-auth.json(5),
 * mode 0600: the same content as the KBS credential resource), and a README saying where each file
 * and the signatures go on the host.
 */
import { stringify } from 'yaml';
import type { Bundle } from '../bundle/types.js';
import { DEFAULT_SIGSTORE_BASE, type RegistryEntry } from '../lookaside/schema.js';
import { policyJsonBytes } from './policy-json.js';

export interface HostFile {
  path: string;
  bytes: Uint8Array;
  mode: number;
}

/** `credential`: the bytes of the KBS credential resource (`{"auths": …}`), when the bundle has credentials. */
export function hostConfigFiles(bundle: Bundle, credential?: Uint8Array): HostFile[] {
  const both = (entry: RegistryEntry): RegistryEntry =>
    entry.sigstore === undefined ? entry : { lookaside: entry.sigstore, sigstore: entry.sigstore };
  const yaml = (v: unknown) => Buffer.from(stringify(v, { lineWidth: 0 }), 'utf8');
  const files: HostFile[] = [{ path: 'policy.json', bytes: policyJsonBytes(bundle.hostPolicy), mode: 0o644 }];
  const def = bundle.sigstoreConfig['default-docker'];
  if (def) files.push({ path: 'registries.d/default.yaml', bytes: yaml({ 'default-docker': both(def) }), mode: 0o644 });
  const scopes = Object.entries(bundle.sigstoreConfig.docker ?? {});
  if (scopes.length > 0) {
    files.push({
      path: 'registries.d/kbs-bundler.yaml',
      bytes: yaml({ docker: Object.fromEntries(scopes.map(([s, e]) => [s, both(e)])) }),
      mode: 0o644,
    });
  }
  for (const r of bundle.registries) {
    if (r.caPem !== undefined)
      files.push({ path: `certs.d/${r.registry}/ca.crt`, bytes: Buffer.from(r.caPem, 'utf8'), mode: 0o644 });
  }
  if (credential !== undefined) files.push({ path: 'auth.json', bytes: credential, mode: 0o600 });
  files.push({ path: 'README.md', bytes: Buffer.from(readme(bundle, files), 'utf8'), mode: 0o644 });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** True for the paths hostConfigFiles may write (guards replacing an existing directory). */
export function isHostConfigPath(relative: string): boolean {
  return (
    relative === 'policy.json' ||
    relative === 'auth.json' ||
    relative === 'README.md' ||
    /^registries\.d\/[^/]+\.yaml$/.test(relative) ||
    /^certs\.d\/[^/]+\/ca\.crt$/.test(relative)
  );
}

/** Signature directories the host reads, from the `lookaside`/`sigstore` URLs of the registries.d entries. */
function signatureDirs(bundle: Bundle): string[] {
  const entries = [bundle.sigstoreConfig['default-docker'], ...Object.values(bundle.sigstoreConfig.docker ?? {})];
  const urls = entries.map((e) => e?.lookaside ?? e?.sigstore).filter((u): u is string => u !== undefined);
  if (urls.length === 0) urls.push(DEFAULT_SIGSTORE_BASE);
  return [...new Set(urls.map((u) => (u.startsWith('file://') ? u.slice('file://'.length) : u)))].sort();
}

function readme(bundle: Bundle, files: readonly HostFile[]): string {
  const has = (p: string) => files.some((f) => f.path === p);
  const lines = [
    '# Host configuration for podman / CRI-O nodes (written by kbs-bundler build --host-config)',
    '',
    'Copy each file to the path the host reads it from:',
    '',
    '| file here | host path |',
    '| --- | --- |',
    '| policy.json | /etc/containers/policy.json |',
  ];
  for (const f of files.filter((x) => x.path.startsWith('registries.d/')))
    lines.push(`| ${f.path} | /etc/containers/${f.path} |`);
  for (const f of files.filter((x) => x.path.startsWith('certs.d/')))
    lines.push(`| ${f.path} | /etc/containers/${f.path} (podman, skopeo, CRI-O) |`);
  if (has('auth.json'))
    lines.push(
      '| auth.json (mode 0600, holds the registry password) | /run/containers/0/auth.json for root podman (or `podman --authfile auth.json`); CRI-O: the `global_auth_file` of crio.conf |',
    );
  lines.push(
    '',
    'Signatures: the host reads them from these lookaside directories (registries.d above), so put the',
    '`<repository>@sha256=<digest>/signature-N` trees there (`skopeo copy --sign-by` and `kbs-bundler sign --store` write them):',
    '',
    ...signatureDirs(bundle).map((d) => `- ${d}`),
    '',
  );
  return `${lines.join('\n')}`;
}
