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
} from '../policy/schema.js';
import type { PolicyReadResult } from './policy.js';
import { JsonSyntaxError, parseJsonTree, type JsonNode } from '../json/json-tree.js';
import { decodeJsonBytes, serdeRead, type SerdeShape } from '../json/serde-read.js';

export const GUEST_INVALID_POLICY = 'Invalid image policy file';

/** Same object, unknown keys stripped instead of refused. */
function lenient<T extends z.ZodRawShape>(schema: { shape: T }) {
  return z.object(schema.shape);
}

const guestIdentitySchema = z.discriminatedUnion(
  'type',
  signedIdentitySchema.options.map((o: { shape: z.ZodRawShape }) =>
    lenient(o),
  ) as unknown as typeof signedIdentitySchema.options,
);

const guestSignedBySchema = lenient(
  signedBySchema.pick({ type: true, keyType: true, keyPath: true, keyData: true }),
).extend({
  signedIdentity: guestIdentitySchema.optional(),
});
const guestSigstoreSignedSchema = lenient(
  sigstoreSignedSchema.pick({ type: true, keyPath: true, keyData: true }),
).extend({
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

const UNIT_REQUIREMENTS = ['insecureAcceptAnything', 'reject'];

/** serde reads `null` as None for the Option fields of a requirement: drop them before zod sees them. */
function nullsAsAbsent(value: unknown): unknown {
  // An internally tagged enum may also be a sequence whose first element is the tag: `["reject"]`.
  if (Array.isArray(value) && value.length === 1 && UNIT_REQUIREMENTS.includes(value[0] as string))
    return { type: value[0] as string };
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

/**
 * serde refuses a repeated field of a struct (the policy, each requirement, its signedIdentity) but
 * keeps the last entry of a map (transports, scopes). Returns the first repeated struct field.
 */
function duplicateInStruct(node: JsonNode): string | undefined {
  if (node.kind !== 'object') return undefined;
  const seen = new Set<string>();
  for (const [key, value] of node.entries) {
    if (seen.has(key)) return key;
    seen.add(key);
    const d =
      key === 'default'
        ? duplicateInList(value)
        : key === 'transports'
          ? duplicateInMap(value, 2)
          : key === 'signedIdentity'
            ? duplicateInStruct(value)
            : undefined;
    if (d) return d;
  }
  return undefined;
}

function duplicateInList(node: JsonNode): string | undefined {
  if (node.kind !== 'array') return undefined;
  for (const item of node.items) {
    const d = duplicateInStruct(item);
    if (d) return d;
  }
  return undefined;
}

function duplicateInMap(node: JsonNode, depth: number): string | undefined {
  if (node.kind !== 'object') return undefined;
  for (const [, value] of node.entries) {
    const d = depth > 1 ? duplicateInMap(value, depth - 1) : duplicateInList(value);
    if (d) return d;
  }
  return undefined;
}

/** `Policy` as serde reads it: requirements are captured whole first (an internally tagged enum). */
const POLICY_SHAPE: SerdeShape = {
  type: 'struct',
  name: 'Policy',
  fields: {
    default: { type: 'seq', item: { type: 'value' } },
    transports: { type: 'map', value: { type: 'map', value: { type: 'seq', item: { type: 'value' } } } },
  },
};

export function parseGuestPolicy(bytes: Uint8Array): PolicyReadResult {
  let json: unknown;
  let tree: JsonNode;
  try {
    const text = decodeJsonBytes(bytes);
    json = serdeRead(text, POLICY_SHAPE);
    tree = parseJsonTree(text);
    const duplicate = duplicateInStruct(tree);
    if (duplicate) return { ok: false, reason: GUEST_INVALID_POLICY, detail: `duplicate field \`${duplicate}\`` };
  } catch (e) {
    return {
      ok: false,
      reason: GUEST_INVALID_POLICY,
      detail: e instanceof JsonSyntaxError ? e.serdeText : (e as Error).message,
    };
  }
  const parsed = guestPolicySchema.safeParse(nullsAsAbsent(json));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.map(String).join('.') : '';
    return {
      ok: false,
      reason: GUEST_INVALID_POLICY,
      detail: `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}`,
    };
  }
  const notes: string[] = [];
  for (const [k] of tree.kind === 'object' ? tree.entries : []) {
    if (k !== 'default' && k !== 'transports')
      notes.push(`unknown top-level key ${JSON.stringify(k)} ignored by image-rs`);
  }
  return {
    ok: true,
    policy: {
      default: parsed.data.default,
      docker: parsed.data.transports.docker,
      notes,
    },
  };
}
