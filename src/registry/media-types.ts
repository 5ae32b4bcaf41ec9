/** Manifest media types a registry may answer with, and the Accept header asking for all of them. */

export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST_V1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
export const DOCKER_MANIFEST_V1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  DOCKER_MANIFEST_V2,
  OCI_INDEX,
  DOCKER_MANIFEST_LIST,
  DOCKER_MANIFEST_V1_SIGNED,
  DOCKER_MANIFEST_V1,
].join(', ');

export function isIndexType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

export function isSchema1Type(mediaType: string): boolean {
  return mediaType === DOCKER_MANIFEST_V1_SIGNED || mediaType === DOCKER_MANIFEST_V1;
}

/**
 * The media type of manifest bytes: the JSON's own `mediaType`, else guessed from its shape as containers/image's
 * GuessMIMEType does (schemaVersion 1 → schema1, `manifests` → index, otherwise an OCI manifest); the
 * Content-Type header is the last resort.
 */
export function manifestMediaType(parsed: unknown, contentType: string | undefined): string {
  if (parsed && typeof parsed === 'object') {
    const o = parsed as { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown; signatures?: unknown };
    if (typeof o.mediaType === 'string' && o.mediaType !== '') return o.mediaType;
    if (o.schemaVersion === 1) return Array.isArray(o.signatures) ? DOCKER_MANIFEST_V1_SIGNED : DOCKER_MANIFEST_V1;
    if (Array.isArray(o.manifests)) return OCI_INDEX;
    if (o.schemaVersion === 2) return OCI_MANIFEST;
  }
  return (contentType ?? '').split(';')[0]?.trim() ?? '';
}
