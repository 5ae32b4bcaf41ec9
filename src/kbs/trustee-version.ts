/**
 * The trustee release a KBS runs decides how its admin API authenticates: v0.21.0 takes a bearer JWT from
 * an identity provider (`kbs-client config --admin-token-file`); v0.17–v0.20 take an EdDSA JWT the client
 * signs with the admin's Ed25519 private key (`kbs-client config --auth-private-key`).
 */
import { InputError } from '../errors.js';

export type AdminAuthForm = 'admin-token' | 'auth-private-key';

export interface TrusteeVersion {
  major: number;
  minor: number;
}

export const CURRENT_TRUSTEE: TrusteeVersion = { major: 0, minor: 21 };
const ADMIN_TOKEN_SINCE: TrusteeVersion = { major: 0, minor: 21 };

/** `0.20`, `v0.20`, `0.20.0`, `v0.21.0`. */
export function parseTrusteeVersion(text: string, option = '--trustee-version'): TrusteeVersion {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.\d{1,3})?$/.exec(text.trim());
  if (!m) throw new InputError('E_USAGE', { field: option }, 'not a trustee release: expected e.g. 0.21 or v0.20.0');
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function adminAuthForm(v: TrusteeVersion = CURRENT_TRUSTEE): AdminAuthForm {
  const newer = v.major - ADMIN_TOKEN_SINCE.major || v.minor - ADMIN_TOKEN_SINCE.minor;
  return newer >= 0 ? 'admin-token' : 'auth-private-key';
}
