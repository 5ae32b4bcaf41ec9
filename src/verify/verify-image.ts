/** Library entry point of the verifier: one image, one mode, a report. */
import type { SignatureBackend } from './backend.js';
import { findDivergences } from './divergence.js';
import { evaluateSide, unloadablePolicyDenial } from './evaluate.js';
import { GuestNotGivenError, type VerifyInputs } from './inputs.js';
import { CURRENT_HOST_RELEASE, formatHostRelease } from '../releases/containers-image.js';
import { CURRENT_GUEST_RELEASE, formatGuestRelease } from '../releases/guest-components.js';
import { SIDE_BY_MODE, type Side, type SideDecision, type VerifierMode, type VerifyReport } from './types.js';

/**
 * Fail closed: whatever goes wrong while deciding is a denial that says what went wrong, except a
 * guest that was not given at all, which leaves nothing to decide on.
 */
async function decide(inputs: VerifyInputs, side: Side, backend: SignatureBackend): Promise<SideDecision> {
  try {
    return await evaluateSide(inputs, side, backend);
  } catch (e) {
    if (e instanceof GuestNotGivenError) throw e;
    const text = `verification failed: ${(e as Error).message}`;
    return {
      side,
      allowed: false,
      image: inputs.image,
      outcomes: [],
      message: text,
      chain: [text],
      code: 'E_INTERNAL',
      notes: [],
    };
  }
}

export async function verifyImage(
  inputs: VerifyInputs,
  mode: VerifierMode,
  backend: SignatureBackend,
): Promise<VerifyReport> {
  const decisions: SideDecision[] = [];
  for (const side of sidesOf(mode)) decisions.push(await decide(inputs, side, backend));
  return report(inputs, mode, decisions);
}

/**
 * The report when no side of `mode` can load the policy: then no pull gets as far as the registry, so the
 * decision needs no manifest (verify --fetch gives it without going to the network). Undefined otherwise.
 */
export function unloadablePolicyReport(inputs: VerifyInputs, mode: VerifierMode): VerifyReport | undefined {
  const decisions = sidesOf(mode).map((side) => unloadablePolicyDenial(inputs, side));
  if (!decisions.every((d): d is SideDecision => d !== undefined)) return undefined;
  return report(inputs, mode, decisions);
}

function sidesOf(mode: VerifierMode): Side[] {
  return mode === 'both' ? ['guest', 'host'] : [SIDE_BY_MODE[mode]];
}

function report(inputs: VerifyInputs, mode: VerifierMode, decisions: SideDecision[]): VerifyReport {
  const sides = decisions.map((d) => d.side);
  const [first, second] = decisions;
  const divergences = first && second ? findDivergences(first, second) : [];
  return {
    image: inputs.image,
    digest: inputs.manifest.digest,
    ...(inputs.manifest.listDigest ? { listDigest: inputs.manifest.listDigest } : {}),
    mode,
    // `both` answers the question the verifier exists for: will the guest pull it?
    allowed: first?.allowed ?? false,
    decisions,
    divergences,
    releases: releasesFollowed(inputs, sides),
  };
}

export function releasesFollowed(
  inputs: Pick<VerifyInputs, 'guestRelease' | 'hostRelease'>,
  sides: readonly Side[],
): VerifyReport['releases'] {
  return {
    ...(sides.includes('guest') ? { guest: formatGuestRelease(inputs.guestRelease ?? CURRENT_GUEST_RELEASE) } : {}),
    ...(sides.includes('host') ? { host: formatHostRelease(inputs.hostRelease ?? CURRENT_HOST_RELEASE) } : {}),
  };
}
