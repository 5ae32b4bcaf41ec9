/**
 * containers-policy.json (policy.json): the one definition of its shape, as kbs-bundler writes it
 * and as containers/image reads it (unknown keys rejected). The guest (image-rs) reads a subset
 * and ignores unknown keys: `verify/` derives its lenient reading from these same schemas.
 */
import { z } from 'zod';

export const signedIdentitySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('matchExact') }),
  z.strictObject({ type: z.literal('matchRepoDigestOrExact') }),
  z.strictObject({ type: z.literal('matchRepository') }),
  z.strictObject({ type: z.literal('exactReference'), dockerReference: z.string() }),
  z.strictObject({ type: z.literal('exactRepository'), dockerRepository: z.string() }),
  z.strictObject({ type: z.literal('remapIdentity'), prefix: z.string(), signedPrefix: z.string() }),
]);
export type SignedIdentity = z.infer<typeof signedIdentitySchema>;
export const SIGNED_IDENTITY_TYPES = [
  'matchExact',
  'matchRepoDigestOrExact',
  'matchRepository',
  'exactReference',
  'exactRepository',
  'remapIdentity',
] as const;

export const insecureAcceptAnythingSchema = z.strictObject({ type: z.literal('insecureAcceptAnything') });
export const rejectSchema = z.strictObject({ type: z.literal('reject') });

export const signedBySchema = z.strictObject({
  type: z.literal('signedBy'),
  keyType: z.string(),
  keyPath: z.string().optional(),
  keyPaths: z.array(z.string()).optional(),
  /** Standard base64 (padded) of the keyring bytes, armored or binary. */
  keyData: z.string().optional(),
  signedIdentity: signedIdentitySchema.optional(),
});
export type SignedByRequirement = z.infer<typeof signedBySchema>;

const fulcioSchema = z.strictObject({
  caPath: z.string().optional(),
  caData: z.string().optional(),
  oidcIssuer: z.string().optional(),
  subjectEmail: z.string().optional(),
});
const pkiSchema = z.strictObject({
  caRootsPath: z.string().optional(),
  caRootsData: z.string().optional(),
  caIntermediatesPath: z.string().optional(),
  caIntermediatesData: z.string().optional(),
  subjectEmail: z.string().optional(),
  subjectHostname: z.string().optional(),
});

export const sigstoreSignedSchema = z.strictObject({
  type: z.literal('sigstoreSigned'),
  keyPath: z.string().optional(),
  keyPaths: z.array(z.string()).optional(),
  /** Host: base64 of the PEM. Guest: the PEM text itself (image-rs does not base64-decode). */
  keyData: z.string().optional(),
  keyDatas: z.array(z.string()).optional(),
  fulcio: fulcioSchema.optional(),
  pki: pkiSchema.optional(),
  rekorPublicKeyPath: z.string().optional(),
  rekorPublicKeyPaths: z.array(z.string()).optional(),
  rekorPublicKeyData: z.string().optional(),
  rekorPublicKeyDatas: z.array(z.string()).optional(),
  signedIdentity: signedIdentitySchema.optional(),
});
export type SigstoreSignedRequirement = z.infer<typeof sigstoreSignedSchema>;

export const signedBaseLayerSchema = z.strictObject({
  type: z.literal('signedBaseLayer'),
  baseLayerIdentity: signedIdentitySchema,
});

export const requirementSchema = z.discriminatedUnion('type', [
  insecureAcceptAnythingSchema,
  rejectSchema,
  signedBySchema,
  sigstoreSignedSchema,
  signedBaseLayerSchema,
]);
export type PolicyRequirement = z.infer<typeof requirementSchema>;
export const REQUIREMENT_TYPES = [
  'insecureAcceptAnything',
  'reject',
  'signedBy',
  'sigstoreSigned',
  'signedBaseLayer',
] as const;

export const policySchema = z.strictObject({
  default: z.array(requirementSchema),
  transports: z.record(z.string(), z.record(z.string(), z.array(requirementSchema))).optional(),
});
export type Policy = z.infer<typeof policySchema>;

/** The scope → requirements map of the docker transport (the only one the guest reads). */
export type DockerScopes = Record<string, PolicyRequirement[]>;
