/**
 * Which `auths` entry a pull uses, chosen as image-rs does (`image-rs/src/auth/auth_config.rs`):
 * exact keys `registry/repo`, then each parent path, then `registry`; failing that, the first key whose
 * normalised registry equals the image's (`https://index.docker.io/v1/` → `index.docker.io` matches docker.io).
 */
import type { AuthsFile } from './auths-schema.js';
import type { DockerReference } from '../reference/index.js';
import { RegistryError } from './errors.js';

export interface SelectedCredential {
  /** The `auths` key the credential came from (safe to show). */
  key: string;
  username: string;
  password: string;
}

/** `quay.io/a/b` → [`quay.io/a/b`, `quay.io/a`, `quay.io`]. */
export function authKeyCandidates(ref: DockerReference): string[] {
  let key = `${ref.registry}/${ref.repository}`;
  const out = [key];
  for (let i = key.lastIndexOf('/'); i !== -1; i = key.lastIndexOf('/')) {
    key = key.slice(0, i);
    out.push(key);
  }
  return out;
}

/** docker.io and registry-1.docker.io are index.docker.io, as image-rs (oci-client) resolves them. */
export function normaliseRegistry(registry: string): string {
  return registry === 'docker.io' || registry === 'registry-1.docker.io' ? 'index.docker.io' : registry;
}

/** An auths key as a registry: `http(s)://` removed and, only then, the path after it dropped. */
export function normaliseAuthKey(key: string): string {
  const m = /^https?:\/\//.exec(key);
  const host = m ? (key.slice(m[0].length).split('/')[0] ?? '') : key;
  return normaliseRegistry(host);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** base64(user:pass) → parts; split at the first `:`; newlines trimmed from both ends of the password. */
export function decodeAuth(auth: string, key: string, registry: string): { username: string; password: string } {
  const problem = (what: string) =>
    new RegistryError('E_REGISTRY_CREDENTIAL', registry, `auths key ${JSON.stringify(key)}: ${what}`);
  if (!BASE64.test(auth)) throw problem('"auth" is not standard base64');
  const bytes = Buffer.from(auth, 'base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw problem('"auth" does not decode to UTF-8 text');
  }
  const colon = text.indexOf(':');
  if (colon === -1) throw problem('"auth" must be base64 of "username:password" (no ":" found)');
  return { username: text.slice(0, colon), password: text.slice(colon + 1).replace(/^\n+|\n+$/g, '') };
}

export function selectCredential(auths: AuthsFile, ref: DockerReference): SelectedCredential | undefined {
  const entries = auths.auths;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(entries, k);
  let key = authKeyCandidates(ref).find(has);
  if (key === undefined) {
    const wanted = normaliseRegistry(ref.registry);
    key = Object.keys(entries).find((k) => normaliseAuthKey(k) === wanted);
  }
  if (key === undefined) return undefined;
  const entry = entries[key];
  if (!entry) return undefined;
  return { key, ...decodeAuth(entry.auth, key, ref.registry) };
}
