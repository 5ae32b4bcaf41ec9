/** What build warns about in a bundle that loads: configuration that works, but not as the user likely meant. */
import { scopeMissingPortProblem } from '../reference/index.js';
import type { Bundle } from './types.js';

export function bundleWarnings(bundle: Bundle, now = new Date()): string[] {
  const out: string[] = [];
  const registries = bundle.registries.map((r) => r.registry);
  for (const scope of Object.keys(bundle.policy.transports?.docker ?? {})) {
    const problem = scopeMissingPortProblem(scope, registries);
    if (problem !== undefined) out.push(problem);
  }
  for (const entry of bundle.keyrings) {
    for (const d of entry.keyring.descriptions) {
      if (d.expires === null || Date.parse(d.expires) > now.getTime()) continue;
      out.push(
        `key ${d.fingerprint} (scope ${JSON.stringify(entry.scope)}) expired on ${d.expires}: allowExpired lets the guest trust it, but podman/CRI-O check expiry, so the host policy.json (--host-config) refuses its signatures`,
      );
    }
  }
  return out;
}
