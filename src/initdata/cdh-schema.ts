/**
 * The part of cdh.toml (inside initdata) that image-rs reads for signature checks: the `[image]` table of
 * guest-components' `ImageConfig`. A `…_uri` and its inline counterpart may both be set; the URI wins.
 * Other keys of cdh.toml are CDH's own and pass through unchecked.
 */
import { z } from 'zod';

export const cdhImageSchema = z
  .object({
    image_security_policy_uri: z.string().optional(),
    image_security_policy: z.string().optional(),
    sigstore_config_uri: z.string().optional(),
    sigstore_config: z.string().optional(),
    authenticated_registry_credentials_uri: z.string().optional(),
  })
  .loose();

export const cdhConfigSchema = z.object({ image: cdhImageSchema.optional() }).loose();
export type CdhImageConfig = z.infer<typeof cdhImageSchema>;
