/** `fetchBlob`: one blob by digest, size-capped and checked against its digest. */
import { isValidDigest, referenceName, type DockerReference } from '../reference/index.js';
import { RepositoryClient, type ClientOptions } from './client.js';
import { assertDigest } from './digest.js';
import { RegistryError } from './errors.js';

export const DEFAULT_MAX_BLOB_BYTES = 16 * 1024 * 1024;

export interface BlobOptions extends ClientOptions {
  /** Size cap (default 16 MiB: configs and signature payloads, not layers). */
  maxBytes?: number;
}

export async function fetchBlob(
  ref: DockerReference,
  digest: string,
  options: BlobOptions = {},
  client?: RepositoryClient,
): Promise<Uint8Array> {
  if (!isValidDigest(digest))
    throw new RegistryError('E_REGISTRY_RESPONSE', ref.registry, `invalid blob digest ${JSON.stringify(digest)}`);
  const c = client ?? new RepositoryClient(ref, options);
  const what = `blob ${referenceName(ref)}@${digest}`;
  const res = await c.get(`blobs/${digest}`, { maxBytes: options.maxBytes ?? DEFAULT_MAX_BLOB_BYTES, what });
  const bytes = new Uint8Array(res.body);
  assertDigest(bytes, digest, ref.registry, what);
  return bytes;
}
