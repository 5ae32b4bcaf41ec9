/**
 * The confidential-containers/guest-components releases whose image-rs behaviour kbs-bundler follows.
 * `verify`, `lint` and `render initdata` follow CURRENT_GUEST_RELEASE unless the user names an older one;
 * each feature below says from which release image-rs behaves that way.
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
