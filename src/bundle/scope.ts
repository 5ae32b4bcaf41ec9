/**
 * Policy and sigstore-config scope keys. Both the guest and the host compare scopes literally with
 * names built from the fully expanded, lowercase reference (docs/guest-vs-host.md §3), so a scope that
 * is not in that form can never match: it is refused here rather than written and ignored.
 */
import { isValidRegistry, parseNormalizedNamed, referenceString } from '../reference/index.js';

const DOMAIN_LABEL = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;

/** The problem with `scope`, or undefined when it is a usable scope. */
export function scopeProblem(scope: string): string | undefined {
  if (scope === '') return 'empty scope; put rules for every other image under policy.default';
  if (/\s/.test(scope)) return 'not a valid scope: contains whitespace';
  if (scope !== scope.toLowerCase()) return 'repository must be lowercase';
  if (scope.startsWith('*.')) return wildcardProblem(scope);
  if (scope.includes('*'))
    return 'not a valid scope: a wildcard is only allowed as a leading "*." (e.g. *.example.com)';
  const slash = scope.indexOf('/');
  const host = slash === -1 ? scope : scope.slice(0, slash);
  const hostProblem = registryProblem(host);
  if (hostProblem !== undefined) {
    if (!looksLikeRegistry(host)) {
      return `not a valid scope: ${JSON.stringify(host)} is not a registry host; scopes are matched against fully expanded names (e.g. docker.io/library/busybox)`;
    }
    return hostProblem;
  }
  if (slash === -1) return undefined;
  let canonical: string;
  try {
    canonical = referenceString(parseNormalizedNamed(scope));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return `not a valid scope: ${message.replace(/^invalid reference "[^"]*": /, '')}`;
  }
  if (canonical !== scope) return `not a valid scope: write the fully expanded name ${JSON.stringify(canonical)}`;
  return undefined;
}

function looksLikeRegistry(host: string): boolean {
  return host.includes('.') || host.includes(':') || host === 'localhost';
}

/** Problem with a `host[:port]` registry name, or undefined. */
export function registryProblem(registry: string): string | undefined {
  if (!looksLikeRegistry(registry)) {
    return `${JSON.stringify(registry)} is not a registry host (needs a "." or ":" or to be localhost)`;
  }
  if (registry !== registry.toLowerCase()) return 'registry must be lowercase';
  const portMatch = /^(.*?)(?::([^:\]]*))?$/.exec(
    registry.startsWith('[') ? registry.replace(/^\[[^\]]*\]/, 'ipv6') : registry,
  );
  const port = portMatch?.[2];
  if (port !== undefined) {
    if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return `bad port ${JSON.stringify(port)} (must be a number from 1 to 65535)`;
    }
  }
  if (!isValidRegistry(registry)) return `not a valid registry host ${JSON.stringify(registry)}`;
  return undefined;
}

function wildcardProblem(scope: string): string | undefined {
  const domain = scope.slice(2);
  if (domain.includes(':'))
    return 'not a valid scope: a wildcard scope matches the host without its port; drop the port';
  const labels = domain.split('.');
  if (labels.some((l) => !DOMAIN_LABEL.test(l)))
    return `not a valid scope: ${JSON.stringify(domain)} is not a domain name`;
  return undefined;
}
