/**
 * The initdata TOML as kata reads it (`kata-types` `InitData`): `version` "0.1.0", `algorithm` one of
 * sha256/sha384/sha512 (kata refuses other spellings such as trustee's `sha-256`), and `[data]` whose
 * every value is a string (`aa.toml`, `cdh.toml`, `policy.rego`).
 */
import { z } from 'zod';

export const INITDATA_VERSION = '0.1.0';
export const INITDATA_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type InitdataAlgorithm = (typeof INITDATA_ALGORITHMS)[number];

export const initdataSchema = z.object({
  version: z.literal(INITDATA_VERSION, { error: `unsupported version: kata takes only "${INITDATA_VERSION}"` }),
  algorithm: z.enum(INITDATA_ALGORITHMS, {
    error: `unsupported algorithm: kata takes ${INITDATA_ALGORITHMS.join(', ')} (not e.g. sha-256)`,
  }),
  data: z.record(z.string(), z.string({ error: 'every [data] value must be a string' })),
});
export type InitdataDocument = z.infer<typeof initdataSchema>;
