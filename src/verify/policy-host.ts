/**
 * policy.json as containers/image reads it (`signature/policy_config.go`): the strict schemas of
 * policy/schema.ts plus the checks zod cannot express, each failure worded as c/image words it
 * (`Unknown key "x"`, `Default policy is missing`, `List of verification policy requirements must
 * not be empty`, …). Where c/image quotes a value of the file (`Unknown policy requirement type "x"`,
 * `JSON object expected, got 12345678`), the message names the member instead (`at default[0].type`): a
 * password file that happens to be valid JSON, given where a policy was meant, must not be printed. Member
 * names are named, values never.
 */
import type { z } from 'zod';
import {
  REQUIREMENT_TYPES,
  SIGNED_IDENTITY_TYPES,
  requirementSchema,
  type PolicyRequirement,
  type DockerScopes,
} from '../policy/schema.js';
import { isValidRegistry, parseNormalizedNamed, ReferenceParseError } from '../reference/index.js';
import type { PolicyReadResult } from './policy.js';
import { decodeBase64 } from './base64.js';
import { parseJsonTree, type JsonNode } from '../json/json-tree.js';

class HostPolicyError extends Error {}

const fail = (message: string): never => {
  throw new HostPolicyError(message);
};

/** What a JSON value is, never what it holds. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return 'a boolean';
  return `a ${typeof v}`;
}

const at = (where: string) => (where ? ` at ${where}` : '');

/** A member's path: `default[0]`, `transports.docker["quay.io/app"]`. */
const member = (where: string, key: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (where ? `${where}.${key}` : key) : `${where}[${JSON.stringify(key)}]`;

function asObject(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    fail(`JSON object expected${at(where)}, got ${kindOf(v)}`);
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

/** The reference parser's problem without the reference it quotes. */
function referenceProblem(e: unknown): string {
  return e instanceof ReferenceParseError ? e.detail : 'invalid reference format';
}

function checkIdentity(value: unknown, where: string): void {
  const o = asObject(value, where);
  const type = o.type;
  if (typeof type !== 'string' || !(SIGNED_IDENTITY_TYPES as readonly string[]).includes(type)) {
    fail(`Unknown policy reference match type at ${where}.type (one of ${SIGNED_IDENTITY_TYPES.join(', ')})`);
  }
  if (type === 'exactReference' && typeof o.dockerReference === 'string') {
    let ref;
    try {
      ref = parseNormalizedNamed(o.dockerReference);
    } catch (e) {
      fail(`Invalid format of dockerReference at ${where}.dockerReference: ${referenceProblem(e)}`);
    }
    if (ref && ref.tag === undefined && ref.digest === undefined) {
      fail(`dockerReference at ${where}.dockerReference contains neither a tag nor digest`);
    }
  }
  if (type === 'exactRepository' && typeof o.dockerRepository === 'string') {
    try {
      parseNormalizedNamed(o.dockerRepository);
    } catch (e) {
      fail(`Invalid format of dockerRepository at ${where}.dockerRepository: ${referenceProblem(e)}`);
    }
  }
  if (type === 'remapIdentity') {
    if (typeof o.prefix === 'string' && !validRemapPrefix(o.prefix)) fail(`prefix at ${where}.prefix is not valid`);
    if (typeof o.signedPrefix === 'string' && !validRemapPrefix(o.signedPrefix)) {
      fail(`signedPrefix at ${where}.signedPrefix is not valid`);
    }
  }
}

const SIGNED_BY_KEY_TYPES = ['GPGKeys', 'signedByGPGKeys', 'X509Certificates', 'signedByX509CAs'];

function checkSignedBy(o: Record<string, unknown>, where: string): void {
  const present = ['keyPath', 'keyPaths', 'keyData'].filter((k) => k in o);
  if (present.length === 0)
    fail('Exactly one of keyPath, keyPaths and keyData must be specified, none of them present');
  if (present.length > 1) fail('Exactly one of keyPath, keyPaths and keyData must be specified, more than one present');
  if (typeof o.keyType === 'string' && o.keyType !== '' && !SIGNED_BY_KEY_TYPES.includes(o.keyType)) {
    fail(`Unrecognized keyType value at ${where}.keyType (one of ${SIGNED_BY_KEY_TYPES.join(', ')})`);
  }
}

function checkSignedByValues(r: Extract<PolicyRequirement, { type: 'signedBy' }>, where: string): void {
  if (!SIGNED_BY_KEY_TYPES.includes(r.keyType)) fail(`invalid keyType at ${where}.keyType`);
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

function parseRequirement(value: unknown, where: string): PolicyRequirement {
  const o = asObject(value, where);
  const type = typeof o.type === 'string' ? o.type : '';
  if (!(REQUIREMENT_TYPES as readonly string[]).includes(type))
    fail(`Unknown policy requirement type at ${where}.type (one of ${REQUIREMENT_TYPES.join(', ')})`);
  if ('signedIdentity' in o) checkIdentity(o.signedIdentity, `${where}.signedIdentity`);
  if (type === 'signedBaseLayer' && 'baseLayerIdentity' in o)
    checkIdentity(o.baseLayerIdentity, `${where}.baseLayerIdentity`);
  if (type === 'signedBy') checkSignedBy(o, where);
  const parsed = requirementSchema.safeParse(o);
  if (!parsed.success) fail(describeIssue(parsed.error.issues));
  const r = parsed.data as PolicyRequirement;
  if (r.type === 'signedBy') checkSignedByValues(r, where);
  if (r.type === 'sigstoreSigned') checkSigstoreSigned(r);
  return r;
}

function parseRequirements(value: unknown, where: string): PolicyRequirement[] {
  if (!Array.isArray(value)) fail(`JSON array expected at ${where}, got ${kindOf(value)}`);
  const list = value as unknown[];
  if (list.length === 0) fail('List of verification policy requirements must not be empty');
  return list.map((item, i) => parseRequirement(item, `${where}[${i}]`));
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
    const top = asObject(json, '');
    // The paranoid parser walks the members in document order: the first problem met is reported.
    let defaults: PolicyRequirement[] | undefined;
    let docker: DockerScopes | undefined;
    for (const [k, v] of Object.entries(top)) {
      if (k === 'default') {
        if (v !== null) defaults = parseRequirements(v, 'default');
      } else if (k === 'transports') {
        if (v === null) continue;
        for (const [transport, scopes] of Object.entries(asObject(v, 'transports'))) {
          const parsed: DockerScopes = {};
          const where = member('transports', transport);
          for (const [scope, reqs] of Object.entries(asObject(scopes, where)))
            parsed[scope] = parseRequirements(reqs, member(where, scope));
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
