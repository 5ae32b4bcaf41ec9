/**
 * The KBS resources of a bundle, as bytes: security-policy (policy.json), sigstore-config (YAML with
 * `sigstore:` keys), credential (`{"auths": …}`, mode 0600) and any key resources the policy names
 * with `keyPath: kbs:///…`. Same bundle → same bytes: maps are written in sorted order.
 */
import { stringify } from 'yaml';
import { passwordSecret } from '../bundle/registries.js';
import { policyJsonBytes } from './policy-json.js';
import type { Bundle } from '../bundle/types.js';
import type { AuthsFile } from '../registry/auths-schema.js';
import { resourcePath, type ResourceId } from '../resource-id/resource-id.js';

export interface KbsResource {
  id: ResourceId;
  bytes: Uint8Array;
  mode: number;
}

export const SECRET_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

export async function renderResources(
  bundle: Bundle,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<KbsResource[]> {
  const own = (type: string): ResourceId => ({ repository: bundle.repository, type, tag: bundle.tag });
  const out: KbsResource[] = [
    { id: own('security-policy'), bytes: policyJsonBytes(bundle.policy), mode: PUBLIC_MODE },
    { id: own('sigstore-config'), bytes: Buffer.from(sigstoreYaml(bundle), 'utf8'), mode: PUBLIC_MODE },
  ];
  const auths = await credential(bundle, options.env ?? process.env);
  if (auths) out.push({ id: own('credential'), bytes: jsonBytes(auths), mode: SECRET_MODE });
  for (const key of bundle.keyResources) out.push({ id: key.id, bytes: key.bytes, mode: PUBLIC_MODE });
  return out.sort((a, b) => compare(resourcePath(a.id), resourcePath(b.id)));
}

/** Pretty JSON and a newline, UTF-8: the bytes of `JSON.stringify(value, null, 2) + '\n'`. */
export function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

function sigstoreYaml(bundle: Bundle): string {
  return stringify(bundle.sigstoreConfig, { lineWidth: 0 });
}

async function credential(bundle: Bundle, env: NodeJS.ProcessEnv): Promise<AuthsFile | undefined> {
  const withUser = bundle.registries.filter((r) => r.username !== undefined);
  if (withUser.length === 0) return undefined;
  const auths: AuthsFile['auths'] = {};
  for (const r of withUser) {
    const field = `registries[${JSON.stringify(r.registry)}].${r.passwordFile !== undefined ? 'passwordFile' : 'passwordEnv'}`;
    const password = await passwordSecret(r, env, { file: bundle.file, field });
    auths[r.registry] = { auth: Buffer.from(`${r.username}:${password}`, 'utf8').toString('base64') };
  }
  return { auths };
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
