/**
 * policy.json as each side reads it. Both readings come from the zod schemas in policy/schema.ts:
 * the guest's is a lenient variant derived from them (policy-guest.ts), the host's is the strict
 * schema plus containers/image's own checks (policy-host.ts).
 */
import type { DockerScopes, PolicyRequirement } from '../policy/schema.js';
import type { Side } from './types.js';
import { parseGuestPolicy } from './policy-guest.js';
import { parseHostPolicy } from './policy-host.js';

export interface ParsedPolicy {
  default: PolicyRequirement[];
  /** `transports.docker`; the only transport either side consults for registry images. */
  docker: DockerScopes | undefined;
  /** Problems the side tolerates but a user should know about (ignored keys, …). */
  notes: string[];
}

export type PolicyReadResult = { ok: true; policy: ParsedPolicy } | { ok: false; reason: string; detail?: string };

export function parsePolicy(bytes: Uint8Array, side: Side): PolicyReadResult {
  return side === 'guest' ? parseGuestPolicy(bytes) : parseHostPolicy(bytes);
}
