/**
 * The sigstore configs `build` writes (and most hand-written ones) use a tiny, fixed part of YAML:
 *
 *     default-docker:
 *       sigstore: file:///var/lib/containers/sigstore
 *     docker:
 *       registry.example.com:5000:
 *         sigstore: file:///var/lib/containers/sigstore
 *
 * (or `docker: {}`). Reading exactly that form here spares a cold-start `verify` loading the yaml
 * package. Anything else — comments, quotes, flow style, other keys, other
 * indentation, values YAML would read as anything but the literal string — answers undefined and
 * the caller parses with the yaml package. Within the form the result equals yaml's `parse`
 * (test/verify/plain-yaml.test.ts compares them).
 */
const KEY = /^[a-z][a-z0-9._:/-]*$/;
const URL_VALUE = /^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9._~:/@%+=,-]*$/;
/** Letter-first plain scalars that YAML 1.2 (core schema) does not read as strings. */
const SPECIAL = /^(true|false|null)$/i;

export function parsePlainSigstoreYaml(text: string): Record<string, unknown> | undefined {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const out: Record<string, unknown> = {};
  const entry = (line: string | undefined, indent: string): { sigstore: string } | undefined => {
    if (line === undefined || !line.startsWith(`${indent}sigstore: `)) return undefined;
    const value = line.slice(indent.length + 'sigstore: '.length);
    return URL_VALUE.test(value) ? { sigstore: value } : undefined;
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line === 'default-docker:' && !('default-docker' in out)) {
      const e = entry(lines[i + 1], '  ');
      if (!e) return undefined;
      out['default-docker'] = e;
      i += 2;
    } else if (line === 'docker: {}' && !('docker' in out)) {
      out.docker = {};
      i += 1;
    } else if (line === 'docker:' && !('docker' in out)) {
      const docker: Record<string, { sigstore: string }> = {};
      i += 1;
      while (i < lines.length && lines[i]!.startsWith('  ')) {
        const head = lines[i]!;
        if (!head.endsWith(':')) return undefined;
        const key = head.slice(2, -1);
        if (!KEY.test(key) || SPECIAL.test(key) || key.endsWith(':') || key in docker || key === '__proto__')
          return undefined;
        const e = entry(lines[i + 1], '    ');
        if (!e) return undefined;
        docker[key] = e;
        i += 2;
      }
      if (Object.keys(docker).length === 0) return undefined; // `docker:` alone is null in YAML
      out.docker = docker;
    } else return undefined;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
