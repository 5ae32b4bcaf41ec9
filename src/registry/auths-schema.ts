/**
 * Registry credentials (`auth.json`, the `credential` KBS resource):
 * `{"auths": {"<registry[/repo]>": {"auth": base64("user:pass")}}}`. The guest needs `auths`
 * and each `auth`; other keys (`identitytoken`, …) are ignored by both sides.
 */
import { z } from 'zod';

export const authEntrySchema = z.looseObject({ auth: z.string() });
export const authsFileSchema = z.looseObject({ auths: z.record(z.string(), authEntrySchema) });
export type AuthsFile = z.infer<typeof authsFileSchema>;
