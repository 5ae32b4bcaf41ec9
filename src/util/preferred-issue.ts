/** Which of zod's issues to report when a strict object fails. */
import type { z } from 'zod';

/**
 * An unknown field comes first: `keyz:` beside a missing `keys:` is a typo of it, and naming the typo
 * is what lets the user fix it (zod lists the missing field first).
 */
export function preferredIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  return issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
}
