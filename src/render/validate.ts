/** Checks on the values users pass to `render` (URLs, Kubernetes names, image references): InputError, exit 2. */
import { InputError, type Location } from '../errors.js';
import { ReferenceParseError, parseNormalizedNamed } from '../reference/index.js';

/** A KBS base URL: http(s)://host[:port][/path], no credentials, query or fragment; trailing `/` dropped. */
export function kbsUrl(text: string, location: Location): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(
      'E_KBS_URL',
      location,
      `${JSON.stringify(text)} is not a URL; give the KBS address, e.g. http://kbs.example.com:8080`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError('E_KBS_URL', location, `${JSON.stringify(text)}: the KBS is reached over http:// or https://`);
  }
  if (url.username || url.password)
    throw new InputError('E_KBS_URL', location, 'must not contain a user name or password');
  if (url.search || url.hash)
    throw new InputError('E_KBS_URL', location, `${JSON.stringify(text)}: no query or fragment allowed`);
  if (/\s/.test(text)) throw new InputError('E_KBS_URL', location, 'must not contain spaces');
  return text.replace(/\/+$/, '');
}

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);

/** Kubernetes object names (pods, RuntimeClasses): RFC 1123 subdomain, ≤ 253 characters. */
export function k8sName(text: string, location: Location): string {
  if (text.length > 253 || !DNS_SUBDOMAIN.test(text)) {
    throw new InputError(
      'E_K8S_NAME',
      location,
      `${JSON.stringify(text)} is not a valid Kubernetes name (lowercase letters, digits, '-' and '.', starting and ending alphanumeric)`,
    );
  }
  return text;
}

/** Container names: RFC 1123 label, ≤ 63 characters. */
export function k8sLabel(text: string, location: Location): string {
  if (text.length > 63 || !new RegExp(`^${DNS_LABEL}$`).test(text)) {
    throw new InputError(
      'E_K8S_NAME',
      location,
      `${JSON.stringify(text)} is not a valid container name (lowercase letters, digits and '-', at most 63)`,
    );
  }
  return text;
}

/** The image as the user wrote it, after checking that it parses as a reference. */
export function imageReference(text: string, location: Location): string {
  try {
    parseNormalizedNamed(text);
  } catch (e) {
    if (e instanceof ReferenceParseError) throw new InputError('E_REFERENCE', location, e.problem);
    throw e;
  }
  return text;
}
