/**
 * The containers/image releases whose decisions the host side of `verify` follows (podman, CRI-O and
 * skopeo link it). CURRENT_HOST_RELEASE unless the user names an older one with `--host-release`;
 * HOST_FEATURES says from which release containers/image decides each way.
 */
import { InputError } from '../errors.js';

export interface HostRelease {
  major: number;
  minor: number;
  patch: number;
}

export const CURRENT_HOST_RELEASE: HostRelease = { major: 5, minor: 37, patch: 0 };

/** `5.37.0`, as containers/image tags it without its `v`. */
export function formatHostRelease(r: HostRelease): string {
  return `${r.major}.${r.minor}.${r.patch}`;
}

/** `v5.37.0`, `5.37.0` or `5.37`. */
export function parseHostRelease(text: string, option = '--host-release'): HostRelease {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) {
    throw new InputError('E_HOST_RELEASE', { field: option }, 'not a containers/image release: expected e.g. 5.37.0');
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function compareHostRelease(a: HostRelease, b: HostRelease): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** Where containers/image changed a decision, and the first release that decides the new way. */
export const HOST_FEATURES = {
  /** A signature made by a signing subkey counts as its primary key's; before, `Signature by key … is not accepted`. */
  subkeySignatures: {
    since: { major: 5, minor: 37, patch: 0 },
    change: 'signatures by a signing subkey of an accepted key are accepted (skopeo 1.9.3 / 5.23 refuses them)',
  },
} as const satisfies Record<string, { since: HostRelease; change: string }>;

export type HostFeature = keyof typeof HOST_FEATURES;

export function hostHas(release: HostRelease, feature: HostFeature): boolean {
  return compareHostRelease(release, HOST_FEATURES[feature].since) >= 0;
}
