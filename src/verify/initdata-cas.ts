/**
 * The registry CAs a guest gets from its initdata: cdh.toml's `[image] extra_root_certificates`, which
 * the guest's image-rs trusts beside its rootfs CA bundles. Read from the initdata TOML (as `render
 * initdata` writes it) or its gzip+base64 annotation value.
 */
import { gunzipSync } from 'node:zlib';
import { parse, TomlError } from 'smol-toml';
import { InputError } from '../errors.js';

/** Each PEM of cdh.toml's extra_root_certificates; InputError (never quoting the file) when it is not initdata. */
export function initdataRootCertificates(bytes: Uint8Array, file: string): string[] {
  const doc = parseToml(decode(bytes), file, 'initdata');
  const data = (doc as { data?: Record<string, unknown> }).data;
  const cdh = data?.['cdh.toml'];
  if (cdh === undefined) return [];
  if (typeof cdh !== 'string')
    throw new InputError('E_INITDATA', { file, field: 'data."cdh.toml"' }, 'must be a string');
  const image = (parseToml(cdh, file, 'its cdh.toml') as { image?: { extra_root_certificates?: unknown } }).image;
  const certs = image?.extra_root_certificates;
  if (certs === undefined) return [];
  if (!Array.isArray(certs) || !certs.every((c): c is string => typeof c === 'string'))
    throw new InputError(
      'E_INITDATA',
      { file, field: 'cdh.toml image.extra_root_certificates' },
      'must be a list of PEM strings',
    );
  return certs;
}

/** The annotation value (gzip, base64) or the TOML itself. */
function decode(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('utf8');
  if (/^[A-Za-z0-9+/=\s]+$/.test(text) && text.trim().length > 0) {
    try {
      return gunzipSync(Buffer.from(text, 'base64'), { maxOutputLength: 16 * 1024 * 1024 }).toString('utf8');
    } catch {
      // not an annotation value: read it as TOML
    }
  }
  return text;
}

function parseToml(text: string, file: string, what: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (e) {
    const where = e instanceof TomlError ? ` at line ${e.line} column ${e.column}` : '';
    throw new InputError('E_INITDATA', { file }, `${what} is not valid TOML${where}`);
  }
}
