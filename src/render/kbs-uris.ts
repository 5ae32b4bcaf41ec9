/** The KBS URIs the guest is told about: the bundle's own resources (`kbs:///<repository>/<type>/<tag>`). */
import type { Bundle } from '../bundle/types.js';
import { resourceUri } from '../resource-id/resource-id.js';

export interface BundleUris {
  policyUri: string;
  sigstoreConfigUri: string;
  /** Only when the bundle writes a credential resource (some registry has a username). */
  credentialUri: string | undefined;
}

export function bundleUris(bundle: Pick<Bundle, 'repository' | 'tag' | 'registries'>): BundleUris {
  const uri = (type: string) => resourceUri({ repository: bundle.repository, type, tag: bundle.tag });
  return {
    policyUri: uri('security-policy'),
    sigstoreConfigUri: uri('sigstore-config'),
    credentialUri: bundle.registries.some((r) => r.username !== undefined) ? uri('credential') : undefined,
  };
}
