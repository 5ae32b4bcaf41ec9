/**
 * One bundle rule → the policy.json requirement the guest reads and its host twin, plus what the
 * key needs besides (a KBS key resource or a guest key file). The guest requirement carries the key
 * as configured (keyData, kbs:/// keyPath or guest keyPath); the host one always embeds keyData,
 * since a podman/CRI-O node has neither the KBS nor the guest's files. Nothing here depends on the
 * scope the rule is under, so a rule repeated under many scopes is loaded once (load.ts).
 */
import { parseKbsUri, RESOURCE_SEGMENT_RE } from '../resource-id/resource-id.js';
import type { PolicyRequirement, SignedIdentity } from '../policy/schema.js';
import { isCanonical, parseNormalizedNamed } from '../reference/index.js';
import { fail, type BundleContext } from './files.js';
import { loadCosignKey, loadSignedByKeys } from './rule-keys.js';
import type { BundleRule } from './schema.js';
import { scopeProblem } from './scope.js';
import type { GuestKeyFile, KeyResource, RuleKeyringEntry } from './types.js';

export interface LoadedRule {
  guest: PolicyRequirement;
  host: PolicyRequirement;
  keyrings: RuleKeyringEntry[];
  keyResources: KeyResource[];
  guestKeyFiles: GuestKeyFile[];
}

type KeyDelivery =
  | { kind: 'embedded' }
  | { kind: 'kbs'; uri: string; id: KeyResource['id'] }
  | { kind: 'guest'; keyPath: string; guestPath: string };

export async function loadRule(ctx: BundleContext, rule: BundleRule, field: string): Promise<LoadedRule> {
  const none = { keyrings: [], keyResources: [], guestKeyFiles: [] };
  switch (rule.type) {
    case 'reject':
    case 'insecureAcceptAnything':
      return { guest: { type: rule.type }, host: { type: rule.type }, ...none };
    case 'signedBy': {
      const identity = rule.signedIdentity && checkIdentity(ctx, rule.signedIdentity, `${field}.signedIdentity`);
      const delivery = keyDelivery(ctx, rule.keyPath, `${field}.keyPath`);
      const keys = await loadSignedByKeys(ctx, rule, field);
      const keyData = base64(keys.bytes);
      const idPart = identity ? { signedIdentity: identity } : {};
      const host: PolicyRequirement = { type: 'signedBy', keyType: 'GPGKeys', keyData, ...idPart };
      const keyPart =
        delivery.kind === 'embedded'
          ? { keyData }
          : { keyPath: delivery.kind === 'kbs' ? delivery.uri : delivery.keyPath };
      const guest: PolicyRequirement = { type: 'signedBy', keyType: 'GPGKeys', ...keyPart, ...idPart };
      const sourceFile = keys.sourceFiles.join(', ');
      return {
        guest,
        host,
        keyrings: keys.entries,
        keyResources: delivery.kind === 'kbs' ? [{ id: delivery.id, bytes: keys.bytes, sourceFile }] : [],
        guestKeyFiles:
          delivery.kind === 'guest' ? [{ guestPath: delivery.guestPath, bytes: keys.bytes, sourceFile }] : [],
      };
    }
    case 'sigstoreSigned': {
      const identity = rule.signedIdentity && checkIdentity(ctx, rule.signedIdentity, `${field}.signedIdentity`);
      if (identity && identity.type !== 'matchRepository' && identity.type !== 'exactRepository') {
        throw fail(
          ctx,
          'E_SIGNED_IDENTITY',
          `${field}.signedIdentity.type`,
          `the guest's sigstoreSigned check supports only matchRepository or exactRepository (or none); ${identity.type} would deny every image`,
        );
      }
      const delivery = keyDelivery(ctx, rule.keyPath, `${field}.keyPath`);
      const { abs, pem } = await loadCosignKey(ctx, rule.key, `${field}.key`);
      const pemBytes = Buffer.from(pem, 'utf8');
      const idPart = identity ? { signedIdentity: identity } : {};
      // The guest reads keyData as the PEM text itself; containers/image base64-decodes it.
      const host: PolicyRequirement = { type: 'sigstoreSigned', keyData: pemBytes.toString('base64'), ...idPart };
      const keyPart =
        delivery.kind === 'embedded'
          ? { keyData: pem }
          : { keyPath: delivery.kind === 'kbs' ? delivery.uri : delivery.keyPath };
      const guest: PolicyRequirement = { type: 'sigstoreSigned', ...keyPart, ...idPart };
      return {
        guest,
        host,
        keyrings: [],
        keyResources: delivery.kind === 'kbs' ? [{ id: delivery.id, bytes: pemBytes, sourceFile: abs }] : [],
        guestKeyFiles:
          delivery.kind === 'guest' ? [{ guestPath: delivery.guestPath, bytes: pemBytes, sourceFile: abs }] : [],
      };
    }
  }
}

