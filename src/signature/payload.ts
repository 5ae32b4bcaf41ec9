/**
 * The simple-signing payload: built as containers/image writes it, parsed as each verifier reads it.
 * host  = containers/image `strictUnmarshalJSON` (exact fields, duplicate keys rejected, type checked,
 *         integral timestamp), with its error texts;
 * guest = image-rs `SigPayload` through serde (extra fields ignored, last duplicate wins, type must be a
 *         string whatever its value, `optional` may be absent), with serde-like texts.
 */
import { InputError } from '../errors.js';
import { digestProblem } from '../reference/index.js';
import { SignatureError, type VerifyMode } from '../openpgp/signature-error.js';
import { JsonSyntaxError, parseJsonTree, type JsonNode } from '../json/json-tree.js';

export const SIGNATURE_TYPE = 'atomic container signature';

export interface SignaturePayload {
  dockerReference: string;
  manifestDigest: string;
  type: string;
  creator?: string;
  timestamp?: number;
}

/** Compact JSON with sorted keys and no trailing newline, byte-identical to Go's `json.Marshal` output. */
export function buildPayload(p: {
  dockerReference: string;
  manifestDigest: string;
  creator?: string;
  timestamp?: number;
}): Uint8Array {
  if (p.dockerReference === '' || p.manifestDigest === '') {
    throw new InputError('E_EMPTY_SIGNATURE_CONTENT', {}, 'Unexpected empty signature content');
  }
  if (p.timestamp !== undefined && !Number.isSafeInteger(p.timestamp)) {
    throw new InputError('E_BAD_TIMESTAMP', {}, `timestamp ${p.timestamp} is not an integer number of seconds`);
  }
  const optional: Record<string, unknown> = {};
  if (p.creator !== undefined) optional.creator = p.creator;
  if (p.timestamp !== undefined) optional.timestamp = p.timestamp;
  const doc = {
    critical: {
      identity: { 'docker-reference': p.dockerReference },
      image: { 'docker-manifest-digest': p.manifestDigest },
      type: SIGNATURE_TYPE,
    },
    optional,
  };
  return Buffer.from(goEscape(JSON.stringify(doc)), 'utf8');
}

/** Go's encoder escapes these for HTML safety; doing the same keeps our bytes identical to skopeo's. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function parsePayload(bytes: Uint8Array, mode: VerifyMode): SignaturePayload {
  return mode === 'host' ? parseHost(bytes) : parseGuest(bytes);
}

// ---------------------------------------------------------------- host (containers/image)

function hostError(text: string): SignatureError {
  return new SignatureError('E_SIG_PAYLOAD', 'host', text);
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function goTokenDescription(node: JsonNode): string {
  switch (node.kind) {
    case 'null':
      return '<nil>';
    case 'string':
      return goQuote(node.value);
    case 'number':
      return node.raw;
    case 'bool':
      return String(node.value);
    case 'array':
      return "json.Delim('[')";
    case 'object':
      return "json.Delim('{')";
  }
}

const GO_KIND: Record<JsonNode['kind'], string> = {
  object: 'object',
  array: 'array',
  string: 'string',
  number: 'number',
  bool: 'bool',
  null: 'null',
};

/** `ParanoidUnmarshalJSONObject`: an object, no duplicate keys, each key resolved or `Unknown key`. */
function paranoidObject(node: JsonNode, known: readonly string[] | null): Map<string, JsonNode> {
  if (node.kind !== 'object') throw hostError(`JSON object expected, got ${goTokenDescription(node)}`);
  const seen = new Map<string, JsonNode>();
  for (const [key, value] of node.entries) {
    if (seen.has(key)) throw hostError(`Duplicate key ${goQuote(key)}`);
    seen.set(key, value);
    if (known !== null && !known.includes(key)) throw hostError(`Unknown key ${goQuote(key)}`);
  }
  return seen;
}

/** `ParanoidUnmarshalJSONObjectExactFields`: as above, and every field present. */
function exactFields(node: JsonNode, fields: readonly string[]): Map<string, JsonNode> {
  const got = paranoidObject(node, fields);
  for (const f of fields) if (!got.has(f)) throw hostError(`Key ${goQuote(f)} missing in a JSON object`);
  return got;
}

/** Decoding into a Go string: null leaves "" (Go's no-op), other kinds are a type error. */
function goString(node: JsonNode): string {
  if (node.kind === 'string') return node.value;
  if (node.kind === 'null') return '';
  throw hostError(`json: cannot unmarshal ${GO_KIND[node.kind]} into Go value of type string`);
}

