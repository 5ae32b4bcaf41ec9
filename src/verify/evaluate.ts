/**
 * One side's decision on one image: reference, policy, scope, then every requirement of the
 * selected list in order (AND, first failure decides). Fail closed: any error is a denial.
 */
import {
  familiarString,
  parseGuestReference,
  parseReference,
  referenceString,
  digestProblem,
  type DockerReference,
} from '../reference/index.js';
import type { ErrorCode } from '../error-codes.js';
import type { PolicyRequirement } from '../policy/schema.js';
import type { SignatureBackend } from './backend.js';
import type { EvalContext } from './context.js';
import { describeRequirement } from './describe.js';
import { GuestNotGivenError, type VerifyInputs } from './inputs.js';
import { parsePolicy, type PolicyReadResult } from './policy.js';
import { selectRequirements } from './scope.js';
import { evaluateSignedBy } from './signed-by.js';
import { evaluateSigstoreSigned } from './sigstore-signed.js';
import { parseSigstoreConfig } from './sigstore-config.js';
import { runtimeView } from './runtime-view.js';
import { CURRENT_HOST_RELEASE } from '../releases/containers-image.js';
import { CURRENT_GUEST_RELEASE, guestHas, guestOpenPgp } from '../releases/guest-components.js';
import type { RequirementOutcome, Side, SideDecision } from './types.js';

export const GUEST_PREFIX = 'Image policy rejected: ';
export const HOST_PREFIX = 'Source image rejected: ';

function imageName(origin: DockerReference, side: Side): string {
  return side === 'guest' ? referenceString(origin) : `docker://${familiarString(origin)}`;
}

function denied(
  side: Side,
  image: string,
  message: string,
  chain: string[],
  code: ErrorCode,
  extra: Partial<SideDecision> = {},
): SideDecision {
  return { side, allowed: false, image, outcomes: [], message, chain, code, notes: [], ...extra };
}

/**
 * The guest parses the reference when it pulls, then parses its canonical string again when it checks
 * the signature: a reference only the first parse accepts (`Mirror/app`) fails the check.
 */
function guestOrigin(image: string): DockerReference {
  return parseGuestReference(referenceString(parseGuestReference(image)));
}

function policyLoadDenial(
  inputs: Pick<VerifyInputs, 'policy'>,
  side: Side,
  image: string,
  read: Extract<PolicyReadResult, { ok: false }>,
): SideDecision {
  const text =
    side === 'guest'
      ? `Initialize signature validator failed: ${read.reason}`
      : `invalid policy in ${JSON.stringify(inputs.policy.source)}: ${read.reason}`;
  return denied(side, image, text, [text, ...(read.detail ? [read.detail] : [])], 'E_POLICY_INVALID');
}

/**
 * The side's denial when it cannot load the policy at all: the guest builds its signature validator (and
 * podman its policy context) before any pull, so every pull fails without the registry being contacted.
 * Undefined when the side can load it.
 */
export function unloadablePolicyDenial(
  inputs: Pick<VerifyInputs, 'policy' | 'image'>,
  side: Side,
): SideDecision | undefined {
  const read = parsePolicy(inputs.policy.bytes, side);
  return read.ok ? undefined : policyLoadDenial(inputs, side, inputs.image, read);
}

