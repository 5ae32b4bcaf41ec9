/** The sample image's manifest, and the tampered copy the guest must refuse. */
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';

interface ManifestDoc {
  layers?: Array<{ digest?: string }>;
}

/**
 * The same manifest with its first layer swapped for other bytes — what a registry (or anyone on the way)
 * serving a different image under the signed tag would hand the guest.
 */
export function tamperedManifest(bytes: Uint8Array, file: string): Uint8Array {
  let doc: ManifestDoc;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as ManifestDoc;
  } catch {
    throw new InputError('E_MANIFEST', { file }, 'is not a JSON image manifest');
  }
  const layer = doc.layers?.[0];
  if (!layer) throw new InputError('E_MANIFEST', { file, field: 'layers' }, 'has no layer to swap');
  layer.digest = `sha256:${createHash('sha256').update('a layer the signer never saw').digest('hex')}`;
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
}
