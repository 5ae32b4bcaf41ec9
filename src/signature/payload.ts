/**
 * The simple-signing payload: built as containers/image writes it, parsed as each verifier reads it.
 * host  = containers/image `strictUnmarshalJSON` (exact fields, duplicate keys rejected, type checked,
 *         integral timestamp), with its error texts;
 * guest = image-rs `SigPayload` through serde_json (serde-read.ts: extra fields ignored, a repeated field
 *         refused, a struct may be an array, type must be a string whatever its value, `optional` may be
 *         absent), with serde's texts.
 */
import { InputError } from '../errors.js';
import { digestProblem } from '../reference/index.js';
import { SignatureError, type VerifyMode } from '../openpgp/signature-error.js';
import { JsonSyntaxError, parseJsonTree, type JsonNode } from '../json/json-tree.js';
import { decodeJsonBytes, SerdeError, serdeRead, type SerdeShape } from '../json/serde-read.js';

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
    // Go reads the bytes as they are: a BOM is not JSON whitespace for encoding/json either.
    root = parseJsonTree(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes));
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

const STRING: SerdeShape = { type: 'string' };

/** image-rs `SigPayload` and its parts (`payload/simple_signing.rs`), field order as declared. */
const SIG_PAYLOAD: SerdeShape = {
  type: 'struct',
  name: 'SigPayload',
  fields: {
    critical: {
      type: 'struct',
      name: 'Critical',
      fields: {
        type: STRING,
        image: { type: 'struct', name: 'Image', fields: { 'docker-manifest-digest': STRING } },
        identity: { type: 'struct', name: 'Identity', fields: { 'docker-reference': STRING } },
      },
    },
    optional: {
      type: 'option',
      inner: {
        type: 'struct',
        name: 'Optional',
        fields: { creator: { type: 'option', inner: STRING }, timestamp: { type: 'option', inner: { type: 'i64' } } },
        flattenRest: true,
      },
    },
  },
};

interface GuestPayload {
  critical: { type: string; image: { 'docker-manifest-digest': string }; identity: { 'docker-reference': string } };
  optional?: { creator?: string; timestamp?: number };
}

function parseGuest(bytes: Uint8Array): SignaturePayload {
  let text: string;
  try {
    text = decodeJsonBytes(bytes);
  } catch {
    throw guestError('Signature body is not valid UTF-8');
  }
  let p: GuestPayload;
  try {
    p = serdeRead(text, SIG_PAYLOAD) as GuestPayload;
  } catch (e) {
    if (e instanceof SerdeError) throw guestError(e.message);
    throw e;
  }
  const { critical, optional } = p;
  return {
    dockerReference: critical.identity['docker-reference'],
    manifestDigest: critical.image['docker-manifest-digest'],
    type: critical.type,
    ...(optional?.creator !== undefined ? { creator: optional.creator } : {}),
    ...(optional?.timestamp !== undefined ? { timestamp: optional.timestamp } : {}),
  };
}
