/**
 * One HTTP(S) GET with what a registry client needs and node's defaults lack: extra trusted CAs on top of the
 * system ones, a host → address override (the bundle's /etc/hosts entries), a deadline for the whole exchange,
 * a cap on the body size, and errors that say which registry failed and why.
 */
import { X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { RegistryError } from './errors.js';

export interface TransportOptions {
  /** PEM CA certificates trusted in addition to the system's. */
  caPems?: string[];
  /** Plain http instead of https. */
  insecure?: boolean;
  /** Deadline for one request, headers and body (default 30 s). */
  timeoutMs?: number;
  /** `host` (without port) → IP address to connect to, keeping the name for TLS. */
  addresses?: Record<string, string>;
  /**
   * Accept a server certificate that is itself a CA (basicConstraints CA:TRUE), as curl, skopeo and podman do.
   * Off by default: the guest's rustls refuses it (CaUsedAsEndEntity), and this client answers as the guest.
   */
  allowCaLeaf?: boolean;
  /** CA certificates trusted in addition, each with where it came from (a guest CA bundle, a bundle's caFile…). */
  caSources?: ReadonlyArray<{ source: string; pem: string }>;
  /** Told, for each TLS connection made, which CA source (or the system's) made the server trusted. */
  onTrusted?: (registry: string, source: string) => void;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

function describeNetworkError(e: NodeJS.ErrnoException, registry: string, url: string): RegistryError {
  const code = e.code ?? '';
  if (UNREACHABLE_CODES.has(code)) {
    const why =
      {
        ECONNREFUSED: 'connection refused',
        ENOTFOUND: 'unknown host',
        EAI_AGAIN: 'host name lookup failed',
        ECONNRESET: 'connection reset',
      }[code] ?? code;
    return new RegistryError('E_REGISTRY_UNREACHABLE', registry, `cannot reach registry ${registry} (${url}): ${why}`, {
      cause: e,
    });
  }
  if (TLS_CODES.has(code) || /SSL|TLS|certificate/i.test(e.message)) {
    if (/wrong version number|packet length too long|http request/i.test(e.message)) {
      return new RegistryError(
        'E_REGISTRY_TLS',
        registry,
        `TLS handshake with registry ${registry} failed: it does not answer TLS (plain http?); use --insecure only for an http registry`,
        { cause: e },
      );
    }
    const hint =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'the certificate does not name this host (check its subjectAltName)'
        : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
          ? 'the certificate is outside its validity period (check it and the clock)'
          : "give the registry's CA certificate (the bundle's caFile or --ca-file)";
    return new RegistryError(
      'E_REGISTRY_TLS',
      registry,
      `TLS certificate of registry ${registry} not trusted: ${code || e.message}; ${hint}`,
      { cause: e },
    );
  }
  return new RegistryError(
    'E_REGISTRY_UNREACHABLE',
    registry,
    `request to registry ${registry} (${url}) failed: ${e.message}`,
    { cause: e },
  );
}

/**
 * GET `url`; rejects with RegistryError (never an unlabelled node error). `registry` names the registry in
 * messages. `maxBytes` caps the body: Content-Length above it or a longer stream gives E_REGISTRY_TOO_LARGE.
 */
export function httpGet(
  url: string,
  o: { registry: string; headers?: Record<string, string>; maxBytes: number; what: string } & TransportOptions,
): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === 'https:';
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const override = o.addresses?.[target.hostname];
  const lookup: net.LookupFunction | undefined = override
    ? (_host, options, cb) => {
        const family = net.isIP(override) || 4;
        if ((options as { all?: boolean }).all)
          (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
            { address: override, family },
          ]);
        else cb(null, override, family);
      }
    : undefined;

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (e: RegistryError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const requestOptions: https.RequestOptions = {
      method: 'GET',
      headers: { 'User-Agent': 'kbs-bundler', ...o.headers },
      ...(lookup ? { lookup } : {}),
      agent: false,
    };
    if (isHttps) {
      requestOptions.ca = [...tls.rootCertificates, ...(o.caPems ?? []), ...(o.caSources ?? []).map((s) => s.pem)];
      if (!net.isIP(target.hostname)) requestOptions.servername = target.hostname;
    }
    const req = (isHttps ? https : http).request(target, requestOptions, (res) => {
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && length > o.maxBytes) {
        fail(
          new RegistryError(
            'E_REGISTRY_TOO_LARGE',
            o.registry,
            `${o.what} from registry ${o.registry} is ${length} bytes, over the ${o.maxBytes}-byte limit`,
            { status: res.statusCode ?? 0 },
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > o.maxBytes) {
          fail(
            new RegistryError(
              'E_REGISTRY_TOO_LARGE',
              o.registry,
              `${o.what} from registry ${o.registry} is over the ${o.maxBytes}-byte limit`,
              { status: res.statusCode ?? 0 },
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (e) => fail(describeNetworkError(e, o.registry, url)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url });
      });
    });
    const timer = setTimeout(() => {
      fail(
        new RegistryError(
          'E_REGISTRY_TIMEOUT',
          o.registry,
          `registry ${o.registry} did not answer within ${timeoutMs} ms (${url})`,
        ),
      );
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => fail(describeNetworkError(e, o.registry, url)));
    if (isHttps && o.onTrusted) {
      const onTrusted = o.onTrusted;
      req.on('socket', (socket) => {
        socket.once('secureConnect', () => {
          const source = trustSource((socket as tls.TLSSocket).getPeerCertificate(true), o.caSources ?? []);
          onTrusted(o.registry, source ?? (o.caPems?.length ? 'the given CA certificates' : 'the system CAs'));
        });
      });
    }
    if (isHttps && !o.allowCaLeaf) {
      req.on('socket', (socket) => {
        socket.once('secureConnect', () => {
          if ((socket as tls.TLSSocket).getPeerCertificate().ca) {
            fail(
              new RegistryError(
                'E_REGISTRY_TLS',
                o.registry,
                `registry ${o.registry} presents a CA certificate (basicConstraints CA:TRUE) as its server certificate: the guest's rustls ` +
                  'refuses it (CaUsedAsEndEntity) although curl, skopeo and podman accept it; give the registry a CA:FALSE server certificate signed by that CA',
              ),
            );
          }
        });
      });
    }
    req.end();
  });
}

/** The first CA source holding a certificate of the server's chain, or the issuer of its last one. */
function trustSource(
  peer: tls.DetailedPeerCertificate,
  sources: ReadonlyArray<{ source: string; pem: string }>,
): string | undefined {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (
    let c: tls.DetailedPeerCertificate | undefined = peer;
    c?.raw && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
  }
  for (const { source, pem } of sources) {
    for (const text of pem.match(PEM_CERTIFICATE) ?? []) {
      let ca: X509Certificate;
      try {
        ca = new X509Certificate(text);
      } catch {
        continue;
      }
      if (chain.some((c) => c.raw.equals(ca.raw) || (c.checkIssued(ca) && c.verify(ca.publicKey)))) return source;
    }
  }
  return undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
