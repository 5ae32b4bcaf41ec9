/**
 * The confidential-containers/guest-components releases whose image-rs behaviour kbs-bundler follows.
 * `verify`, `lint` and `render initdata` follow CURRENT_GUEST_RELEASE unless the user names an older one;
 * GUEST_FEATURES says from which release image-rs behaves each way (read from the history of
 * `image-rs/src/signature/`, `image-rs/src/resource/` and `image-rs/src/config.rs`).
 */
import { InputError } from '../errors.js';

export interface GuestRelease {
  major: number;
  minor: number;
  patch: number;
}

export const CURRENT_GUEST_RELEASE: GuestRelease = { major: 0, minor: 21, patch: 0 };

/** The release as users and upstream tags write it: `v0.21.0`. */
export function formatGuestRelease(r: GuestRelease): string {
  return `v${r.major}.${r.minor}.${r.patch}`;
}

/** `v0.21.0`, `0.21.0` or `0.21` (patch 0). */
export function parseGuestRelease(text: string, option = '--guest-release'): GuestRelease {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) {
    throw new InputError('E_GUEST_RELEASE', { field: option }, `not a guest-components release: expected e.g. v0.21.0`);
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function compareGuestRelease(a: GuestRelease, b: GuestRelease): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** True when `r` is `since` or newer. */
export function guestReleaseAtLeast(r: GuestRelease, since: GuestRelease): boolean {
  return compareGuestRelease(r, since) >= 0;
}

const v = (minor: number): GuestRelease => ({ major: 0, minor, patch: 0 });

/** Where image-rs changed a decision, and the first release that decides the new way. */
export const GUEST_FEATURES = {
  /** A scope whose requirement list is empty allows the image; before, every pull it covers fails. */
  emptyRequirementListAllows: { since: v(14), change: 'an empty requirement list allows the image' },
  /** cdh.toml `[image] image_security_policy` / `sigstore_config` hold the files inline. */
  inlineSignatureConfig: {
    since: v(17),
    change: 'cdh.toml [image] accepts image_security_policy and sigstore_config inline',
  },
  /** Newlines in a cosign signature annotation are stripped before base64 decoding. */
  cosignSignatureNewlines: { since: v(18), change: 'newlines in a cosign signature are ignored' },
  /** cosign keys of any type sigstore-rs knows (RSA, P-384, Ed25519…); before, ECDSA P-256 only. */
  cosignAnyKeyType: { since: v(19), change: 'cosign keys other than ECDSA P-256 (RSA, …) are accepted' },
  /** A cosign signature of the manifest list (index) digest is accepted for a platform image. */
  cosignListDigest: { since: v(19), change: 'cosign signatures of the manifest list digest are accepted' },
  /** Simple-signing signatures and keys are read with rPGP; sequoia-openpgp before. */
  rpgp: { since: v(20), change: 'OpenPGP by rPGP (was sequoia-openpgp)' },
  /** keyPath `kbs+<plugin>://…` is a KBS resource; before, `Resource URI scheme … not supported`. */
  kbsPluginScheme: { since: v(21), change: 'keyPath accepts kbs+<plugin>:// resource URIs' },
} as const satisfies Record<string, { since: GuestRelease; change: string }>;

export type GuestFeature = keyof typeof GUEST_FEATURES;

/** The OpenPGP implementation of a release, as the signature verifier's option names it. */
export type GuestOpenPgp = 'sequoia' | 'rpgp';

export function guestHas(release: GuestRelease, feature: GuestFeature): boolean {
  return guestReleaseAtLeast(release, GUEST_FEATURES[feature].since);
}

export function guestOpenPgp(release: GuestRelease): GuestOpenPgp {
  return guestHas(release, 'rpgp') ? 'rpgp' : 'sequoia';
}
