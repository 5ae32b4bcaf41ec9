/** The validated bundle: what build, stage, render and lint work from. Never holds a password. */
import type { Keyring } from '../keys/index.js';
import type { ResourceId } from '../resource-id/resource-id.js';
import type { Policy } from '../policy/schema.js';
import type { GuestRelease } from '../releases/guest-components.js';
import type { SigstoreConfig } from '../lookaside/schema.js';

export interface RegistrySettings {
  /** `host[:port]`, the key of the `auths` entry. */
  registry: string;
  username?: string;
  /** Absolute path of the password file (read only when the credential is rendered). */
  passwordFile?: string;
  /** Name of the environment variable holding the password. */
  passwordEnv?: string;
  /** Absolute path of the CA file, and its PEM text. */
  caFile?: string;
  caPem?: string;
  /** IP address for the guest's /etc/hosts. */
  address?: string;
}

export interface GuestKeyFile {
  /** Absolute guest path (a `file://` keyPath is reduced to its path). */
  guestPath: string;
  bytes: Uint8Array;
  /** The bundle's key file(s) it was made from, comma-separated when several. */
  sourceFile: string;
}

/** A keyring a rule trusts, wherever the rule is used. */
export interface RuleKeyringEntry {
  keyring: Keyring;
  /** Absolute path of the key file. */
  sourceFile: string;
}

export interface KeyringEntry extends RuleKeyringEntry {
  scope: string;
}

/** A key the policy names with `keyPath: kbs:///…`: written as a KBS resource beside the others. */
export interface KeyResource {
  id: ResourceId;
  bytes: Uint8Array;
  sourceFile: string;
}

export interface Bundle {
  /** The bundle file as the user named it (used in messages). */
  file: string;
  repository: string;
  tag: string;
  /** The guest's policy.json (security-policy resource): keyData embedded, keyPath as configured. */
  policy: Policy;
  /** The same rules for podman/CRI-O hosts: keys always embedded as base64 keyData. */
  hostPolicy: Policy;
  /** The guest's sigstore config: `sigstore:` keys only, file:// bases (unless allowHttp). */
  sigstoreConfig: SigstoreConfig;
  registries: RegistrySettings[];
  guestKeyFiles: GuestKeyFile[];
  keyrings: KeyringEntry[];
  keyResources: KeyResource[];
  /** Host-side signature stores `stage` copies from (absolute paths). */
  signatureSources: string[];
  /** bundle.yaml `initdata:`: inline policy and sigstore config, for a guest of this release. */
  initdata?: { inline: boolean; guestRelease?: GuestRelease };
}
