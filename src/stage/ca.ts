/**
 * Registry CA certificates for the guest's bundles: which bundles there are, whether a
 * certificate is already in one, and the rustls trap of a self-signed server certificate that
 * carries CA:TRUE (rustls refuses it as CaUsedAsEndEntity).
 */
import { X509Certificate } from 'node:crypto';
import { hostWithoutPort } from '../reference/index.js';

/** Bundle files by distro family (docs/kbs-and-guest-images.md §4). */
export const CA_BUNDLE_FAMILIES: ReadonlyArray<{ family: string; paths: readonly string[] }> = [
  { family: 'Debian/Ubuntu', paths: ['/etc/ssl/certs/ca-certificates.crt'] },
  {
    family: 'RHEL family (openEuler, CentOS, Mariner)',
    paths: [
      '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
      '/etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt',
    ],
  },
];

export interface CaCertificate {
  registry: string;
  pem: string;
  der: Buffer;
  /** CA:TRUE in basic constraints. */
  isCa: boolean;
  selfSigned: boolean;
  /** The certificate names the registry host itself (it is the server's own certificate). */
  namesRegistry: boolean;
  subject: string;
}

const PEM_BLOCK =
  /-----BEGIN (?:TRUSTED )?CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END (?:TRUSTED )?CERTIFICATE-----/g;

/** DER bodies of every certificate block in a PEM text (TRUSTED CERTIFICATE blocks included). */
export function pemBodies(text: string): Buffer[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64'));
}

export function readCaCertificates(registry: string, pemText: string): CaCertificate[] {
  const host = hostWithoutPort(registry).replace(/^\[|\]$/g, '');
  const isIp = /^[0-9.]+$/.test(host) || host.includes(':');
  return pemBodies(pemText).map((der) => {
    const cert = new X509Certificate(der);
    const namesRegistry = isIp ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
    return {
      registry,
      pem: cert.toString().trim(),
      der,
      isCa: cert.ca,
      selfSigned: cert.checkIssued(cert),
      namesRegistry,
      subject: cert.subject.replace(/\n/g, ', '),
    };
  });
}

/** Whether `bundle` already holds `der` (a TRUSTED CERTIFICATE block holds the DER plus trust data). */
export function bundleHas(bundleDers: readonly Buffer[], der: Buffer): boolean {
  return bundleDers.some((b) => b.length >= der.length && b.subarray(0, der.length).equals(der));
}
