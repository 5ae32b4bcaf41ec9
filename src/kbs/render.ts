/**
 * The KBS resources of a bundle, as bytes: security-policy (policy.json), sigstore-config (YAML with
 * `sigstore:` keys), credential (`{"auths": …}`, mode 0600) and any key resources the policy names
 * with `keyPath: kbs:///…`. Same bundle → same bytes: maps are written in sorted order.
 */
import { stringify } from 'yaml';
import { passwordSecret } from '../bundle/registries.js';
import type { Bundle } from '../bundle/types.js';
import type { AuthsFile } from './auths-schema.js';
import { prettyJsonBytes, prettyJsonChunks } from './pretty-json.js';
import { resourcePath, type ResourceId } from '../resource-id/resource-id.js';

export interface KbsResource {
  id: ResourceId;
  bytes: Uint8Array;
  mode: number;
}

export const SECRET_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

/**
 * The policy of 1,000 scopes is 2.6 MB, nearly all of it one keyData string repeated. It is kept as
 * chunks (the repeated part one shared Buffer) and written with writev; `bytes` joins them only
 * when something reads it (tarball, k8s, kbs-client script, library callers). Writing 2.6 MB into
 * fresh memory first costs 10–40 ms on the bench machine, more than the rest of the write.
 */
const chunksOf = new WeakMap<KbsResource, readonly Uint8Array[]>();

/** The resource's bytes as chunks, in order (one chunk for most resources). */
export function resourceChunks(r: KbsResource): readonly Uint8Array[] {
  return chunksOf.get(r) ?? [r.bytes];
}

export function resourceSize(r: KbsResource): number {
  let size = 0;
  for (const c of resourceChunks(r)) size += c.length;
  return size;
}

function chunkedResource(id: ResourceId, chunks: readonly Uint8Array[], mode: number): KbsResource {
  let bytes: Uint8Array | undefined;
  const r = { id } as KbsResource;
  Object.defineProperty(r, 'bytes', {
    enumerable: true,
    get: () => (bytes ??= chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
    // Still a plain, writable field for callers: new bytes replace the chunks.
    set: (value: Uint8Array) => {
      bytes = value;
      chunksOf.delete(r);
    },
  });
  r.mode = mode;
  chunksOf.set(r, chunks);
  return r;
}

export async function renderResources(
  bundle: Bundle,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<KbsResource[]> {
  const own = (type: string): ResourceId => ({ repository: bundle.repository, type, tag: bundle.tag });
  const out: KbsResource[] = [
    chunkedResource(own('security-policy'), prettyJsonChunks(bundle.policy), PUBLIC_MODE),
    { id: own('sigstore-config'), bytes: Buffer.from(sigstoreYaml(bundle), 'utf8'), mode: PUBLIC_MODE },
  ];
  const auths = await credential(bundle, options.env ?? process.env);
  if (auths) out.push({ id: own('credential'), bytes: jsonBytes(auths), mode: SECRET_MODE });
  for (const key of bundle.keyResources) out.push({ id: key.id, bytes: key.bytes, mode: PUBLIC_MODE });
  return out.sort((a, b) => compare(resourcePath(a.id), resourcePath(b.id)));
}

/** Pretty JSON and a newline, UTF-8: the bytes of `JSON.stringify(value, null, 2) + '\n'`. */
export function jsonBytes(value: unknown): Uint8Array {
  return prettyJsonBytes(value);
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