export async function evaluateSide(inputs: VerifyInputs, side: Side, backend: SignatureBackend): Promise<SideDecision> {
  // The guest reads its rootfs with the agent's tmpfs mounted over /run; the host reads files as they are.
  if (side === 'guest') inputs = { ...inputs, rootfs: runtimeView(inputs.rootfs) };
  let origin: DockerReference;
  try {
    origin = side === 'guest' ? guestOrigin(inputs.image) : parseReference(inputs.image);
  } catch (e) {
    const text = side === 'guest' ? `Failed to parse image reference: ${inputs.image}` : (e as Error).message;
    return denied(side, inputs.image, text, [text, (e as Error).message], 'E_REFERENCE');
  }
  const image = imageName(origin, side);
  if (side === 'host' && origin.tag !== undefined && origin.digest !== undefined) {
    const text = 'Docker references with both a tag and digest are currently not supported';
    return denied(side, image, text, [text], 'E_REFERENCE');
  }
  const digest = inputs.manifest.digest;
  const badDigest = digestProblem(digest);
  if (badDigest) {
    const text =
      side === 'guest'
        ? `Illegal image digest: ${digest}`
        : `invalid manifest digest ${JSON.stringify(digest)}: ${badDigest}`;
    return denied(side, image, text, [text, badDigest], 'E_DIGEST_FORMAT');
  }
  if (origin.digest !== undefined && origin.digest !== digest) {
    const text = `manifest digest ${digest} does not match the reference digest ${origin.digest}`;
    return denied(side, image, text, [text], 'E_DIGEST');
  }

  const policyRead = parsePolicy(inputs.policy.bytes, side);
  if (!policyRead.ok) return policyLoadDenial(inputs, side, image, policyRead);
  const policy = policyRead.policy;

  let sigstoreConfig;
  if (inputs.sigstoreConfig) {
    const read = parseSigstoreConfig(inputs.sigstoreConfig.bytes, side, inputs.sigstoreConfig.source);
    if (read.ok) sigstoreConfig = read.config;
    else {
      // Both read it before any image: the guest when its client is built, the host when it opens the registry.
      const text = side === 'guest' ? `Initialize signature validator failed: ${read.reason}` : read.reason;
      return denied(side, image, text, [text, ...(read.detail ? [read.detail] : [])], 'E_SIGSTORE_CONFIG_INVALID');
    }
  }

  const guestRelease = inputs.guestRelease ?? CURRENT_GUEST_RELEASE;
  const selected = selectRequirements(policy, origin);
  const rules = selected.requirements.map(describeRequirement);
  const base = { side, image, scope: selected.scope, rules, notes: [...policy.notes] };
  if (selected.requirements.length === 0 && !guestHas(guestRelease, 'emptyRequirementListAllows')) {
    const text = `${GUEST_PREFIX}List of verification policy requirements must not be empty`;
    return { ...base, allowed: false, outcomes: [], message: text, chain: [text], code: 'EMPTY_LIST_DENIES' };
  }
  if (selected.requirements.length === 0) {
    // Only the guest gets here: the host refuses an empty list when it parses the policy.
    return {
      ...base,
      allowed: true,
      outcomes: [],
      message: 'allowed: the requirement list is empty (image-rs allows the image)',
      chain: [],
      code: 'EMPTY_LIST_ALLOWS',
    };
  }

  const ctx: EvalContext = {
    side,
    inputs,
    backend,
    origin,
    digest,
    sigstoreConfig,
    now: inputs.now ?? new Date(),
    guestRelease,
    hostRelease: inputs.hostRelease ?? CURRENT_HOST_RELEASE,
    guestOpenPgp: guestOpenPgp(guestRelease),
  };
  const outcomes: RequirementOutcome[] = [];
  for (const [index, req] of selected.requirements.entries()) {
    let outcome: RequirementOutcome;
    try {
      outcome = {
        index,
        type: req.type,
        rule: describeRequirement(req),
        ...(await evaluateRequirement(req, ctx, origin)),
      };
    } catch (e) {
      if (e instanceof GuestNotGivenError) throw e;
      outcome = {
        index,
        type: req.type,
        rule: describeRequirement(req),
        allowed: false,
        reason: `internal error: ${(e as Error).message}`,
        signatures: [],
        notes: [],
      };
    }
    outcomes.push(outcome);
    if (!outcome.allowed) {
      const { message, chain } = denialMessage(side, req, outcome.reason ?? 'denied');
      return { ...base, allowed: false, outcomes, message, chain, code: `DENIED_BY_${req.type}` };
    }
  }
  return { ...base, allowed: true, outcomes, message: 'allowed', chain: [] };
}

async function evaluateRequirement(
  req: PolicyRequirement,
  ctx: EvalContext,
  origin: DockerReference,
): Promise<Omit<RequirementOutcome, 'index' | 'type' | 'rule'>> {
  const done = (allowed: boolean, reason?: string) => ({
    allowed,
    ...(reason !== undefined ? { reason } : {}),
    signatures: [],
    notes: [],
  });
  switch (req.type) {
    case 'insecureAcceptAnything':
      return done(true);
    case 'reject':
      return done(
        false,
        ctx.side === 'guest'
          ? `Policy \`reject\` rejects image ${referenceString(origin)}`
          : `Running image docker://${familiarString(origin)} is rejected by policy.`,
      );
    case 'signedBy':
      return evaluateSignedBy(req, ctx);
    case 'sigstoreSigned':
      return evaluateSigstoreSigned(req, ctx);
    case 'signedBaseLayer':
      return done(false, 'signedBaseLayer not implemented yet!');
  }
}

/** What the user of each side sees, and the chain of causes behind it. */
function denialMessage(side: Side, req: PolicyRequirement, reason: string): { message: string; chain: string[] } {
  if (side === 'host') return { message: `${HOST_PREFIX}${reason}`, chain: [`${HOST_PREFIX}${reason}`] };
  const context =
    req.type === 'signedBy'
      ? 'rejected by `signedBy` rule'
      : req.type === 'sigstoreSigned'
        ? 'rejected by `sigstoreSigned` rule'
        : undefined;
  if (context)
    return {
      message: `${GUEST_PREFIX}Denied by policy: ${context}`,
      chain: [`${GUEST_PREFIX}Denied by policy: ${context}`, reason],
    };
  return {
    message: `${GUEST_PREFIX}Denied by policy: ${reason}`,
    chain: [`${GUEST_PREFIX}Denied by policy: ${reason}`],
  };
}
