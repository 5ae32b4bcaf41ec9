/**
 * The policy and sigstore config a pod's guest will use, read from its initdata as image-rs reads them:
 * the `…_uri` first (a KBS resource or a guest file), the inline value only when no URI is set. The verifier
 * then checks with what the pod really gets, not with what a KBS repository happens to hold.
 */
import { InputError, type Location } from '../errors.js';
import type { CdhImageConfig } from '../initdata/cdh-schema.js';
import { cdhImageConfig, readInitdata } from '../initdata/parse.js';
import type { GuestFiles, ResourceSource, VerifyInputs } from './inputs.js';
import { readResourceUri } from './key-source.js';
import {
  CURRENT_GUEST_RELEASE,
  formatGuestRelease,
  GUEST_FEATURES,
  guestHas,
  type GuestRelease,
} from '../releases/guest-components.js';

export interface InitdataImageInputs {
  policy: VerifyInputs['policy'];
  sigstoreConfig?: VerifyInputs['sigstoreConfig'];
  /** The registry credential (`authenticated_registry_credentials_uri`), when set and found. */
  credential?: { bytes: Uint8Array; source: string };
}

async function pick(
  uriKey: string,
  uri: string | undefined,
  inlineKey: string,
  inline: string | undefined,
  resources: ResourceSource,
  files: GuestFiles,
  location: Location,
): Promise<{ bytes: Uint8Array; source: string } | undefined> {
  if (uri !== undefined) {
    const got = await readResourceUri(uri, resources, files);
    if (!got.bytes) {
      throw new InputError(
        'E_INITDATA_RESOURCE',
        { ...location, field: `data."cdh.toml".image.${uriKey}` },
        `${got.problem ?? 'not found'} (give the KBS repository with --kbs, guest files with --rootfs)`,
      );
    }
    return { bytes: got.bytes, source: uri };
  }
  if (inline !== undefined) {
    return { bytes: Buffer.from(inline, 'utf8'), source: `initdata cdh.toml image.${inlineKey}` };
  }
  return undefined;
}

/**
 * `release`: the guest's guest-components release. Before inline values existed, image-rs ignores
 * `image_security_policy` and `sigstore_config` in cdh.toml (serde skips unknown fields).
 */
export async function initdataImageInputs(
  image: CdhImageConfig,
  resources: ResourceSource,
  files: GuestFiles,
  location: Location,
  release: GuestRelease = CURRENT_GUEST_RELEASE,
): Promise<InitdataImageInputs> {
  const readsInline = guestHas(release, 'inlineSignatureConfig');
  const policy = await pick(
    'image_security_policy_uri',
    image.image_security_policy_uri,
    'image_security_policy',
    readsInline ? image.image_security_policy : undefined,
    resources,
    files,
    location,
  );
  if (!policy) {
    throw new InputError(
      'E_NO_POLICY',
      { ...location, field: 'data."cdh.toml".image' },
      readsInline || image.image_security_policy === undefined
        ? 'sets neither image_security_policy_uri nor image_security_policy: the guest would check no signature at all'
        : `sets only the inline image_security_policy, which guest-components ${formatGuestRelease(release)} ignores (read since ${formatGuestRelease(GUEST_FEATURES.inlineSignatureConfig.since)}): the guest would check no signature at all; set image_security_policy_uri`,
    );
  }
  const sigstoreConfig = await pick(
    'sigstore_config_uri',
    image.sigstore_config_uri,
    'sigstore_config',
    readsInline ? image.sigstore_config : undefined,
    resources,
    files,
    location,
  );
  const credentialUri = image.authenticated_registry_credentials_uri;
  const credential =
    credentialUri !== undefined ? (await readResourceUri(credentialUri, resources, files)).bytes : undefined;
  return {
    policy,
    ...(sigstoreConfig ? { sigstoreConfig } : {}),
    ...(credential && credentialUri !== undefined ? { credential: { bytes: credential, source: credentialUri } } : {}),
  };
}

/** The same, from an initdata file's bytes (TOML or its gzip+base64 annotation value). */
export function initdataFileInputs(
  fileBytes: Uint8Array,
  resources: ResourceSource,
  files: GuestFiles,
  location: Location,
  release?: GuestRelease,
): Promise<InitdataImageInputs> {
  const { document } = readInitdata(fileBytes, location);
  return initdataImageInputs(cdhImageConfig(document, location), resources, files, location, release);
}
