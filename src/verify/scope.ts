/**
 * Which requirement list applies to an image (both sides, docker transport): the reference with
 * tag/digest, the repository and its parent namespaces, `*.domain` wildcards, the `""` scope, then
 * `default`. First hit wins; lists are never merged; keys are compared literally.
 */
import type { PolicyRequirement } from '../policy/schema.js';
import { scopeCandidates, type DockerReference } from '../reference/index.js';
import type { ParsedPolicy } from './policy.js';

export interface SelectedScope {
  /** `docker:"<key>"`, `docker:""` or `default`. */
  scope: string;
  /** The key itself (`default` for the global default). */
  key: string;
  requirements: PolicyRequirement[];
}

export function selectRequirements(policy: ParsedPolicy, ref: DockerReference): SelectedScope {
  const docker = policy.docker;
  if (docker) {
    for (const key of [...scopeCandidates(ref), '']) {
      if (Object.prototype.hasOwnProperty.call(docker, key)) {
        return { scope: `docker:${JSON.stringify(key)}`, key, requirements: docker[key] ?? [] };
      }
    }
  }
  return { scope: 'default', key: 'default', requirements: policy.default };
}