/** keyData of a key file: one encoding per file, however many scopes name it. */
const keyDataOf = new WeakMap<Uint8Array, string>();
function base64(bytes: Uint8Array): string {
  let text = keyDataOf.get(bytes);
  if (text === undefined) {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    keyDataOf.set(bytes, text);
  }
  return text;
}

function keyDelivery(ctx: BundleContext, keyPath: string | undefined, field: string): KeyDelivery {
  if (keyPath === undefined) return { kind: 'embedded' };
  if (keyPath.startsWith('kbs:')) {
    const id = parseKbsUri(keyPath);
    if (!id) {
      throw fail(
        ctx,
        'E_KEY_PATH',
        field,
        `${JSON.stringify(keyPath)} is not a KBS resource URI: write kbs:///<repository>/<type>/<tag>, each part matching ${RESOURCE_SEGMENT_RE.source}`,
      );
    }
    return { kind: 'kbs', uri: `kbs:///${id.repository}/${id.type}/${id.tag}`, id };
  }
  const guestPath = keyPath.startsWith('file://') ? keyPath.slice('file://'.length) : keyPath;
  if (!guestPath.startsWith('/') || /(^|\/)\.\.?(\/|$)/.test(guestPath) || guestPath.endsWith('/')) {
    throw fail(
      ctx,
      'E_KEY_PATH',
      field,
      `${JSON.stringify(keyPath)} is neither a kbs:/// resource URI nor an absolute guest file path (e.g. /etc/containers/keys/signer.gpg)`,
    );
  }
  return { kind: 'guest', keyPath, guestPath };
}

function checkIdentity(ctx: BundleContext, identity: SignedIdentity, field: string): SignedIdentity {
  const bad = (sub: string, problem: string) => fail(ctx, 'E_SIGNED_IDENTITY', `${field}.${sub}`, problem);
  switch (identity.type) {
    case 'exactReference': {
      const r = identity.dockerReference;
      let parsed;
      try {
        parsed = parseNormalizedNamed(r);
      } catch (e) {
        throw bad('dockerReference', (e as Error).message);
      }
      if (parsed.tag === undefined && parsed.digest === undefined)
        throw bad('dockerReference', 'must name a tag or digest');
      // The guest compares it literally with the signed (fully expanded) reference.
      if (!isCanonical(r))
        throw bad('dockerReference', 'write the fully expanded reference (e.g. docker.io/library/busybox:latest)');
      return identity;
    }
    case 'exactRepository': {
      const r = identity.dockerRepository;
      const problem = scopeProblem(r);
      if (problem !== undefined || !r.includes('/') || /[:@][^/]*$/.test(r.slice(r.indexOf('/')))) {
        throw bad(
          'dockerRepository',
          problem ?? 'must be a fully expanded repository name without tag or digest (e.g. docker.io/library/busybox)',
        );
      }
      return identity;
    }
    case 'remapIdentity': {
      for (const key of ['prefix', 'signedPrefix'] as const) {
        const value = identity[key];
        const problem = value.startsWith('*')
          ? 'must be a registry or repository namespace, not a wildcard'
          : scopeProblem(value);
        if (problem !== undefined) throw bad(key, problem);
      }
      return identity;
    }
    default:
      return identity;
  }
}
