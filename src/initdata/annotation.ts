/** The pod annotation that carries initdata, and its encoding (gzip, then base64). */
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError, type Location } from '../errors.js';

export const INITDATA_ANNOTATION = 'io.katacontainers.config.hypervisor.cc_init_data';

/** gzip + base64: the annotation value. Same text → same value (gzip header without a timestamp). */
export function encodeInitdata(toml: string): string {
  return gzipSync(Buffer.from(toml, 'utf8'), { level: 9 }).toString('base64');
}

export function decodeInitdata(value: string): string {
  return gunzipSync(Buffer.from(value, 'base64')).toString('utf8');
}

/**
 * The annotation value for a file the user gives: already encoded (gzip+base64, as `render initdata --encode`
 * writes) or plain initdata TOML, which is encoded here.
 */
export function initdataAnnotationValue(fileBytes: Uint8Array, location: Location): string {
  const text = Buffer.from(fileBytes).toString('utf8').trim();
  if (/^H4sI[A-Za-z0-9+/=\s]*$/.test(text)) {
    const compact = text.replace(/\s+/g, '');
    try {
      decodeInitdata(compact);
    } catch {
      throw new InputError('E_INITDATA', location, 'looks like gzip+base64 initdata but does not decompress');
    }
    return compact;
  }
  if (!/^\s*\[data\]\s*$/m.test(text)) {
    throw new InputError(
      'E_INITDATA',
      location,
      'is neither initdata TOML (no [data] table) nor a gzip+base64 initdata value; make one with `kbs-bundler render initdata`',
    );
  }
  return encodeInitdata(`${text}\n`);
}
