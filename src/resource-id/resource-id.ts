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

export function assertSegment(s: string, location: Location): void {
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
