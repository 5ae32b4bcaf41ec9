/**
 * `lint`: every piece of configuration the guest will fail on, or treat differently from the host,
 * each with its fix. Reads the same inputs as the verifier (policy, sigstore config, KBS resources,
 * optionally the rootfs) but judges configuration, not one image.
 */
import { scopeMissingPortProblem, scopeWithPort } from '../../reference/index.js';
import type { PolicyRequirement } from '../../policy/schema.js';
import type { SignatureBackend } from '../backend.js';
import { parsePolicy } from '../policy.js';
import { lintRegistryCa } from './registry-ca.js';
import { lintRequirement } from './requirement.js';
import { scopeFix, scopeKeyProblem } from './scope-keys.js';
import { lintSigstoreConfig } from './sigstore-config.js';
import type { LintFinding, LintInputs } from './types.js';
import {
  CURRENT_GUEST_RELEASE,
  formatGuestRelease,
  GUEST_FEATURES,
  guestHas,
} from '../../releases/guest-components.js';

export type { LintFinding, LintInputs } from './types.js';

export async function lintConfiguration(inputs: LintInputs, backend: SignatureBackend): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  const add = (f: LintFinding) => findings.push(f);
  const now = inputs.now ?? new Date();
  const policyName = inputs.policy.source;

  const guest = parsePolicy(inputs.policy.bytes, 'guest');
  const host = parsePolicy(inputs.policy.bytes, 'host');
  let raw: { default?: unknown; transports?: Record<string, Record<string, unknown>> } = {};
  try {
    raw = JSON.parse(Buffer.from(inputs.policy.bytes).toString('utf8')) as typeof raw;
  } catch {
    // reported below through the parse results
  }
  if (!guest.ok) {
    const missingTransports = raw && typeof raw === 'object' && !('transports' in raw);
    add({
      code: missingTransports ? 'L_MISSING_TRANSPORTS' : 'L_POLICY_GUEST_INVALID',
      where: policyName,
      problem: `the guest cannot read the policy: Invalid image policy file${guest.detail ? ` (${guest.detail})` : ''}; every pull fails`,
      fix: missingTransports
        ? 'add "transports": {"docker": {}} (image-rs requires both "default" and "transports")'
        : 'fix the field named; image-rs knows insecureAcceptAnything, reject, signedBy and sigstoreSigned only',
    });
  }
  if (!host.ok) {
    const empty = host.reason.includes('must not be empty');
    if (!empty)
      add({
        code: 'L_POLICY_HOST_INVALID',
        where: policyName,
        problem: `podman/CRI-O refuse the policy: ${host.reason}`,
        fix: 'fix the field named so that host and guest read the same policy',
      });
  }

  // Walk the requirement lists as the guest reads them (or the raw JSON when the guest cannot).
  const lists: Array<[string, string | undefined, unknown]> = [];
  if (Array.isArray(raw.default)) lists.push([`${policyName} default`, undefined, raw.default]);
  for (const [transport, scopes] of Object.entries(raw.transports ?? {})) {
    if (transport !== 'docker') continue;
    for (const [key, reqs] of Object.entries(scopes ?? {}))
      lists.push([`${policyName} transports.docker[${JSON.stringify(key)}]`, key, reqs]);
  }

  const sigstore = lintSigstoreConfig(inputs, add);

  for (const [where, key, reqs] of lists) {
    if (key !== undefined) {
      const problem = scopeKeyProblem(key);
      if (problem)
        add({
          code: 'L_SCOPE_NEVER_MATCHES',
          where,
          problem: `scope key ${JSON.stringify(key)} ${problem}`,
          fix: scopeFix(key),
        });
      const portProblem = scopeMissingPortProblem(key, inputs.registries ?? [], registriesNamedBy(inputs));
      if (portProblem)
        add({
          code: 'L_SCOPE_MISSES_PORT',
          where,
          problem: portProblem,
          fix: `write the scope with the port: ${JSON.stringify(scopeWithPort(key, inputs.registries ?? []))}`,
        });
    }
    if (!Array.isArray(reqs)) continue;
    if (reqs.length === 0) {
      const allows = guestHas(inputs.guestRelease ?? CURRENT_GUEST_RELEASE, 'emptyRequirementListAllows');
      add({
        code: 'L_EMPTY_LIST',
        where,
        problem: allows
          ? 'empty requirement list: image-rs allows any image here, podman/CRI-O refuse the whole policy (List of verification policy requirements must not be empty)'
          : `empty requirement list: image-rs before ${formatGuestRelease(GUEST_FEATURES.emptyRequirementListAllows.since)} fails every pull it covers, podman/CRI-O refuse the whole policy (List of verification policy requirements must not be empty)`,
        fix: 'write [{"type": "insecureAcceptAnything"}] to allow or [{"type": "reject"}] to refuse, explicitly',
      });
      continue;
    }
    for (const [i, r] of (reqs as Array<Record<string, unknown>>).entries()) {
      await lintRequirement(
        r as PolicyRequirement & Record<string, unknown>,
        `${where}[${i}]`,
        key,
        inputs,
        sigstore,
        backend,
        now,
        add,
      );
    }
  }
  if (
    !inputs.sigstoreConfig &&
    lists.some(([, , reqs]) => Array.isArray(reqs) && reqs.some((r) => (r as { type?: unknown }).type === 'signedBy'))
  ) {
    add({
      code: 'L_NO_SIGSTORE_CONFIG',
      where: policyName,
      problem: 'signedBy rules but no sigstore config: image-rs fails with "Simple Signing Sigstore Config not set"',
      fix: 'add the sigstore-config resource (sigstore: file:///… for the scopes) and set sigstore_config_uri in cdh.toml',
    });
  }
  for (const ca of inputs.registryCas ?? []) lintRegistryCa(ca, add);
  return findings;
}

/** Undefined for bundle.yaml's `registries:` (the default wording); else the KBS resources that named them. */
function registriesNamedBy(inputs: LintInputs): ((withPort: readonly string[]) => string) | undefined {
  const sources = inputs.registrySources;
  if (!sources) return undefined;
  return (withPort) => {
    const named = [...new Set(withPort.flatMap((r) => sources.get(r) ?? []))];
    return `${named.join(' and ')} name${named.length === 1 ? 's' : ''} ${withPort.join(', ')}`;
  };
}
