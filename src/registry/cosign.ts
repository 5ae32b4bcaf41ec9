/**
 * The cosign signature image of a manifest: `<registry>/<repo>:sha256-<hex>.sig`, an OCI manifest whose layers
 * are the signed payloads, each carrying its signature in the `dev.cosignproject.cosign/signature` annotation.
 * Fetched with the same credentials and TLS settings as the image (as image-rs / sigstore-rs do).
 */
import { isValidDigest, referenceString, type DockerReference } from '../reference/index.js';
import { fetchBlob } from './blob.js';
import { RepositoryClient } from './client.js';
import { RegistryError } from './errors.js';
import { DEFAULT_MAX_MANIFEST_BYTES, getManifest, type FetchOptions } from './manifest.js';

export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const MAX_PAYLOAD_BYTES = 1024 * 1024;
const MAX_LAYERS = 256;

export interface CosignSignatureLayer {
  digest: string;
  mediaType: string;
  annotations: Record<string, string>;
  /** The base64 signature from the annotation with CR/LF removed (image-rs strips them), if present. */
  signature: string | undefined;
  /** The layer blob: the simple-signing JSON payload that was signed. */
  payload: Uint8Array;
}

export interface CosignSignatureImage {
  /** `registry/repo:sha256-<hex>.sig` */
  reference: string;
  /** Digest of the signature image's own manifest. */
  digest: string;
  layers: CosignSignatureLayer[];
}

/** `sha256:abc…` → tag `sha256-abc….sig`. */
export function cosignSignatureTag(manifestDigest: string): string {
  return `${manifestDigest.replace(':', '-')}.sig`;
}

export async function fetchCosignSignatureImage(
  ref: DockerReference,
  manifestDigest: string,
  options: FetchOptions = {},
): Promise<CosignSignatureImage> {
  if (!isValidDigest(manifestDigest)) {
    throw new RegistryError(
      'E_REGISTRY_RESPONSE',
      ref.registry,
      `invalid manifest digest ${JSON.stringify(manifestDigest)}`,
    );
  }
  const sigRef: DockerReference = {
    registry: ref.registry,
    repository: ref.repository,
    tag: cosignSignatureTag(manifestDigest),
  };
  const reference = referenceString(sigRef);
  const client = new RepositoryClient(sigRef, options);
  let manifest;
  try {
    manifest = await getManifest(
      client,
      sigRef.tag ?? '',
      options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
      `cosign signature image ${reference}`,
    );
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'E_REGISTRY_NOT_FOUND') {
      throw new RegistryError(
        'E_REGISTRY_NOT_FOUND',
        ref.registry,
        `no cosign signature image ${reference} in registry ${ref.registry}`,
        { status: 404, cause: e },
      );
    }
    throw e;
  }
  const layersField = (manifest.parsed as { layers?: unknown }).layers;
  if (!Array.isArray(layersField)) {
    throw new RegistryError(
      'E_REGISTRY_RESPONSE',
      ref.registry,
      `cosign signature image ${reference} has no "layers" list (${manifest.mediaType})`,
    );
  }
  if (layersField.length > MAX_LAYERS) {
    throw new RegistryError(
      'E_REGISTRY_TOO_LARGE',
      ref.registry,
      `cosign signature image ${reference} has ${layersField.length} layers, over the ${MAX_LAYERS} limit`,
    );
  }
  const layers: CosignSignatureLayer[] = [];
  for (const [i, raw] of layersField.entries()) {
    const layer = raw as { digest?: unknown; mediaType?: unknown; annotations?: unknown };
    if (typeof layer.digest !== 'string') {
      throw new RegistryError(
        'E_REGISTRY_RESPONSE',
        ref.registry,
        `cosign signature image ${reference}: layers[${i}] has no digest`,
      );
    }
    const annotations: Record<string, string> = {};
    if (layer.annotations && typeof layer.annotations === 'object') {
      for (const [k, v] of Object.entries(layer.annotations)) if (typeof v === 'string') annotations[k] = v;
    }
    const payload = await fetchBlob(sigRef, layer.digest, { ...options, maxBytes: MAX_PAYLOAD_BYTES }, client);
    const signature = annotations[COSIGN_SIGNATURE_ANNOTATION]?.replace(/[\r\n]/g, '');
    layers.push({
      digest: layer.digest,
      mediaType: typeof layer.mediaType === 'string' ? layer.mediaType : '',
      annotations,
      signature,
      payload,
    });
  }
  return { reference, digest: manifest.digest, layers };
}
