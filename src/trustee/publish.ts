/**
 * publish: set every resource `build` writes on a running KBS through its admin API, in build's order,
 * stopping at the first refusal. The resources are the bytes renderResources gives build, so a published
 * KBS holds exactly what `build -o` would have written.
 */
import { createHash } from 'node:crypto';
import type { Bundle } from '../bundle/types.js';
import { renderResources } from '../kbs/render.js';
import { resourcePath } from '../resource-id/resource-id.js';
import { KbsRefusedError } from './errors.js';
import { resourceEndpoint, setResource, type AdminTarget } from './admin-client.js';

export interface PublishOptions {
  bundle: Bundle;
  target: AdminTarget;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  onProgress?: (done: number, total: number) => void;
}

export interface PublishedResource {
  resource: string;
  endpoint: string;
  size: number;
  sha256: string;
}

export interface PublishResult {
  kbsUrl: string;
  dryRun: boolean;
  resources: PublishedResource[];
}

export async function publishBundle(o: PublishOptions): Promise<PublishResult> {
  const resources = await renderResources(o.bundle, { env: o.env ?? process.env });
  const done: PublishedResource[] = [];
  const planned = resources.map((r) => ({
    resource: resourcePath(r.id),
    endpoint: resourceEndpoint(o.target.kbsUrl, r.id),
    size: r.bytes.length,
    sha256: createHash('sha256').update(r.bytes).digest('hex'),
  }));
  if (o.dryRun) return { kbsUrl: o.target.kbsUrl, dryRun: true, resources: planned };
  for (const [i, r] of resources.entries()) {
    try {
      await setResource(o.target, r.id, r.bytes);
    } catch (e) {
      if (e instanceof KbsRefusedError) {
        const before = done.length ? `; set before it: ${done.map((d) => d.resource).join(', ')}` : '; nothing was set';
        throw new KbsRefusedError(e.status, e.detail, `${e.message}${before}`);
      }
      throw e;
    }
    done.push(planned[i]!);
    o.onProgress?.(i + 1, resources.length);
  }
  return { kbsUrl: o.target.kbsUrl, dryRun: false, resources: done };
}
