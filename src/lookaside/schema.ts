/**
 * registries.d YAML (containers-registries.d(5)), the file the guest calls its sigstore config.
 * The host reads `lookaside`/`lookaside-staging` with `sigstore`/`sigstore-staging` as aliases;
 * the guest reads only `sigstore` (required in every entry). Unknown keys are ignored by both.
 */
import { z } from 'zod';

export const registryEntrySchema = z.looseObject({
  lookaside: z.string().optional(),
  'lookaside-staging': z.string().optional(),
  sigstore: z.string().optional(),
  'sigstore-staging': z.string().optional(),
  'use-sigstore-attachments': z.boolean().optional(),
});
export type RegistryEntry = z.infer<typeof registryEntrySchema>;

export const sigstoreConfigSchema = z.looseObject({
  'default-docker': registryEntrySchema.optional(),
  docker: z.record(z.string(), registryEntrySchema).optional(),
});
export type SigstoreConfig = z.infer<typeof sigstoreConfigSchema>;

/** Where the guest and podman look by default (euid 0). */
export const DEFAULT_SIGSTORE_BASE = 'file:///var/lib/containers/sigstore';
