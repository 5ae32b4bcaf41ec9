/**
 * signedIdentity rules (`origin` = the image pulled, `signed` = the payload's docker-reference).
 * Guest (image-rs `ref_match.rs`): literal string comparisons against the unnormalised signed
 * string. Host (`policy_reference_match.go`): both sides parsed and normalised first.
 */
import type { SignedIdentity } from '../policy/schema.js';
import {
  isCanonical,
  parseGuestReference,
  parseNormalizedNamed,
  referenceName,
  referenceString,
  type DockerReference,
} from '../reference/index.js';
import type { Side } from './types.js';

export const MATCH_REFERENCE_FAILED = 'Match reference failed.';

/** The error text when the identity does not match, or undefined when it does. */
export function identityMismatch(
  rule: SignedIdentity,
  origin: DockerReference,
  signed: string,
  side: Side,
): string | undefined {
  return side === 'guest' ? guestMismatch(rule, origin, signed) : hostMismatch(rule, origin, signed);
}

/** oci-spec `Reference::try_from` (adds `:latest`); returns the parse error text instead of throwing. */
function guestParse(s: string): DockerReference | string {
  try {
    return parseGuestReference(s);
  } catch (e) {
    return (e as Error).message;
  }
}

function guestMismatch(rule: SignedIdentity, origin: DockerReference, signed: string): string | undefined {
  const whole = referenceString(origin);
  const sameRepository = (a: DockerReference): string | undefined => {
    const s = guestParse(signed);
    if (typeof s === 'string') return s;
    return referenceName(a) === referenceName(s) ? undefined : MATCH_REFERENCE_FAILED;
  };
  switch (rule.type) {
    case 'matchExact':
      if (origin.digest !== undefined) return 'Can not reference the image with the digest in matchExact policy.';
      return whole === signed ? undefined : MATCH_REFERENCE_FAILED;
    case 'matchRepoDigestOrExact':
      return repoDigestOrExactGuest(origin, signed);
    case 'matchRepository':
      return sameRepository(origin);
    case 'exactReference':
      return signed === rule.dockerReference ? undefined : MATCH_REFERENCE_FAILED;
    case 'exactRepository': {
      const s = guestParse(signed);
      if (typeof s === 'string') return s;
      return referenceName(s) === rule.dockerRepository ? undefined : MATCH_REFERENCE_FAILED;
    }
    case 'remapIdentity': {
      const remapped = whole.startsWith(rule.prefix) ? rule.signedPrefix + whole.slice(rule.prefix.length) : whole;
      const o = guestParse(remapped);
      if (typeof o === 'string') return o;
      return repoDigestOrExactGuest(o, signed);
    }
  }
}

function repoDigestOrExactGuest(origin: DockerReference, signed: string): string | undefined {
  if (origin.tag !== undefined && referenceString(origin) !== signed) return MATCH_REFERENCE_FAILED;
  if (origin.digest !== undefined) {
    const s = guestParse(signed);
    if (typeof s === 'string') return s;
    if (referenceName(origin) !== referenceName(s)) return MATCH_REFERENCE_FAILED;
  }
  return undefined;
}

const nameOnly = (r: DockerReference) => r.tag === undefined && r.digest === undefined;

function hostMismatch(rule: SignedIdentity, origin: DockerReference, signed: string): string | undefined {
  const rejected = `Signature for identity ${JSON.stringify(signed)} is not accepted`;
  let sig: DockerReference;
  try {
    sig = parseNormalizedNamed(signed);
  } catch {
    return rejected;
  }
  const ok = hostMatches(rule, origin, sig);
  return ok ? undefined : rejected;
}

function repoDigestOrExactHost(intended: DockerReference, sig: DockerReference): boolean {
  if (nameOnly(sig)) return false;
  if (intended.tag !== undefined) return referenceString(sig) === referenceString(intended);
  if (intended.digest !== undefined) return referenceName(sig) === referenceName(intended);
  return false;
}

function hostMatches(rule: SignedIdentity, intended: DockerReference, sig: DockerReference): boolean {
  switch (rule.type) {
    case 'matchExact':
      return !nameOnly(sig) && !nameOnly(intended) && referenceString(sig) === referenceString(intended);
    case 'matchRepoDigestOrExact':
      return repoDigestOrExactHost(intended, sig);
    case 'matchRepository':
      return referenceName(sig) === referenceName(intended);
    case 'exactReference': {
      const want = parseNormalizedNamed(rule.dockerReference);
      return !nameOnly(sig) && !nameOnly(want) && referenceString(sig) === referenceString(want);
    }
    case 'exactRepository':
      return referenceName(sig) === referenceName(parseNormalizedNamed(rule.dockerRepository));
    case 'remapIdentity': {
      const name = referenceName(intended);
      let target = intended;
      if (name === rule.prefix || name.startsWith(`${rule.prefix}/`)) {
        const replaced = referenceString(intended).replace(rule.prefix, rule.signedPrefix);
        if (!isCanonical(replaced)) return false;
        target = parseNormalizedNamed(replaced);
      }
      return repoDigestOrExactHost(target, sig);
    }
  }
}
