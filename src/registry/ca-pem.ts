/** What makes a PEM file usable as a registry CA: at least one certificate, each one parsable. */
import { X509Certificate } from 'node:crypto';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Why the text cannot serve as CA certificates (never quoting it: it may be a private key), or undefined. */
export function caPemProblem(pem: string): string | undefined {
  const certs = pem.match(PEM_CERT) ?? [];
  if (certs.length === 0) {
    return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)
      ? 'is a private key, not a CA certificate; give the certificate (-----BEGIN CERTIFICATE-----)'
      : 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it';
  }
  for (const cert of certs) {
    try {
      new X509Certificate(cert);
    } catch (e) {
      return `not a valid certificate (${(e as Error).message.split('\n')[0]})`;
    }
  }
  return undefined;
}
