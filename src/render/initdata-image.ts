/**
 * How cdh.toml's `[image]` table names the policy and the sigstore config: by KBS URI (every guest), or
 * inline as the exact bytes `build` writes as the security-policy and sigstore-config resources (image-rs
 * from guest-components v0.17.0). Inline values are measured with the initdata, so an attestation policy
 * that checks the initdata digest also pins the signature policy. The credential always stays a KBS
 * resource: initdata is not confidential.
 */
import type { Bundle } from '../bundle/types.js';
import { renderResources } from '../kbs/render.js';
import { resourcePath } from '../resource-id/resource-id.js';
import {
  CURRENT_GUEST_RELEASE,
  formatGuestRelease,
  GUEST_FEATURES,
  guestHas,
  type GuestRelease,
} from '../releases/guest-components.js';
import { bundleUris } from './kbs-uris.js';

/** The first guest-components release whose image-rs reads `image_security_policy` and `sigstore_config`. */
const INLINE_IMAGE_CONFIG_SINCE = GUEST_FEATURES.inlineSignatureConfig.since;

export interface ImageSectionOptions {
  /** Inline policy and sigstore config (default: the bundle's `initdata.inline`, else false). */
  inline?: boolean;
  /** The guest's guest-components release (default: the bundle's `initdata.guestRelease`, else the current one). */
  guestRelease?: GuestRelease;
}

/** What the image section needs of a bundle; the inline form needs the whole loaded bundle. */
export type InitdataBundle = Pick<Bundle, 'repository' | 'tag' | 'registries'> & Partial<Bundle>;

export interface ImageSection {
  policyUri?: string;
  policyInline?: string;
  sigstoreConfigUri?: string;
  sigstoreConfigInline?: string;
  credentialUri?: string;
  notes: string[];
}

/** security-policy and sigstore-config as `build` writes them; no credential is rendered, so no password is read. */
async function publicResourceTexts(partial: InitdataBundle): Promise<{ policy: string; sigstoreConfig: string }> {
  if (!partial.policy || !partial.sigstoreConfig || !partial.keyResources)
    throw new Error('the inline initdata form needs a bundle loaded with loadBundle');
  const bundle = partial as Bundle;
  const withoutLogins = { ...bundle, registries: bundle.registries.map((r) => ({ registry: r.registry })) };
  const byPath = new Map((await renderResources(withoutLogins)).map((r) => [resourcePath(r.id), r.bytes]));
  const text = (type: string) => {
    const bytes = byPath.get(resourcePath({ repository: bundle.repository, type, tag: bundle.tag }));
    if (!bytes) throw new Error(`build renders no ${type} resource`);
    return Buffer.from(bytes).toString('utf8');
  };
  return { policy: text('security-policy'), sigstoreConfig: text('sigstore-config') };
}

export async function imageSection(bundle: InitdataBundle, o: ImageSectionOptions = {}): Promise<ImageSection> {
  const uris = bundleUris(bundle);
  const credential = uris.credentialUri !== undefined ? { credentialUri: uris.credentialUri } : {};
  const release = o.guestRelease ?? bundle.initdata?.guestRelease ?? CURRENT_GUEST_RELEASE;
  const inline = o.inline ?? bundle.initdata?.inline ?? false;
  if (!inline) {
    return { policyUri: uris.policyUri, sigstoreConfigUri: uris.sigstoreConfigUri, ...credential, notes: [] };
  }
  if (!guestHas(release, 'inlineSignatureConfig')) {
    return {
      policyUri: uris.policyUri,
      sigstoreConfigUri: uris.sigstoreConfigUri,
      ...credential,
      notes: [
        `the guest runs guest-components ${formatGuestRelease(release)}, older than ${formatGuestRelease(INLINE_IMAGE_CONFIG_SINCE)}, which first reads the policy and sigstore config inline: writing the KBS URIs instead`,
      ],
    };
  }
  const texts = await publicResourceTexts(bundle);
  return { policyInline: texts.policy, sigstoreConfigInline: texts.sigstoreConfig, ...credential, notes: [] };
}
