/**
 * `audit --policy`: the signedBy keys a policy.json trusts, and for which scopes. keyData is embedded;
 * keyPath/keyPaths are read from this machine (relative paths against the policy file's directory);
 * a path that does not exist here (a guest path such as /run/image-security/…) is noted and skipped.
 */
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { readPublicKeyring, type Keyring } from '../keys/index.js';
import { policySchema, type PolicyRequirement } from '../policy/schema.js';
import { parseJsonInput } from '../util/json-input.js';
import { INPUT_LIMITS, readInputFile } from '../util/read-input.js';
import { preferredIssue } from '../util/preferred-issue.js';

export interface PolicyKeys {
  keyrings: Keyring[];
  /** Primary fingerprint → scopes (`default` or `docker:<scope>`) whose signedBy rules trust it. */
  scopesByFingerprint: Map<string, string[]>;
  notes: string[];
}

export async function readPolicyKeys(policyFile: string): Promise<PolicyKeys> {
  const text = (await readInputFile(policyFile, { what: 'policy', maxBytes: INPUT_LIMITS.policy })).toString('utf8');
  const json = parseJsonInput(text, { file: policyFile }, 'E_POLICY');
  const parsed = policySchema.safeParse(json);
  if (!parsed.success) {
    const issue = preferredIssue(parsed.error.issues)!;
    const field = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    const problem = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
    throw new InputError('E_POLICY', { file: policyFile, field: field.map(String).join('.') }, problem);
  }
  const rules: Array<[string, PolicyRequirement[]]> = [['default', parsed.data.default]];
  for (const [scope, reqs] of Object.entries(parsed.data.transports?.docker ?? {}))
    rules.push([`docker:${scope}`, reqs]);
  const out: PolicyKeys = { keyrings: [], scopesByFingerprint: new Map(), notes: [] };
  const base = path.dirname(policyFile);
  for (const [scope, reqs] of rules) {
    for (const [i, req] of reqs.entries()) {
      if (req.type !== 'signedBy') continue;
      const field =
        scope === 'default' ? `default[${i}]` : `transports.docker[${JSON.stringify(scope.slice(7))}][${i}]`;
      const sources: Array<{ bytes: Uint8Array; where: string }> = [];
      if (req.keyData !== undefined)
        sources.push({ bytes: Buffer.from(req.keyData, 'base64'), where: `${field}.keyData` });
      for (const p of [...(req.keyPath !== undefined ? [req.keyPath] : []), ...(req.keyPaths ?? [])]) {
        const file = path.resolve(base, p);
        const bytes = await readInputFile(file, { what: 'keyring', maxBytes: INPUT_LIMITS.keyring }).catch(
          (e: unknown) => {
            if (e instanceof InputError && e.code === 'E_FILE_NOT_FOUND') return undefined;
            throw e;
          },
        );
        if (bytes === undefined)
          out.notes.push(
            `${policyFile}: ${field}: keyPath ${p} is not readable here (a guest path?); its keys are not used`,
          );
        else sources.push({ bytes, where: file });
      }
      for (const source of sources) {
        const keyring = await readPublicKeyring(source.bytes, { file: policyFile, field: source.where });
        out.keyrings.push(keyring);
        for (const d of keyring.descriptions) {
          const list = out.scopesByFingerprint.get(d.fingerprint) ?? [];
          if (!list.includes(scope)) list.push(scope);
          out.scopesByFingerprint.set(d.fingerprint, list);
        }
      }
    }
  }
  return out;
}
