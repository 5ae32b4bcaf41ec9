/**
 * trustee's admin API for resources, as kbs/docs/admin.md (v0.21) documents it:
 * `POST <kbs>/kbs/v0/resource/<repo>/<type>/<tag>`, body application/octet-stream,
 * `Authorization: Bearer <JWT>`. A refusal carries trustee's ErrorInformation JSON (`{type, detail}`).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import { resourcePath, type ResourceId } from '../resource-id/resource-id.js';
import { KbsRefusedError, KbsUnreachableError } from './errors.js';

export interface AdminTarget {
  /** The KBS base URL (validated, no trailing slash). */
  kbsUrl: string;
  token: string;
  /** PEM of the KBS's https certificate or CA, trusted besides the system roots (kbs-client --cert-file). */
  caPem?: string;
  timeoutMs?: number;
}

export function resourceEndpoint(kbsUrl: string, id: ResourceId): string {
  return `${kbsUrl}/kbs/v0/resource/${resourcePath(id)}`;
}

/** trustee's `detail`, else the body's first line; never the token. */
function refusalDetail(body: string, token: string): string {
  let detail = body.trim();
  try {
    const info = JSON.parse(body) as { detail?: unknown };
    if (typeof info.detail === 'string') detail = info.detail;
  } catch {
    // not trustee's JSON (a proxy in front of it): its text
  }
  detail = (detail.split('\n')[0] ?? '').slice(0, 300).split(token).join('<token>');
  return detail || '(empty body)';
}

export function setResource(target: AdminTarget, id: ResourceId, bytes: Uint8Array): Promise<void> {
  const url = new URL(resourceEndpoint(target.kbsUrl, id));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Length': bytes.length,
          Authorization: `Bearer ${target.token}`,
        },
        ...(url.protocol === 'https:' && target.caPem !== undefined ? { ca: [...rootCertificates, target.caPem] } : {}),
        timeout: target.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new KbsUnreachableError(`${url.origin}: ${e.message}`, { cause: e })));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const detail = refusalDetail(Buffer.concat(chunks).toString('utf8'), target.token);
          reject(new KbsRefusedError(status, detail, `the KBS refused ${resourcePath(id)}: HTTP ${status}: ${detail}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within the timeout')));
    req.on('error', (e) =>
      reject(new KbsUnreachableError(`cannot reach the KBS at ${url.origin}: ${e.message}`, { cause: e })),
    );
    req.end(bytes);
  });
}
