/**
 * Is this the manifest of an image (what a signature's docker-manifest-digest must name)? `skopeo inspect`
 * without `--raw` prints a summary whose digest nothing will ever pull: signing its bytes makes a
 * signature that never matches.
 */
import { InputError, type Location } from '../errors.js';
import {
  DOCKER_MANIFEST_LIST,
  DOCKER_MANIFEST_V1,
  DOCKER_MANIFEST_V1_SIGNED,
  DOCKER_MANIFEST_V2,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../registry/media-types.js';
import { parseJsonInput } from '../util/json-input.js';

const SCHEMA2_TYPES = new Set([DOCKER_MANIFEST_V2, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX]);
const RAW_HINT = 'give the raw manifest (skopeo inspect --raw docker://IMAGE > manifest.json)';

/** InputError E_NOT_A_MANIFEST unless the bytes are a schema 2 / OCI manifest or index, or a Docker schema 1 manifest. */
export function assertImageManifest(bytes: Uint8Array, location: Location): void {
  const doc = parseJsonInput(bytes, location, 'E_NOT_A_MANIFEST');
  const refuse = (what: string) => new InputError('E_NOT_A_MANIFEST', location, `${what}; ${RAW_HINT}`);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw refuse('is not an image manifest');
  const m = doc as Record<string, unknown>;
  if ('Digest' in m && 'RepoTags' in m) throw refuse('is the output of skopeo inspect, not the image manifest');
  if (m.schemaVersion === 2) {
    const mediaType = m.mediaType;
    if (mediaType === undefined) {
      // OCI leaves mediaType optional: the shape tells a manifest (config + layers) or an index (manifests)
      if ((isObject(m.config) && Array.isArray(m.layers)) || Array.isArray(m.manifests)) return;
      throw refuse('has schemaVersion 2 but neither config and layers nor manifests');
    }
    if (typeof mediaType === 'string' && SCHEMA2_TYPES.has(mediaType)) return;
    throw refuse("has a mediaType that is not an image manifest's");
  }
  if (m.schemaVersion === 1) {
    if (m.mediaType !== undefined && m.mediaType !== DOCKER_MANIFEST_V1 && m.mediaType !== DOCKER_MANIFEST_V1_SIGNED)
      throw refuse('has schemaVersion 1 with a mediaType that is not a Docker schema 1 manifest');
    if (typeof m.name === 'string' && Array.isArray(m.fsLayers)) return;
    throw refuse('has schemaVersion 1 but no name and fsLayers');
  }
  throw refuse('is not an image manifest (no schemaVersion 1 or 2)');
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
