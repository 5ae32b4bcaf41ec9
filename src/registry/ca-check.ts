/**
 * A registry CA file that is really the registry's own server certificate, self-signed with CA:TRUE (what
 * `openssl req -x509` makes, as in openEuler's guide): trusted by curl, skopeo and podman, refused by the guest's
 * rustls (CaUsedAsEndEntity). Spotted offline from the file alone, so render and lint can say so before a pull fails.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { hostWithoutPort } from '../reference/index.js';

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The problem with a registry's CA PEM for the guest, or undefined. `registry` is `host[:port]`. */
export function caLeafProblem(pem: string, registry: string): string | undefined {
  const host = hostWithoutPort(registry).replace(/^\[|\]$/g, '');
  for (const m of pem.matchAll(CERTIFICATE)) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(m[0]);
    } catch {
      continue;
    }
    const selfSigned = cert.subject === cert.issuer && cert.verify(cert.publicKey);
    const namesRegistry = isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
    if (cert.ca && selfSigned && namesRegistry) {
      return (
        `the CA certificate for ${registry} is a self-signed CA:TRUE certificate naming ${host} itself, i.e. the registry's ` +
        "server certificate: the guest's rustls refuses a CA certificate as the server's (CaUsedAsEndEntity) although curl, skopeo " +
        'and podman accept it; make a small CA and a CA:FALSE server certificate signed by it, and give the CA here'
      );
    }
  }
  return undefined;
}
