/** Registry CA certificates the guest's rustls will refuse. */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { hostWithoutPort } from '../../reference/index.js';
import type { AddFinding } from './types.js';

/**
 * A self-signed CA:TRUE certificate that names the registry itself is what the registry serves as its
 * own certificate (openEuler's guide makes one): curl and skopeo accept it once trusted, the guest's
 * rustls refuses a CA certificate used as an end-entity certificate (CaUsedAsEndEntity).
 */
export function lintRegistryCa(ca: { registry: string; pem: string; source: string }, add: AddFinding): void {
  const host = hostWithoutPort(ca.registry);
  for (const block of ca.pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      continue;
    }
    const namesRegistry = isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
    if (cert.ca && cert.checkIssued(cert) && namesRegistry) {
      add({
        code: 'L_CA_AS_SERVER_CERT',
        where: ca.source,
        problem: `the CA certificate for ${ca.registry} is a self-signed CA:TRUE certificate that names ${host} itself: if the registry serves it as its own certificate, the guest's rustls refuses it (CaUsedAsEndEntity) while podman and skopeo accept it`,
        fix: 'make a CA and a separate server certificate (CA:FALSE, subjectAltName of the registry) signed by it; serve the server certificate and give the guest the CA',
      });
    }
  }
}
