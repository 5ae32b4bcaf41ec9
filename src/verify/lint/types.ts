import type { GuestRelease } from '../../releases/guest-components.js';
/** What lint reports, and what it reads. */
import type { GuestFiles, ResourceSource } from '../inputs.js';

/** Every finding lint reports; scripts may rely on these codes. */
export type LintCode =
  | 'L_CA_AS_SERVER_CERT'
  | 'L_COSIGN_KEYDATA_BASE64'
  | 'L_EMPTY_LIST'
  | 'L_HTTP_STORE'
  | 'L_IDENTITY_LITERAL'
  | 'L_INITDATA_INLINE_SHADOWED'
  | 'L_KEYDATA_BASE64'
  | 'L_KEYPATHS'
  | 'L_KEY_EXPIRED'
  | 'L_KEY_MISSING'
  | 'L_KEY_UNREADABLE'
  | 'L_LOOKASIDE_ONLY'
  | 'L_MISSING_TRANSPORTS'
  | 'L_NO_SIGNATURES'
  | 'L_NO_SIGSTORE_CONFIG'
  | 'L_NO_STORE'
  | 'L_POLICY_GUEST_INVALID'
  | 'L_POLICY_HOST_INVALID'
  | 'L_REMAP_PREFIX'
  | 'L_RUN_PATH'
  | 'L_SCOPE_MISSES_PORT'
  | 'L_SCOPE_NEVER_MATCHES'
  | 'L_SIGNATURE_DIVERGES'
  | 'L_SIGNING_SUBKEY'
  | 'L_SIGSTORE_CONFIG_INVALID'
  | 'L_STORE_SPLIT';

export interface LintFinding {
  code: LintCode;
  /** Where: `policy.json transports.docker["reg/app"][0]`, `sigstore-config docker["reg"]`, … */
  where: string;
  problem: string;
  fix: string;
}

export interface LintInputs {
  policy: { bytes: Uint8Array; source: string };
  sigstoreConfig?: { bytes: Uint8Array; source: string };
  resources: ResourceSource;
  /** Without a rootfs, checks of guest files are skipped. */
  rootfs?: GuestFiles;
  /** Registry CA certificates the bundle gives the guest (PEM), by registry `host[:port]`. */
  registryCas?: Array<{ registry: string; pem: string; source: string }>;
  /** The `host[:port]` of every registry the bundle configures (credentials, CA, address). */
  registries?: string[];
  /**
   * Where each of `registries` was named when no bundle.yaml gave them (the KBS resources, as `kbs:///`
   * URIs, see kbs-registries.ts); without it they are bundle.yaml's `registries:`.
   */
  registrySources?: Map<string, string[]>;
  now?: Date;
  /** The guest-components release the findings are about (default CURRENT_GUEST_RELEASE). */
  guestRelease?: GuestRelease;
}

export type AddFinding = (f: LintFinding) => void;

export const RUN_FIX =
  'the kata agent mounts a tmpfs on /run at boot, hiding anything staged there: put the file elsewhere (e.g. /etc/...), or use keyData / a kbs:/// keyPath';
