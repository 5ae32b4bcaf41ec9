/**
 * Manifest digests as containers/image computes them (`manifest.Digest`): sha256 of the bytes, except
 * for signed schema1 manifests, whose JWS signatures are stripped first (libtrust `ParsePrettySignature`).
 */
import { createHash } from 'node:crypto';
import { InputError, type Location } from '../errors.js';

const V2_OR_OCI_MEDIA_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
]);

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `sha256:<hex>`; throws InputError (E_MANIFEST_SCHEMA1) when a signed schema1 manifest's JWS is malformed. */
export function manifestDigest(manifest: Uint8Array, location: Location = {}): string {
  return sha256Digest(isSignedSchema1(manifest) ? stripSchema1Signatures(manifest, location) : manifest);
}

function isSignedSchema1(manifest: Uint8Array): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(manifest).toString('utf8'));
  } catch {
    return false;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const m = doc as Record<string, unknown>;
  if (typeof m.mediaType === 'string' && V2_OR_OCI_MEDIA_TYPES.has(m.mediaType)) return false;
  return m.schemaVersion === 1 && m.signatures !== undefined && m.signatures !== null;
}

function base64UrlDecode(s: string): Buffer {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The payload libtrust signed: the first `formatLength` bytes followed by the decoded `formatTail`. */
function stripSchema1Signatures(manifest: Uint8Array, location: Location): Uint8Array {
  const fail = (problem: string) => new InputError('E_MANIFEST_SCHEMA1', location, `schema1 manifest: ${problem}`);
  const doc = JSON.parse(Buffer.from(manifest).toString('utf8')) as { signatures: unknown };
  if (!Array.isArray(doc.signatures)) {
    throw fail('error unmarshalling signatures: "signatures" is not an array of JWS signatures');
  }
  let formatLength: number | undefined;
  let formatTail: string | undefined;
  for (const sig of doc.signatures as unknown[]) {
    const protectedHeader = (sig as { protected?: unknown } | null)?.protected;
    if (typeof protectedHeader !== 'string')
      throw fail('error unmarshalling signatures: a signature has no "protected" header');
    let header: { formatLength?: unknown; formatTail?: unknown };
    try {
      header = JSON.parse(base64UrlDecode(protectedHeader).toString('utf8')) as typeof header;
    } catch {
      throw fail('error unmarshalling signatures: "protected" header is not base64url JSON');
    }
    if (typeof header.formatLength !== 'number') throw fail('missing formatted length');
    if (typeof header.formatTail !== 'string') throw fail('missing formatted tail');
    if (formatLength !== undefined && (formatLength !== header.formatLength || formatTail !== header.formatTail)) {
      throw fail('conflicting format length');
    }
    formatLength = header.formatLength;
    formatTail = header.formatTail;
  }
  if (formatLength === undefined || formatTail === undefined) throw fail('missing signatures');
  if (!Number.isInteger(formatLength) || formatLength < 0 || formatLength > manifest.length)
    throw fail('invalid format length');
  return Buffer.concat([manifest.subarray(0, formatLength), base64UrlDecode(formatTail)]);
}
