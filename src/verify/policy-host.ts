/**
 * policy.json as containers/image reads it (`signature/policy_config.go`): the strict schemas of
 * policy/schema.ts plus the checks zod cannot express, each failure worded as c/image words it
 * (`Unknown key "x"`, `Default policy is missing`, `List of verification policy requirements must
 * not be empty`, `Unknown policy requirement type "x"`, …).
 */
import type { z } from 'zod';
import {
  REQUIREMENT_TYPES,
  SIGNED_IDENTITY_TYPES,
  requirementSchema,
  type PolicyRequirement,
  type DockerScopes,
} from '../policy/schema.js';
import { isValidRegistry, parseNormalizedNamed } from '../reference/index.js';
import type { PolicyReadResult } from './policy.js';
import { decodeBase64 } from './base64.js';
import { parseJsonTree, type JsonNode } from '../json/json-tree.js';

class HostPolicyError extends Error {}

const fail = (message: string): never => {
  throw new HostPolicyError(message);
};

function asObject(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`JSON object expected, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

/** The first problem zod found, in c/image's words when it has some. */
function describeIssue(issues: z.core.$ZodIssue[]): string {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') return `Unknown key ${JSON.stringify(unknown.keys[0])}`;
  const first = issues[0];
  if (!first) return 'invalid policy';
  const field = first.path.map(String).join('.');
  return field ? `Field ${field}: ${first.message}` : first.message;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;

/** remapIdentity prefixes: `host[:port]` or `host[:port]/path`, without tag or digest. */
function validRemapPrefix(s: string): boolean {
  const [host = '', ...rest] = s.split('/');
  if (!isValidRegistry(host)) return false;
  return rest.every((c) => pathComponent.test(c));
}

function checkIdentity(value: unknown): void {
  const o = asObject(value);
  const type = o.type;
  if (typeof type !== 'string' || !(SIGNED_IDENTITY_TYPES as readonly string[]).includes(type)) {
    fail(`Unknown policy reference match type ${JSON.stringify(typeof type === 'string' ? type : '')}`);
  }
  if (type === 'exactReference' && typeof o.dockerReference === 'string') {
    let ref;
    try {
      ref = parseNormalizedNamed(o.dockerReference);
    } catch (e) {
      fail(`Invalid format of dockerReference ${JSON.stringify(o.dockerReference)}: ${(e as Error).message}`);
    }
    if (ref && ref.tag === undefined && ref.digest === undefined) {
      fail(`dockerReference ${JSON.stringify(o.dockerReference)} contains neither a tag nor digest`);
    }
  }
  if (type === 'exactRepository' && typeof o.dockerRepository === 'string') {
    try {
      parseNormalizedNamed(o.dockerRepository);
    } catch (e) {
      fail(`Invalid format of dockerRepository ${JSON.stringify(o.dockerRepository)}: ${(e as Error).message}`);
    }
  }
  if (type === 'remapIdentity') {
    if (typeof o.prefix === 'string' && !validRemapPrefix(o.prefix))
      fail(`prefix ${JSON.stringify(o.prefix)} is not valid`);
    if (typeof o.signedPrefix === 'string' && !validRemapPrefix(o.signedPrefix)) {
      fail(`signedPrefix ${JSON.stringify(o.signedPrefix)} is not valid`);
    }
  }
}

const SIGNED_BY_KEY_TYPES = ['GPGKeys', 'signedByGPGKeys', 'X509Certificates', 'signedByX509CAs'];

function checkSignedBy(o: Record<string, unknown>): void {
  const present = ['keyPath', 'keyPaths', 'keyData'].filter((k) => k in o);
  if (present.length === 0)
    fail('Exactly one of keyPath, keyPaths and keyData must be specified, none of them present');
  if (present.length > 1) fail('Exactly one of keyPath, keyPaths and keyData must be specified, more than one present');
  if (typeof o.keyType === 'string' && o.keyType !== '' && !SIGNED_BY_KEY_TYPES.includes(o.keyType)) {
    fail(`Unrecognized keyType value ${JSON.stringify(o.keyType)}`);
  }
}

function checkSignedByValues(r: Extract<PolicyRequirement, { type: 'signedBy' }>): void {
  if (!SIGNED_BY_KEY_TYPES.includes(r.keyType)) fail(`invalid keyType ${JSON.stringify(r.keyType)}`);
  const nonEmpty = [
    r.keyPath !== undefined && r.keyPath !== '',
    r.keyPaths !== undefined,
    r.keyData !== undefined,
  ].filter(Boolean);
  if (nonEmpty.length !== 1) fail('exactly one of keyPath, keyPaths and keyData must be specified');
  if (r.keyData !== undefined) {
    const decoded = decodeBase64(r.keyData, 'host');
    if (!decoded.ok) fail(decoded.error);
  }
}

function checkSigstoreSigned(r: Extract<PolicyRequirement, { type: 'sigstoreSigned' }>): void {
  const sources = [r.keyPath, r.keyPaths, r.keyData, r.keyDatas, r.fulcio, r.pki].filter((v) => v !== undefined);
  if (sources.length !== 1)
    fail('exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, and pki must be specified');
  const rekor = [r.rekorPublicKeyPath, r.rekorPublicKeyPaths, r.rekorPublicKeyData, r.rekorPublicKeyDatas].filter(
    (v) => v !== undefined,
  );
  if (rekor.length > 1)
    fail(
      'exactly one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and rekorPublicKeyDatas must be specified',
    );
  if (r.fulcio !== undefined && rekor.length === 0)
    fail(
      'At least one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas must be specified if fulcio is used',
    );
  if (r.pki !== undefined && rekor.length > 0)
    fail(
      'rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and rekorPublicKeyDatas are not supported for pki',
    );
  if (r.keyData !== undefined) {
    const decoded = decodeBase64(r.keyData, 'host');
    if (!decoded.ok) fail(decoded.error);
  }
}

function parseRequirement(value: unknown): PolicyRequirement {
  const o = asObject(value);
  const type = typeof o.type === 'string' ? o.type : '';
  if (!(REQUIREMENT_TYPES as readonly string[]).includes(type))
    fail(`Unknown policy requirement type ${JSON.stringify(type)}`);
  if ('signedIdentity' in o) checkIdentity(o.signedIdentity);
  if (type === 'signedBaseLayer' && 'baseLayerIdentity' in o) checkIdentity(o.baseLayerIdentity);
  if (type === 'signedBy') checkSignedBy(o);
  const parsed = requirementSchema.safeParse(o);
  if (!parsed.success) fail(describeIssue(parsed.error.issues));
  const r = parsed.data as PolicyRequirement;
  if (r.type === 'signedBy') checkSignedByValues(r);
  if (r.type === 'sigstoreSigned') checkSigstoreSigned(r);
  return r;
}

function parseRequirements(value: unknown): PolicyRequirement[] {
  if (!Array.isArray(value)) fail(`JSON array expected, got ${JSON.stringify(value)}`);
  const list = value as unknown[];
  if (list.length === 0) fail('List of verification policy requirements must not be empty');
  return list.map(parseRequirement);
}

/** The paranoid parser refuses a repeated member anywhere (`Duplicate key "x"`); JSON.parse would keep the last. */
function rejectDuplicateKeys(node: JsonNode): void {
  if (node.kind === 'array') node.items.forEach(rejectDuplicateKeys);
  if (node.kind !== 'object') return;
  const seen = new Set<string>();
  for (const [key, value] of node.entries) {
    if (seen.has(key)) fail(`Duplicate key ${JSON.stringify(key)}`);
    seen.add(key);
    rejectDuplicateKeys(value);
  }
}

export function parseHostPolicy(bytes: Uint8Array): PolicyReadResult {
  try {
    let json: unknown;
    try {
      // encoding/json reads the bytes as they are: a BOM is an invalid character, not whitespace.
      const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      rejectDuplicateKeys(parseJsonTree(text));
      json = JSON.parse(text);
    } catch (e) {
      if (e instanceof HostPolicyError) throw e;
      fail((e as Error).message);
    }
    const top = asObject(json);
    // The paranoid parser walks the members in document order: the first problem met is reported.
    let defaults: PolicyRequirement[] | undefined;
    let docker: DockerScopes | undefined;
    for (const [k, v] of Object.entries(top)) {
      if (k === 'default') {
        if (v !== null) defaults = parseRequirements(v);
      } else if (k === 'transports') {
        if (v === null) continue;
        for (const [transport, scopes] of Object.entries(asObject(v))) {
          const parsed: DockerScopes = {};
          for (const [scope, reqs] of Object.entries(asObject(scopes))) parsed[scope] = parseRequirements(reqs);
          if (transport === 'docker') docker = parsed;
        }
      } else fail(`Unknown key ${JSON.stringify(k)}`);
    }
    if (!defaults) return fail('Default policy is missing');
    return { ok: true, policy: { default: defaults, docker, notes: [] } };
  } catch (e) {
    if (e instanceof HostPolicyError) return { ok: false, reason: e.message };
    throw e;
  }
}
