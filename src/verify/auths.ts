/** The KBS credential resource (containers-auth.json) as the verifier reads it; no network code here. */
import { authsFileSchema, type AuthsFile } from '../registry/auths-schema.js';
import { InputError } from '../errors.js';
import { jsonProblem } from '../util/json-input.js';

export function parseAuths(bytes: Uint8Array, source: string): AuthsFile {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    const problem = jsonProblem(Buffer.from(bytes).toString('utf8'));
    throw new InputError('E_AUTHS', { file: source }, `is not JSON: ${problem} (Invalid registry auth file)`);
  }
  const parsed = authsFileSchema.safeParse(doc);
  if (!parsed.success)
    throw new InputError(
      'E_AUTHS',
      { file: source },
      'needs {"auths": {"<registry>": {"auth": base64("user:pass")}}} (Invalid registry auth file)',
    );
  return parsed.data;
}
