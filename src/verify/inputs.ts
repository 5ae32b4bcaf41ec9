/**
 * What the verifier reads, as interfaces: the evaluation core never touches the disk or the network
 * itself, so the same core runs on a KBS directory, a tarball, a disk image or test doubles.
 */

import type { HostRelease } from '../releases/containers-image.js';
import type { GuestRelease } from '../releases/guest-components.js';
import { InputError } from '../errors.js';
import type { HttpGetter, StoreFiles } from '../store/image-signatures.js';

export type { HttpGetter };

/**
 * Read-only view of the guest root filesystem (rootfs/'s RootfsReader satisfies it): guest absolute
 * paths, symlinks resolved the way the guest sees them, undefined when missing.
 */
export type GuestFiles = StoreFiles;

/**
 * Thrown by a GuestFiles that stands for a guest the user did not give: the decision needs files
 * only the guest has (its signatures), so there is no verdict to give, only a usage error.
 */
export class GuestNotGivenError extends InputError {
  constructor(option: string, problem: string) {
    super('E_NO_ROOTFS', { field: option }, problem);
    this.name = 'GuestNotGivenError';
  }
}

/** `kbs:///repo/type/tag` resources of the KBS repository the guest talks to. */
export interface ResourceSource {
  /** `repo/type/tag` → bytes, undefined when the repository has no such resource. */
  get(path: string): Promise<Uint8Array | undefined>;
}

/** One layer of a cosign signature image `<repo>:sha256-<hex>.sig`. */
export interface CosignSignatureBlob {
  /** The layer blob: the simple-signing JSON payload cosign signed. */
  payload: Uint8Array;
  /** `dev.cosignproject.cosign/signature` annotation (base64; newlines are stripped before use). */
  signature: string | undefined;
}

export interface CosignSignatureSet {
  /** `registry/repo:sha256-<hex>.sig` */
  reference: string;
  layers: CosignSignatureBlob[];
}

/** Fetches the cosign signature image for a manifest digest; undefined when the registry has none. */
export type CosignFetcher = (imageReference: string, digest: string) => Promise<CosignSignatureSet | undefined>;

/** The manifest the decision is about. */
export interface ManifestInput {
  /** Digest of the platform manifest (what both sides use for simple signing). */
  digest: string;
  /** The manifest bytes when known (the host recomputes the digest from them, schema1 JWS stripped). */
  bytes?: Uint8Array;
  /** Digest of the manifest list / index the platform manifest came from (cosign fallback). */
  listDigest?: string;
}

export interface VerifyInputs {
  /** The image reference as the user (or the pod spec) wrote it. */
  image: string;
  manifest: ManifestInput;
  /** policy.json bytes and where they came from (for messages). */
  policy: { bytes: Uint8Array; source: string };
  /** Sigstore config (registries.d YAML) bytes, when the guest would have one. */
  sigstoreConfig?: { bytes: Uint8Array; source: string };
  resources: ResourceSource;
  rootfs: GuestFiles;
  http?: HttpGetter;
  cosign?: CosignFetcher;
  /** Clock for expiry checks (tests pin it). */
  now?: Date;
  /** The guest-components release the guest side follows (default CURRENT_GUEST_RELEASE). */
  guestRelease?: GuestRelease;
  /** The containers/image release the host side follows (default CURRENT_HOST_RELEASE). */
  hostRelease?: HostRelease;
}
