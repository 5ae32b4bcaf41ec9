/**
 * trustee-operator form: one Secret per resource type, one data key per tag (as
 * `kubectl create secret generic <type> -n trustee-operator-system --from-file=<tag>=<file>` makes
 * them), served as `kbs:///default/<secret>/<key>`; plus the KbsConfig `kbsSecretResources` list.
 */
import { stringify } from 'yaml';
import { InputError } from '../errors.js';
import type { KbsResource } from './render.js';
import { compare } from './render.js';
import { resourcePath } from '../resource-id/resource-id.js';

export const DEFAULT_K8S_NAMESPACE = 'trustee-operator-system';

export interface K8sManifests {
  text: string;
  /** Secret names, for `KbsConfig.spec.kbsSecretResources`. */
  kbsSecretResources: string[];
}

export function k8sManifests(resources: readonly KbsResource[], namespace = DEFAULT_K8S_NAMESPACE): K8sManifests {
  const byType = new Map<string, Map<string, string>>();
  for (const r of resources) {
    if (r.id.repository !== 'default') {
      throw new InputError(
        'E_K8S_REPOSITORY',
        { field: '--k8s' },
        `trustee-operator serves Secrets as kbs:///default/<secret>/<key>, so ${resourcePath(r.id)} cannot be expressed; use repository "default" for --k8s`,
      );
    }
    const data = byType.get(r.id.type) ?? new Map<string, string>();
    data.set(r.id.tag, Buffer.from(r.bytes).toString('base64'));
    byType.set(r.id.type, data);
  }
  const types = [...byType.keys()].sort(compare);
  const docs = types.map((type) => {
    const data = byType.get(type)!;
    return stringify(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: type, namespace },
        type: 'Opaque',
        data: Object.fromEntries([...data.entries()].sort(([a], [b]) => compare(a, b))),
      },
      { lineWidth: 0 },
    );
  });
  const header = [
    '# Kubernetes Secrets for trustee-operator, written by kbs-bundler build --k8s.',
    '# Apply with: kubectl apply -f <this file>',
    '# Then list them in the KbsConfig (spec.kbsSecretResources):',
    `#   kbsSecretResources: ${JSON.stringify(types)}`,
    '# This file holds the registry credential when one is configured: keep it private.',
  ].join('\n');
  return { text: `${header}\n---\n${docs.join('---\n')}`, kbsSecretResources: types };
}
