/**
 * A scope names a registry by host and port exactly as image references do: `registry.com` never
 * matches an image of `registry.com:5000`. A scope without the port of the only registry of that host
 * the bundle configures is almost always that mistake.
 */

/** The host[:port] a scope key starts with, or undefined for wildcard and empty keys. */
function scopeRegistry(scope: string): string | undefined {
  if (scope === '' || scope.startsWith('*.')) return undefined;
  return scope.split('/')[0];
}

/**
 * Why the scope misses the port of a configured registry, or undefined. `registries`: `host[:port]` keys;
 * `namedBy` says where the registries with that port were configured (default: bundle.yaml's `registries:`).
 */
export function scopeMissingPortProblem(
  scope: string,
  registries: readonly string[],
  namedBy: (withPort: readonly string[]) => string = (withPort) => `registries: has ${withPort.join(', ')}`,
): string | undefined {
  const registry = scopeRegistry(scope);
  if (registry === undefined || registry.includes(':') || registries.includes(registry)) return undefined;
  const withPort = registries.filter((r) => r.startsWith(`${registry}:`) && /^\d+$/.test(r.slice(registry.length + 1)));
  if (withPort.length === 0) return undefined;
  return `scope ${JSON.stringify(scope)} names ${registry} without a port while ${namedBy(withPort)}: it never matches an image of ${withPort[0]} (scopes compare the registry with its port)`;
}

/** The scope with the registry's port added, for the fix. */
export function scopeWithPort(scope: string, registries: readonly string[]): string | undefined {
  const registry = scopeRegistry(scope);
  const withPort = registries.find((r) => registry !== undefined && r.startsWith(`${registry}:`));
  return withPort === undefined || registry === undefined ? undefined : withPort + scope.slice(registry.length);
}
