/** Library entry point of the verifier: one image, one mode, a report. */
import type { SignatureBackend } from './backend.js';
import { findDivergences } from './divergence.js';
import { evaluateSide } from './evaluate.js';
import type { VerifyInputs } from './inputs.js';
import { SIDE_BY_MODE, type SideDecision, type VerifierMode, type VerifyReport } from './types.js';

export async function verifyImage(inputs: VerifyInputs, mode: VerifierMode, backend: SignatureBackend): Promise<VerifyReport> {
  const decisions: SideDecision[] = [];
  if (mode === 'both') {
    decisions.push(await evaluateSide(inputs, 'guest', backend), await evaluateSide(inputs, 'host', backend));
  } else {
    decisions.push(await evaluateSide(inputs, SIDE_BY_MODE[mode], backend));
  }
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
  };
}