function parseHost(bytes: Uint8Array): SignaturePayload {
  let root: JsonNode;
  try {
    root = parseJsonTree(new TextDecoder('utf-8').decode(bytes));
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw hostError(e.message);
    throw e;
  }
  const top = exactFields(root, ['critical', 'optional']);
  const optional = paranoidObject(top.get('optional')!, null);
  const result: Partial<SignaturePayload> = {};
  const creator = optional.get('creator');
  if (creator !== undefined) result.creator = goString(creator);
  const timestamp = optional.get('timestamp');
  if (timestamp !== undefined) {
    if (timestamp.kind !== 'number' && timestamp.kind !== 'null') {
      throw hostError(`json: cannot unmarshal ${GO_KIND[timestamp.kind]} into Go value of type float64`);
    }
    const value = timestamp.kind === 'number' ? timestamp.value : 0;
    if (!Number.isInteger(value)) throw hostError('Field optional.timestamp is not an integer');
    result.timestamp = value;
  }
  const critical = exactFields(top.get('critical')!, ['type', 'image', 'identity']);
  const type = goString(critical.get('type')!);
  if (type !== SIGNATURE_TYPE) throw hostError(`Unrecognized signature type ${type}`);
  const image = exactFields(critical.get('image')!, ['docker-manifest-digest']);
  const digest = goString(image.get('docker-manifest-digest')!);
  const problem = digestProblem(digest);
  if (problem !== undefined) throw hostError(`invalid docker-manifest-digest value ${goQuote(digest)}: ${problem}`);
  const identity = exactFields(critical.get('identity')!, ['docker-reference']);
  const dockerReference = goString(identity.get('docker-reference')!);
  return { dockerReference, manifestDigest: digest, type, ...result };
}

// ---------------------------------------------------------------- guest (image-rs, serde)

function guestError(text: string): SignatureError {
  return new SignatureError('E_SIG_PAYLOAD', 'guest', text);
}

function serdeUnexpected(node: JsonNode): string {
  switch (node.kind) {
    case 'null':
      return 'null';
    case 'string':
      return `string ${JSON.stringify(node.value)}`;
    case 'number':
      return isJsonInteger(node) ? `integer \`${node.raw}\`` : `floating point \`${node.value}\``;
    case 'bool':
      return `boolean \`${node.value}\``;
    case 'array':
      return 'sequence';
    case 'object':
      return 'map';
  }
}

function isJsonInteger(node: { raw: string }): boolean {
  return /^-?\d+$/.test(node.raw);
}

/** serde struct: last duplicate wins, unknown members ignored. */
function serdeStruct(node: JsonNode, name: string): Map<string, JsonNode> {
  if (node.kind !== 'object') throw guestError(`invalid type: ${serdeUnexpected(node)}, expected struct ${name}`);
  return new Map(node.entries);
}

function serdeRequired(map: Map<string, JsonNode>, field: string): JsonNode {
  const v = map.get(field);
  if (v === undefined) throw guestError(`missing field \`${field}\``);
  return v;
}

function serdeString(node: JsonNode): string {
  if (node.kind !== 'string') throw guestError(`invalid type: ${serdeUnexpected(node)}, expected a string`);
  return node.value;
}

function parseGuest(bytes: Uint8Array): SignaturePayload {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw guestError('Signature body is not valid UTF-8');
  }
  let root: JsonNode;
  try {
    root = parseJsonTree(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw guestError(e.serdeText);
    throw e;
  }
  const top = serdeStruct(root, 'SigPayload');
  const critical = serdeStruct(serdeRequired(top, 'critical'), 'Critical');
  const type = serdeString(serdeRequired(critical, 'type'));
  const image = serdeStruct(serdeRequired(critical, 'image'), 'Image');
  const manifestDigest = serdeString(serdeRequired(image, 'docker-manifest-digest'));
  const identity = serdeStruct(serdeRequired(critical, 'identity'), 'Identity');
  const dockerReference = serdeString(serdeRequired(identity, 'docker-reference'));
  const result: SignaturePayload = { dockerReference, manifestDigest, type };
  const optionalNode = top.get('optional');
  if (optionalNode !== undefined && optionalNode.kind !== 'null') {
    const optional = serdeStruct(optionalNode, 'Optional');
    const creator = optional.get('creator');
    if (creator !== undefined && creator.kind !== 'null') result.creator = serdeString(creator);
    const timestamp = optional.get('timestamp');
    if (timestamp !== undefined && timestamp.kind !== 'null') {
      if (timestamp.kind !== 'number' || !isJsonInteger(timestamp)) {
        throw guestError(`invalid type: ${serdeUnexpected(timestamp)}, expected i64`);
      }
      const big = BigInt(timestamp.raw);
      if (big > 9223372036854775807n || big < -9223372036854775808n) {
        throw guestError(`invalid value: integer \`${timestamp.raw}\`, expected i64`);
      }
      result.timestamp = Number(big);
    }
  }
  return result;
}
