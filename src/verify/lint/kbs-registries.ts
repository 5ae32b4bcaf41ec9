/**
 * The registries a KBS repository itself names, for checks that need them when no bundle.yaml gives
 * `registries:`: the keys of the credential resource's `auths` and the `docker:` keys of the sigstore
 * config, each reduced to its `host[:port]`. A resource that is missing or does not parse names none
 * (lint reports a broken resource on its own).
 */
import { authsFileSchema } from '../../registry/auths-schema.js';
import type { ResourceSource } from '../inputs.js';
import { parseSigstoreConfig } from '../sigstore-config.js';

export interface NamedRegistries {
  /** `host[:port]`, sorted, each once. */
  registries: string[];
  /** The resources that named each registry, as `kbs:///` URIs. */
  sources: Map<string, string[]>;
}

/** `host[:port]` of an auths key (`reg:5000`, `reg:5000/ns/app`, or the legacy `https://reg/v1/`). */
function hostOf(key: string): string {
  return key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '';
}

function authsKeys(bytes: Uint8Array): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return [];
  }
  const parsed = authsFileSchema.safeParse(doc);
  return parsed.success ? Object.keys(parsed.data.auths) : [];
}

function sigstoreKeys(bytes: Uint8Array): string[] {
  const read = parseSigstoreConfig(bytes, 'host');
  return read.ok ? Object.keys(read.config.docker ?? {}) : [];
}

export async function registriesNamedByKbs(
  resources: ResourceSource,
  repository: string,
  tag: string,
): Promise<NamedRegistries> {
  const sources = new Map<string, string[]>();
  const add = (keys: string[], id: string) => {
    for (const host of keys.map(hostOf)) {
      if (host === '' || host.startsWith('*.')) continue;
      const named = sources.get(host) ?? [];
      if (!named.includes(`kbs:///${id}`)) named.push(`kbs:///${id}`);
      sources.set(host, named);
    }
  };
  const credentialId = `${repository}/credential/${tag}`;
  const credential = await resources.get(credentialId);
  if (credential) add(authsKeys(credential), credentialId);
  const sigstoreId = `${repository}/sigstore-config/${tag}`;
  const sigstore = await resources.get(sigstoreId);
  if (sigstore) add(sigstoreKeys(sigstore), sigstoreId);
  return { registries: [...sources.keys()].sort(), sources };
}
