/**
 * Host-side twins for podman/CRI-O nodes: `policy.json` (keys always embedded as base64 keyData),
 * `registries.d/` with both `lookaside:` and `sigstore:` for each store (CRI-O before Kubernetes
 * 1.26 reads the latter), and `certs.d/<registry>/ca.crt` for registries with a CA file.
 * `default-docker` goes to `registries.d/default.yaml`, the file distributions keep it in (two
 * files defining it is an error for containers/image), the per-scope entries to
 * `registries.d/kbs-bundler.yaml`.
 */
import { stringify } from 'yaml';
import type { Bundle } from '../bundle/types.js';
import type { RegistryEntry } from '../lookaside/schema.js';
import { jsonBytes } from './render.js';

export interface HostFile {
  path: string;
  bytes: Uint8Array;
  mode: number;
}

export function hostConfigFiles(bundle: Bundle): HostFile[] {
  const both = (entry: RegistryEntry): RegistryEntry =>
    entry.sigstore === undefined ? entry : { lookaside: entry.sigstore, sigstore: entry.sigstore };
  const yaml = (v: unknown) => Buffer.from(stringify(v, { lineWidth: 0 }), 'utf8');
  const files: HostFile[] = [{ path: 'policy.json', bytes: jsonBytes(bundle.hostPolicy), mode: 0o644 }];
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
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** True for the paths hostConfigFiles may write (guards replacing an existing directory). */
export function isHostConfigPath(relative: string): boolean {
  return (
    relative === 'policy.json' ||
    /^registries\.d\/[^/]+\.yaml$/.test(relative) ||
    /^certs\.d\/[^/]+\/ca\.crt$/.test(relative)
  );
}
