/**
 * bundle.yaml: the one definition of its shape. Strict everywhere (an unknown field is an error,
 * so a typo never silently drops a rule). Semantic checks that need the file system or other
 * fields (scopes, key files, password sources) live in load.ts; this file only says what may be
 * written where. Paths are relative to the bundle file.
 */
import { z } from 'zod';
import { signedIdentitySchema } from '../policy/schema.js';

const nonEmpty = z.string().min(1, { error: 'must not be empty' });

/** A path to a file on the machine running kbs-bundler, relative to bundle.yaml. */
const localFile = nonEmpty;

/** Where the guest gets a key from. Absent = embedded as keyData (what the openEuler guide does). */
const keyPath = nonEmpty.optional();

const rejectRule = z.strictObject({ type: z.literal('reject') });
const acceptRule = z.strictObject({ type: z.literal('insecureAcceptAnything') });

const signedByRule = z.strictObject({
  type: z.literal('signedBy'),
  /** One or more GPG public key files (`gpg --export` or `gpg -a --export`). */
  keys: z.array(localFile).min(1, { error: 'give at least one public key file' }),
  keyPath,
  signedIdentity: signedIdentitySchema.optional(),
  allowExpired: z.boolean().optional(),
  allowRevoked: z.boolean().optional(),
});

const sigstoreSignedRule = z.strictObject({
  type: z.literal('sigstoreSigned'),
  /** A cosign public key (PEM, `cosign.pub`). */
  key: localFile,
  keyPath,
  signedIdentity: signedIdentitySchema.optional(),
});

export const RULE_TYPES = ['reject', 'insecureAcceptAnything', 'signedBy', 'sigstoreSigned'] as const;

export const ruleSchema = z.discriminatedUnion('type', [rejectRule, acceptRule, signedByRule, sigstoreSignedRule]);
export type BundleRule = z.infer<typeof ruleSchema>;
export type SignedByRule = z.infer<typeof signedByRule>;
export type SigstoreSignedRule = z.infer<typeof sigstoreSignedRule>;

export const EMPTY_RULES_PROBLEM =
  'empty rule list: the guest (image-rs) would allow every image while the host refuses the policy; write [{type: insecureAcceptAnything}] or [{type: reject}]';

const ruleList = z.array(ruleSchema).min(1, { error: EMPTY_RULES_PROBLEM });

const policySection = z.strictObject({
  /** Rules for images no scope matches. Default: reject. */
  default: ruleList.optional(),
  /** scope → rules: registry, registry:port, namespace, repository, repository:tag, `*.domain`. */
  scopes: z.record(z.string(), ruleList).optional(),
});

const storeSection = z.strictObject({
  /** `default-docker` base; default file:///var/lib/containers/sigstore, `null` for none. */
  default: nonEmpty.nullable().optional(),
  /** scope → `file://` base. */
  scopes: z.record(z.string(), nonEmpty).optional(),
  /** Allow http(s) bases, which the guest cannot read (host-only setups). */
  allowHttp: z.boolean().optional(),
});

const registrySection = z.strictObject({
  username: nonEmpty.optional(),
  /** File holding the password (one trailing newline is dropped). */
  passwordFile: localFile.optional(),
  /** Environment variable holding the password. */
  passwordEnv: nonEmpty.optional(),
  /** PEM CA certificate(s) the registry's TLS certificate chains to. */
  caFile: localFile.optional(),
  /** IP address for a guest /etc/hosts entry (written by `stage`). */
  address: nonEmpty.optional(),
});
export type RegistrySection = z.infer<typeof registrySection>;

const kbsSection = z.strictObject({
  repository: nonEmpty.optional(),
  tag: nonEmpty.optional(),
});

const initdataSection = z.strictObject({
  /** Put the policy and sigstore config into initdata's cdh.toml (measured with it) instead of naming KBS URIs. */
  inline: z.boolean().optional(),
  /** The guest's guest-components release; older than v0.17.0 reads no inline values, so it gets the URIs. */
  guestRelease: z
    .string()
    .regex(/^v?\d{1,3}\.\d{1,3}(\.\d{1,3})?$/, { error: 'expected a guest-components release, e.g. v0.21.0' })
    .optional(),
});

export const bundleSchema = z.strictObject({
  kbs: kbsSection.optional(),
  /** How `render initdata` writes cdh.toml's [image] table. */
  initdata: initdataSection.optional(),
  policy: policySection,
  signatureStores: storeSection.optional(),
  /** Host-side signature stores (lookaside dirs or signatures.tar) that `stage` copies into the guest. */
  signatures: z.array(localFile).optional(),
  registries: z.record(z.string(), registrySection).optional(),
});
export type BundleFile = z.infer<typeof bundleSchema>;
