/**
 * signatureStores → the guest's sigstore config. The guest reads only the `sigstore` key of each
 * entry and only `file://` URLs (docs/guest-vs-host.md §5), so that is what is written; an http(s)
 * base is refused unless `allowHttp` says the bundle is for hosts only.
 */
import { DEFAULT_SIGSTORE_BASE, type SigstoreConfig } from '../lookaside/schema.js';
import { fail, type BundleContext } from './files.js';
import type { BundleFile } from './schema.js';
import { scopeProblem } from './scope.js';

const HTTP_REASON =
  'the guest cannot read it (image-rs: "HTTP support for signature stores is not implemented."); stage the signatures into the guest and use a file:// base, or set signatureStores.allowHttp: true if this bundle is only for podman/CRI-O hosts';

export function buildSigstoreConfig(ctx: BundleContext, stores: BundleFile['signatureStores']): SigstoreConfig {
  const allowHttp = stores?.allowHttp === true;
  const config: SigstoreConfig = {};
  const base = stores?.default === undefined ? DEFAULT_SIGSTORE_BASE : stores.default;
  if (base !== null)
    config['default-docker'] = { sigstore: checkStore(ctx, base, 'signatureStores.default', allowHttp) };
  const docker: NonNullable<SigstoreConfig['docker']> = {};
  for (const scope of Object.keys(stores?.scopes ?? {}).sort()) {
    const field = `signatureStores.scopes[${JSON.stringify(scope)}]`;
    const problem = scopeProblem(scope);
    if (problem !== undefined) throw fail(ctx, 'E_SCOPE', field, problem);
    docker[scope] = { sigstore: checkStore(ctx, stores!.scopes![scope]!, field, allowHttp) };
  }
  config.docker = docker;
  return config;
}

function checkStore(ctx: BundleContext, url: string, field: string, allowHttp: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail(ctx, 'E_SIGNATURE_STORE', field, `${JSON.stringify(url)} is not a URL; write file:///absolute/path`);
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    if (allowHttp) return url;
    throw fail(ctx, 'E_SIGNATURE_STORE', field, `${url} is an ${parsed.protocol.slice(0, -1)} store: ${HTTP_REASON}`);
  }
  if (parsed.protocol !== 'file:')
    throw fail(
      ctx,
      'E_SIGNATURE_STORE',
      field,
      `${url}: only file:// (or http(s) with allowHttp) stores are supported`,
    );
  if (!url.startsWith('file:///') || parsed.pathname === '/' || parsed.pathname.includes('/../')) {
    throw fail(
      ctx,
      'E_SIGNATURE_STORE',
      field,
      `${url}: write file:///absolute/path (no host, not the root directory)`,
    );
  }
  return url;
}

/** The `file://` base a guest path lives under, for stage (undefined for http stores). */
export function fileStorePath(url: string): string | undefined {
  return url.startsWith('file:///') ? decodeURIComponent(new URL(url).pathname) : undefined;
}
