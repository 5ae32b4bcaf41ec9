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

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** A namespace is a DNS-1123 label (as kubectl checks it): a Secret in any other is refused by every cluster. */
export function assertK8sNamespace(namespace: string, option: string): void {
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace))
    throw new InputError(
      'E_K8S_NAMESPACE',
      { field: option },
      `${JSON.stringify(namespace.slice(0, 80))} is not a Kubernetes namespace: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
}

export interface K8sManifests {
  text: string;
  /** Secret names, for `KbsConfig.spec.kbsSecretResources`. */
  kbsSecretResources: string[];
}

export function k8sManifests(resources: readonly KbsResource[], namespace = DEFAULT_K8S_NAMESPACE): K8sManifests {
  assertK8sNamespace(namespace, '--k8s-namespace');
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
