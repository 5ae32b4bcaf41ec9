/**
 * The verifier's network side (`--fetch`): the platform manifest, the cosign signature image and
 * http(s) signature stores, through the registry client (registry/), with the credentials the guest would
 * use (the KBS credential resource) and the CA files given.
 */
import { parseReference } from '../reference/index.js';
import { fetchCosignSignatureImage, fetchManifest, RegistryError, type FetchOptions } from '../registry/index.js';
import { httpGet } from '../registry/http.js';
import { MAX_SIGNATURE_BODY } from '../store/image-signatures.js';
import type { CosignFetcher, HttpGetter, ManifestInput } from './inputs.js';

export { parseAuths } from './auths.js';

export async function fetchPlatformManifest(image: string, options: FetchOptions): Promise<ManifestInput> {
  const m = await fetchManifest(parseReference(image), options);
  return { bytes: m.bytes, digest: m.digest, ...(m.listDigest ? { listDigest: m.listDigest } : {}) };
}

export function cosignFetcher(options: FetchOptions): CosignFetcher {
  return async (image, digest) => {
    try {
      return await fetchCosignSignatureImage(parseReference(image), digest, options);
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'E_REGISTRY_NOT_FOUND') return undefined;
      throw e;
    }
  };
}

export function httpStoreGetter(options: FetchOptions): HttpGetter {
  return {
    async get(url) {
      const res = await httpGet(url, {
        registry: new URL(url).host,
        maxBytes: MAX_SIGNATURE_BODY + 1,
        what: 'signature',
        ...options,
      });
      return { status: res.status, bytes: new Uint8Array(res.body) };
    },
  };
}
