/**
 * policy.json as image-rs reads it (serde, no deny_unknown_fields): `default` and `transports`
 * required, unknown keys ignored, only the fields image-rs knows kept (so `keyPaths`, `fulcio`, …
 * disappear), any type error or unknown `type` ⇒ `Invalid image policy file`.
 *
 * The shapes are derived from the strict schemas in policy/schema.ts, never written again here.
 */
import { z } from 'zod';
import {
  insecureAcceptAnythingSchema,
  rejectSchema,
  signedBySchema,
  signedIdentitySchema,
  sigstoreSignedSchema,
  type PolicyRequirement,
} from '../policy/schema.js';
import type { PolicyReadResult } from './policy.js';

export const GUEST_INVALID_POLICY = 'Invalid image policy file';

/** Same object, unknown keys stripped instead of refused. */
function lenient<T extends z.ZodRawShape>(schema: { shape: T }) {
  return z.object(schema.shape);
}

const guestIdentitySchema = z.discriminatedUnion(
  'type',
  signedIdentitySchema.options.map((o: { shape: z.ZodRawShape }) => lenient(o)) as unknown as typeof signedIdentitySchema.options,
);

const guestSignedBySchema = lenient(signedBySchema.pick({ type: true, keyType: true, keyPath: true, keyData: true })).extend({
  signedIdentity: guestIdentitySchema.optional(),
});
const guestSigstoreSignedSchema = lenient(sigstoreSignedSchema.pick({ type: true, keyPath: true, keyData: true })).extend({
  signedIdentity: guestIdentitySchema.optional(),
});

export const guestRequirementSchema = z.discriminatedUnion('type', [
  lenient(insecureAcceptAnythingSchema),
  lenient(rejectSchema),
  guestSignedBySchema,
  guestSigstoreSignedSchema,
]);

const guestRequirementList = z.array(guestRequirementSchema);

export const guestPolicySchema = z.object({
  default: guestRequirementList,
  transports: z.record(z.string(), z.record(z.string(), guestRequirementList)),
});

/** serde reads `null` as None for the Option fields of a requirement: drop them before zod sees them. */
function nullsAsAbsent(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(nullsAsAbsent);
  if (value !== null && typeof value === 'object') {
    const isRequirement = 'type' in value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => !(isRequirement && v === null))
        .map(([k, v]) => [k, nullsAsAbsent(v)]),
    );
  }
  return value;
}

export function parseGuestPolicy(bytes: Uint8Array): PolicyReadResult {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return { ok: false, reason: GUEST_INVALID_POLICY, detail: (e as Error).message };
  }
  const top = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  const parsed = guestPolicySchema.safeParse(nullsAsAbsent(json));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.map(String).join('.') : '';
    return { ok: false, reason: GUEST_INVALID_POLICY, detail: `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}` };
  }
  const notes: string[] = [];
  for (const k of Object.keys(top ?? {})) {
    if (k !== 'default' && k !== 'transports') notes.push(`unknown top-level key ${JSON.stringify(k)} ignored by image-rs`);
  }
  return {
    ok: true,
    policy: {
      default: parsed.data.default as PolicyRequirement[],
      docker: parsed.data.transports.docker as Record<string, PolicyRequirement[]> | undefined,
      notes,
    },
  };
}
