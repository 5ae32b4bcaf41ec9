/**
 * `fetchManifest`: the manifest a pull of `ref` would use. An index (manifest list) is resolved to the manifest
 * for the requested platform; the digest is computed from the bytes received and checked against the digest in
 * the reference, the index descriptor, and the registry's `Docker-Content-Digest` header.
 */
import { referenceString, type DockerReference } from '../reference/index.js';
import { RepositoryClient, type ClientOptions } from './client.js';
import { assertDigest, digestOf } from './digest.js';
import { RegistryError } from './errors.js';
import { MANIFEST_ACCEPT, isIndexType, isSchema1Type, manifestMediaType } from './media-types.js';

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_PLATFORM = 'linux/amd64';

export interface FetchOptions extends ClientOptions {
  /** Size cap for each manifest (default 4 MiB). */
  maxBytes?: number;
  /** `os/architecture[/variant]` chosen from an index (default linux/amd64). */
  platform?: string;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  /** `sha256:<hex>` of `bytes`: the manifest digest a signature must name. */
  digest: string;
  /** Digest of the index when one was resolved to reach this manifest. */
  listDigest?: string;
  /** The index bytes, when one was resolved. */
  listBytes?: Uint8Array;
}

interface RawManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
  parsed: unknown;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.split('/');
  if (!os || !architecture || rest.length > 0 || variant === '') {
    throw new RegistryError(
      'E_REGISTRY_NO_PLATFORM',
      '',
      `invalid platform ${JSON.stringify(text)}: expected os/architecture[/variant]`,
    );
  }
  return { os, architecture, ...(variant !== undefined ? { variant } : {}) };
}

/** GET one manifest by tag or digest, with its digest computed and cross-checked. */
export async function getManifest(
  client: RepositoryClient,
  reference: string,
  maxBytes: number,
  what: string,
): Promise<RawManifest> {
  const res = await client.get(`manifests/${reference}`, { accept: MANIFEST_ACCEPT, maxBytes, what });
  const bytes = new Uint8Array(res.body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new RegistryError(
      'E_REGISTRY_RESPONSE',
      client.registry,
      `${what} from registry ${client.registry} is not JSON`,
    );
  }
  const contentType = res.headers['content-type'];
  const mediaType = manifestMediaType(parsed, contentType);
  if (isSchema1Type(mediaType)) {
    throw new RegistryError(
      'E_REGISTRY_RESPONSE',
      client.registry,
      `${what} is a Docker schema 1 manifest (${mediaType}); the guest (image-rs) cannot pull those — push the image again as schema 2 or OCI`,
    );
  }
  const digest = reference.includes(':') ? reference : digestOf(bytes);
  if (reference.includes(':')) assertDigest(bytes, reference, client.registry, what);
  const announced = res.headers['docker-content-digest'];
  if (typeof announced === 'string' && announced !== '')
    assertDigest(bytes, announced, client.registry, `${what} (Docker-Content-Digest)`);
  return { bytes, mediaType, digest, parsed };
}

interface IndexEntry {
  mediaType?: string;
  digest?: string;
  platform?: { os?: string; architecture?: string; variant?: string };
}

function choosePlatform(index: RawManifest, platform: Platform, registry: string, what: string): string {
  const manifests = (index.parsed as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests))
    throw new RegistryError('E_REGISTRY_RESPONSE', registry, `${what}: index has no "manifests" list`);
  const entries = manifests as IndexEntry[];
  const match = entries.find(
    (m) =>
      m.platform?.os === platform.os &&
      m.platform?.architecture === platform.architecture &&
      (platform.variant === undefined || m.platform?.variant === platform.variant),
  );
  if (!match || typeof match.digest !== 'string') {
    const available = entries
      .map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/'))
      .filter((s) => s !== '');
    const wanted = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
    throw new RegistryError(
      'E_REGISTRY_NO_PLATFORM',
      registry,
      `${what} is an index with no manifest for ${wanted} (has: ${available.join(', ') || 'none'}); choose one with --platform`,
    );
  }
  return match.digest;
}

export async function fetchManifest(ref: DockerReference, options: FetchOptions = {}): Promise<FetchedManifest> {
  const platform = parsePlatform(options.platform ?? DEFAULT_PLATFORM);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const client = new RepositoryClient(ref, options);
  const what = `manifest ${referenceString(ref)}`;
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const top = await getManifest(client, reference, maxBytes, what);
  if (!isIndexType(top.mediaType)) return { bytes: top.bytes, mediaType: top.mediaType, digest: top.digest };

  const chosen = choosePlatform(top, platform, ref.registry, what);
  const child = await getManifest(
    client,
    chosen,
    maxBytes,
    `manifest ${ref.registry}/${ref.repository}@${chosen} (from index ${top.digest})`,
  );
  if (isIndexType(child.mediaType)) {
    throw new RegistryError(
      'E_REGISTRY_RESPONSE',
      ref.registry,
      `${what}: the ${options.platform ?? DEFAULT_PLATFORM} entry of the index is itself an index`,
    );
  }
  return {
    bytes: child.bytes,
    mediaType: child.mediaType,
    digest: child.digest,
    listDigest: top.digest,
    listBytes: top.bytes,
  };
}
