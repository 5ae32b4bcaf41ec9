/**
 * A loopback HTTPS stand-in for trustee v0.21's resource admin API, enforcing what kbs/docs/admin.md and
 * kbs/src/admin/ document: `POST /kbs/v0/resource/<repo>/<type>/<tag>`, body application/octet-stream,
 * `Authorization: Bearer <JWT>` verified against the trusted public keys (EdDSA or ES256), not expired,
 * a `role` claim, and a regex ACL per role. Refusals are 401 with trustee's ErrorInformation JSON, as
 * trustee answers every admin failure; role `gateway-blocked` gets a 403 with a plain body, as a proxy
 * in front of the KBS would.
 */
import { verify, type KeyObject } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

const ERROR_TYPE_PREFIX = 'https://github.com/confidential-containers/kbs/errors';
const SEGMENT = /^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$/;

export interface AdminServerOptions {
  certPem: string;
  keyPem: string;
  /** Public keys of trusted token issuers. */
  trustedKeys: KeyObject[];
  /** role → allowed endpoint regexes (anchored, as trustee requires). */
  acls: Record<string, RegExp[]>;
}

export interface AdminRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  claims?: Record<string, unknown>;
  status: number;
}

export interface AdminServer {
  url: string;
  /** `repo/type/tag` → the bytes set. */
  resources: Map<string, Buffer>;
  requests: AdminRequest[];
  close(): Promise<void>;
}

function verifyJwt(token: string, keys: KeyObject[]): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  const input = Buffer.from(`${h}.${p}`, 'ascii');
  const sig = Buffer.from(s, 'base64url');
  const ok = keys.some((k) =>
    header.alg === 'EdDSA' && k.asymmetricKeyType === 'ed25519'
      ? verify(null, input, k, sig)
      : header.alg === 'ES256' && k.asymmetricKeyType === 'ec'
        ? verify('sha256', input, { key: k, dsaEncoding: 'ieee-p1363' }, sig)
        : false,
  );
  return ok ? (JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>) : undefined;
}

export async function startAdminServer(o: AdminServerOptions): Promise<AdminServer> {
  const resources = new Map<string, Buffer>();
  const requests: AdminRequest[] = [];
  const server = https.createServer({ cert: o.certPem, key: o.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const record: AdminRequest = {
        method: req.method ?? '',
        path,
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        status: 0,
      };
      requests.push(record);
      const answer = (status: number, kind: string, detail: string) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: `${ERROR_TYPE_PREFIX}/${kind}`, detail }));
      };
      const denied = (reason: string) =>
        answer(401, 'AdminAuthAccess', `admin access denied for endpoint ${path}: Admin access denied: ${reason}`);

      const segments = path.split('/').slice(4);
      if (!path.startsWith('/kbs/v0/resource/') || segments.length !== 3 || !segments.every((s) => SEGMENT.test(s))) {
        return answer(404, 'InvalidRequestPath', `Request path ${path} is invalid`);
      }
      if (req.method !== 'POST') return answer(405, 'MethodNotAllowed', `${req.method ?? ''} is not allowed`);
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      if (!bearer) return answer(401, 'AdminAuthAccess', 'Failed to parse HTTP Auth Bearer header');
      const claims = verifyJwt(bearer[1]!, o.trustedKeys);
      if (!claims) return denied('Cannot verify token with any of the issuers');
      record.claims = claims;
      if (typeof claims.exp === 'number' && claims.exp < Date.now() / 1000) return denied('token expired');
      if (typeof claims.role !== 'string') return denied('Missing required `role` claim in JWT');
      if (claims.role === 'gateway-blocked') {
        record.status = 403;
        res.writeHead(403, { 'content-type': 'text/plain' });
        return res.end('forbidden by the gateway\n');
      }
      if (!(o.acls[claims.role] ?? []).some((re) => re.test(path))) {
        return denied(`Role ${claims.role} not allowed for path ${path}`);
      }
      if (req.headers['content-type'] !== 'application/octet-stream') {
        return answer(415, 'UnsupportedMediaType', 'expected application/octet-stream');
      }
      resources.set(segments.join('/'), Buffer.concat(chunks));
      record.status = 200;
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    resources,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
