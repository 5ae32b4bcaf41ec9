/** KBS resource ids: `<repository>/<type>/<tag>`, each segment matching trustee's rule. */
import { InputError, type Location } from '../errors.js';

export const RESOURCE_SEGMENT_RE = /^[A-Za-z0-9_-]+[A-Za-z0-9_.-]*$/;

export interface ResourceId {
  readonly repository: string;
  readonly type: string;
  readonly tag: string;
}

export function isValidSegment(s: string): boolean {
  return RESOURCE_SEGMENT_RE.test(s);
}

/**
 * The flat layout names a resource's file `<repository>\x2F<type>\x2F<tag>`: three segments of at most
 * 80 characters keep it within the 255 bytes a file name may have.
 */
export const MAX_SEGMENT_LENGTH = 80;

export function assertSegment(s: string, location: Location): void {
  if (s.length > MAX_SEGMENT_LENGTH) {
    throw new InputError(
      'E_RESOURCE_NAME',
      location,
      `is ${s.length} characters long; a KBS resource name may have at most ${MAX_SEGMENT_LENGTH} (the file name holding it is limited to 255 bytes)`,
    );
  }
  if (!isValidSegment(s)) {
    throw new InputError(
      'E_RESOURCE_NAME',
      location,
      `${JSON.stringify(s)} is not a valid KBS resource name (must match ${RESOURCE_SEGMENT_RE.source})`,
    );
  }
}

export function resourcePath(id: ResourceId): string {
  return `${id.repository}/${id.type}/${id.tag}`;
}

export function resourceUri(id: ResourceId): string {
  return `kbs:///${resourcePath(id)}`;
}

/** Parses `kbs:///repo/type/tag` (host and port ignored, `kbs+plugin` schemes refused). */
export function parseKbsUri(uri: string): ResourceId | undefined {
  const m = /^kbs:\/\/[^/]*\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  const [, repository = '', type = '', tag = ''] = m;
  if (![repository, type, tag].every(isValidSegment)) return undefined;
  return { repository, type, tag };
}
