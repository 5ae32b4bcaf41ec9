/** One-line descriptions of policy requirements for reports. */
import type { PolicyRequirement, SignedIdentity } from '../policy/schema.js';

export function describeIdentity(id: SignedIdentity | undefined, fallback: string): string {
  if (!id) return `${fallback} (default)`;
  switch (id.type) {
    case 'exactReference':
      return `exactReference ${id.dockerReference}`;
    case 'exactRepository':
      return `exactRepository ${id.dockerRepository}`;
    case 'remapIdentity':
      return `remapIdentity ${id.prefix} → ${id.signedPrefix}`;
    default:
      return id.type;
  }
}

export function describeRequirement(r: PolicyRequirement): string {
  switch (r.type) {
    case 'insecureAcceptAnything':
    case 'reject':
      return r.type;
    case 'signedBy': {
      const key =
        r.keyData !== undefined
          ? 'keyData'
          : r.keyPath !== undefined
            ? `keyPath ${r.keyPath}`
            : r.keyPaths !== undefined
              ? `keyPaths ${r.keyPaths.join(', ')}`
              : 'no key';
      return `signedBy ${r.keyType} ${key}, signedIdentity ${describeIdentity(r.signedIdentity, 'matchRepoDigestOrExact')}`;
    }
    case 'sigstoreSigned': {
      const key =
        r.keyData !== undefined ? 'keyData' : r.keyPath !== undefined ? `keyPath ${r.keyPath}` : 'no static key';
      return `sigstoreSigned ${key}, signedIdentity ${describeIdentity(r.signedIdentity, 'matchRepoDigestOrExact')}`;
    }
    case 'signedBaseLayer':
      return 'signedBaseLayer';
  }
}
