/** loadBundle: bundle.yaml → a validated Bundle, or one InputError line (`file: field: problem`). */
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { readYaml, readYamlFile } from '../yaml/read-yaml.js';
import { assertSegment, resourcePath } from '../resource-id/resource-id.js';
import { parseGuestRelease } from '../releases/guest-components.js';
import type { Policy, PolicyRequirement } from '../policy/schema.js';
import { existingPath, fail, type BundleContext } from './files.js';
import { loadRegistries } from './registries.js';
import { loadRule, type LoadedRule } from './rules.js';
import { bundleSchema, type BundleFile, type BundleRule } from './schema.js';
import { scopeProblem } from './scope.js';
import { buildSigstoreConfig } from './stores.js';
import { issueToInputError } from './zod-issue.js';
import type { Bundle, GuestKeyFile, KeyResource, KeyringEntry } from './types.js';

export const DEFAULT_REPOSITORY = 'default';
export const DEFAULT_TAG = 'test';
/** The resource types the bundle itself writes; a key resource may not take their place. */
export const BUNDLE_RESOURCE_TYPES = ['security-policy', 'sigstore-config', 'credential'] as const;

export async function loadBundle(file: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<Bundle> {
  const ctx: BundleContext = {
    file,
    dir: path.dirname(path.resolve(file)),
    env: options.env ?? process.env,
    keyrings: new Map(),
    files: new Map(),
  };
  const raw = await parseBundleFile(file);

  const repository = raw.kbs?.repository ?? DEFAULT_REPOSITORY;
  const tag = raw.kbs?.tag ?? DEFAULT_TAG;
  assertSegment(repository, { file, field: 'kbs.repository' });
  assertSegment(tag, { file, field: 'kbs.tag' });

  const loaded: LoadedRule[] = [];
  const keyrings: KeyringEntry[] = [];
  // A rule repeated under many scopes (one signer for a whole registry) is read and checked once;
  // a rule that fails throws at its first use, so only loaded rules are kept.
  const byRule = new Map<string, LoadedRule>();
  const loadList = async (scope: string, rules: BundleRule[], field: string) => {
    const out: LoadedRule[] = [];
    for (const [i, rule] of rules.entries()) {
      const key = JSON.stringify(rule);
      let one = byRule.get(key);
      if (one === undefined) byRule.set(key, (one = await loadRule(ctx, rule, `${field}[${i}]`)));
      out.push(one);
      for (const entry of one.keyrings) keyrings.push({ scope, ...entry });
    }
    loaded.push(...out);
    return out;
  };
  const defaults = await loadList('default', raw.policy.default ?? [{ type: 'reject' }], 'policy.default');
  const guestScopes: Record<string, PolicyRequirement[]> = {};
  const hostScopes: Record<string, PolicyRequirement[]> = {};
  for (const scope of Object.keys(raw.policy.scopes ?? {}).sort()) {
    const field = `policy.scopes[${JSON.stringify(scope)}]`;
    const problem = scopeProblem(scope);
    if (problem !== undefined) throw fail(ctx, 'E_SCOPE', field, problem);
    const rules = await loadList(scope, raw.policy.scopes![scope]!, field);
    guestScopes[scope] = rules.map((r) => r.guest);
    hostScopes[scope] = rules.map((r) => r.host);
  }
  const policy: Policy = { default: defaults.map((r) => r.guest), transports: { docker: guestScopes } };
  const hostPolicy: Policy = { default: defaults.map((r) => r.host), transports: { docker: hostScopes } };

  const keyResources = uniqueKeyResources(
    ctx,
    loaded.flatMap((r) => r.keyResources),
    { repository, tag },
  );
  const guestKeyFiles = uniqueGuestKeyFiles(
    ctx,
    loaded.flatMap((r) => r.guestKeyFiles),
  );
  const sigstoreConfig = buildSigstoreConfig(ctx, raw.signatureStores);
  const registries = await loadRegistries(ctx, raw.registries);
  const signatureSources: string[] = [];
  for (const [i, source] of (raw.signatures ?? []).entries()) {
    signatureSources.push(await existingPath(ctx, source, `signatures[${i}]`));
  }

  return {
    file,
    repository,
    tag,
    policy,
    hostPolicy,
    sigstoreConfig,
    registries,
    guestKeyFiles,
    keyrings,
    keyResources,
    signatureSources,
    ...(raw.initdata
      ? {
          initdata: {
            inline: raw.initdata.inline ?? false,
            ...(raw.initdata.guestRelease !== undefined
              ? { guestRelease: parseGuestRelease(raw.initdata.guestRelease) }
              : {}),
          },
        }
      : {}),
  };
}

async function parseBundleFile(file: string): Promise<BundleFile> {
  const parsed = readYaml(await readYamlFile(file, 'bundle file'));
  if (!parsed.ok) {
    const where = parsed.line !== undefined ? `line ${parsed.line}, column ${parsed.column}` : undefined;
    throw new InputError('E_YAML', { file, ...(where ? { field: where } : {}) }, parsed.problem);
  }
  const value = parsed.value;
  if (value === null || value === undefined)
    throw new InputError('E_BUNDLE_SCHEMA', { file }, 'is empty; a bundle needs at least a policy: section');
  const checked = bundleSchema.safeParse(value);
  if (!checked.success) {
    throw issueToInputError(file, checked.error.issues);
  }
  return checked.data;
}

function uniqueKeyResources(
  ctx: BundleContext,
  list: KeyResource[],
  own: { repository: string; tag: string },
): KeyResource[] {
  const byPath = new Map<string, KeyResource>();
  for (const r of list) {
    const p = resourcePath(r.id);
    if (
      r.id.repository === own.repository &&
      r.id.tag === own.tag &&
      (BUNDLE_RESOURCE_TYPES as readonly string[]).includes(r.id.type)
    ) {
      throw fail(
        ctx,
        'E_KEY_PATH',
        'policy',
        `keyPath kbs:///${p} is the bundle's own ${r.id.type} resource; choose another type (e.g. gpg-public-key)`,
      );
    }
    const seen = byPath.get(p);
    if (seen && !Buffer.from(seen.bytes).equals(Buffer.from(r.bytes))) {
      throw fail(
        ctx,
        'E_KEY_PATH',
        'policy',
        `keyPath kbs:///${p} is used for different keys (${seen.sourceFile} and ${r.sourceFile})`,
      );
    }
    byPath.set(p, r);
  }
  return [...byPath.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

function uniqueGuestKeyFiles(ctx: BundleContext, list: GuestKeyFile[]): GuestKeyFile[] {
  const byPath = new Map<string, GuestKeyFile>();
  for (const f of list) {
    const seen = byPath.get(f.guestPath);
    if (seen && !Buffer.from(seen.bytes).equals(Buffer.from(f.bytes))) {
      throw fail(
        ctx,
        'E_KEY_PATH',
        'policy',
        `keyPath ${f.guestPath} is used for different keys (${seen.sourceFile} and ${f.sourceFile})`,
      );
    }
    byPath.set(f.guestPath, f);
  }
  return [...byPath.values()].sort((a, b) => (a.guestPath < b.guestPath ? -1 : a.guestPath > b.guestPath ? 1 : 0));
}
