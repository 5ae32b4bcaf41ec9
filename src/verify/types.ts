/**
 * The vocabulary of the verifier: which side decides (the guest's image-rs or the host's
 * containers/image), what it decided, and why, down to each signature tried.
 */
import type { ErrorCode } from '../error-codes.js';

/** `guest` = image-rs inside the CoCo guest; `host` = containers/image (podman, CRI-O, skopeo). */
export type Side = 'guest' | 'host';

/** The CLI names of the sides. */
export const SIDE_BY_MODE = { 'image-rs': 'guest', 'containers-image': 'host' } as const satisfies Record<string, Side>;
export type VerifierMode = keyof typeof SIDE_BY_MODE | 'both';

export const SIDE_LABEL: Record<Side, string> = { guest: 'image-rs (guest)', host: 'containers/image (host)' };

/** What happened to one signature blob. */
export interface SignatureAttempt {
  /** Where it came from (guest path, URL, or `<repo>:sha256-….sig layer N`). */
  source: string;
  accepted: boolean;
  /** Why it was rejected, worded as the side words it; or a short acceptance note. */
  reason: string;
  /** Primary key fingerprint that verified it, when the crypto succeeded. */
  signer?: string;
  /** The payload's docker-reference / manifest digest, when the payload was read. */
  signedIdentity?: string;
  signedDigest?: string;
  /** Machine-readable reason. */
  code?: ErrorCode;
  /** Facts that the other side would judge differently (expired key, subkey, …). */
  notes?: string[];
}

export interface RequirementOutcome {
  /** Index in the selected requirement list. */
  index: number;
  type: string;
  /** One-line description of the rule (`signedBy GPGKeys keyData (1 key: …), matchRepoDigestOrExact`). */
  rule: string;
  allowed: boolean;
  /** The side's own error text for this requirement (undefined when allowed). */
  reason?: string;
  /** Where signatures were looked for (file:// or http(s) URL, or the cosign signature image). */
  signatureLocation?: string;
  signatures: SignatureAttempt[];
  /** Facts about this rule that matter for the other side or for the user (key expiry, subkey, …). */
  notes: string[];
}

/** How a rule list decided when no error code says it: an empty list (image-rs allows), or the rule type that denied. */
export type DecisionCode = 'EMPTY_LIST_ALLOWS' | 'EMPTY_LIST_DENIES' | `DENIED_BY_${string}`;

export interface SideDecision {
  side: Side;
  allowed: boolean;
  /** The image as this side names it (guest: `whole()`, host: `docker://<familiar>`). */
  image: string;
  /** The policy scope that applied: `docker:"<key>"`, `docker:""` or `default`; undefined when the policy could not be read. */
  scope?: string;
  /** The selected requirement list, one line per rule. */
  rules?: string[];
  outcomes: RequirementOutcome[];
  /** The single message a user of that side sees (guest: `Image policy rejected: …`, host: `Source image rejected: …`). */
  message: string;
  /** The detailed chain behind `message`, outermost first. */
  chain: string[];
  /** Stable machine-readable reason of the decision: the first failure's code, or how the rule list decided. */
  code?: ErrorCode | DecisionCode;
  notes: string[];
}

export interface Divergence {
  /** Short name of the rule that makes the sides differ (`expired key`, `empty requirement list`, …). */
  rule: string;
  detail: string;
}

export interface VerifyReport {
  image: string;
  digest: string;
  listDigest?: string;
  mode: VerifierMode;
  /** The decision of the mode asked for; for `both`, the guest's (the default) and the host's are in `decisions`. */
  allowed: boolean;
  decisions: SideDecision[];
  divergences: Divergence[];
  /** The releases whose decisions were followed: `guest` (guest-components, e.g. `v0.21.0`) and/or `host` (containers/image, e.g. `5.37.0`). */
  releases: { guest?: string; host?: string };
  /** With --fetch: which CA made each registry connection trusted. */
  registryTls?: RegistryTrust[];
}

/** The guest trusts its rootfs CA bundles and cdh.toml's extra_root_certificates; this names which one did. */
export interface RegistryTrust {
  registry: string;
  trustedBy: string;
}
