/**
 * Docker image references as containers/image (`docker/reference`) and image-rs (oci-spec
 * `Reference`) parse them: `busybox` → `docker.io/library/busybox:latest`.
 *
 * Both programs share the grammar and the normalisation rules; where they differ it is in how the
 * parsed values are compared (see verify/), not in parsing.
 */
import { InputError } from '../errors.js';

export interface DockerReference {
  /** `host[:port]`, e.g. `docker.io`, `registry.example.com:5000`. */
  readonly registry: string;
  /** Path below the registry, e.g. `library/busybox`. Lowercase. */
  readonly repository: string;
  readonly tag?: string;
  /** `algo:hex`, validated. */
  readonly digest?: string;
}

export class ReferenceParseError extends InputError {
  /** What is wrong, without the reference (for messages about a file that must not quote it). */
  readonly detail: string;
  constructor(input: string, problem: string) {
    super('E_REFERENCE', {}, `invalid reference ${JSON.stringify(input)}: ${problem}`);
    this.detail = problem;
    this.name = 'ReferenceParseError';
  }
}

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const referenceRe = new RegExp(
  `^((?:${domain}/)?${pathComponent}(?:/${pathComponent})*)(?::(${tagPattern}))?(?:@(${digestPattern}))?$`,
);
const domainRe = new RegExp(`^${domain}$`);
const tagRe = new RegExp(`^${tagPattern}$`);

const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Validates `algo:hex` as opencontainers/go-digest does; returns the problem or undefined. */
export function digestProblem(digest: string): string | undefined {
  const i = digest.indexOf(':');
  if (i <= 0 || i === digest.length - 1) return 'invalid checksum digest format';
  const algo = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  const len = DIGEST_HEX_LENGTH[algo];
  if (len === undefined) return 'unsupported digest algorithm';
  if (hex.length !== len) return 'invalid checksum digest length';
  if (!/^[a-f0-9]+$/.test(hex)) return 'invalid checksum digest format';
  return undefined;
}

export function isValidDigest(digest: string): boolean {
  return digestProblem(digest) === undefined;
}

export function isValidTag(tag: string): boolean {
  return tagRe.test(tag);
}

/** True when `s` is a registry host as the first path component: has `.` or `:`, or is `localhost`. */
function looksLikeDomain(s: string): boolean {
  return s.includes('.') || s.includes(':') || s === 'localhost';
}

/**
 * `ParseNormalizedNamed`: expands short names, keeps the reference without adding a tag.
 * Use {@link parseReference} to also add `:latest` the way pulls do.
 */
export function parseNormalizedNamed(input: string): DockerReference {
  if (/^[a-f0-9]{64}$/.test(input)) {
    throw new ReferenceParseError(input, 'cannot specify 64-byte hexadecimal strings');
  }
  let registry: string;
  let remainder: string;
  const slash = input.indexOf('/');
  const first = slash === -1 ? '' : input.slice(0, slash);
  if (slash === -1 || !looksLikeDomain(first)) {
    registry = 'docker.io';
    remainder = input;
  } else {
    registry = first;
    remainder = input.slice(slash + 1);
  }
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`;

  const nameEnd = remainder.search(/[:@]/);
  const remoteName = nameEnd === -1 ? remainder : remainder.slice(0, nameEnd);
  if (remoteName.toLowerCase() !== remoteName) {
    throw new ReferenceParseError(input, 'repository name must be lowercase');
  }
  const full = `${registry}/${remainder}`;
  const m = referenceRe.exec(full);
  if (!m) throw new ReferenceParseError(input, 'invalid reference format');
  const nameWithDomain = m[1] ?? '';
  if (nameWithDomain.length > 255) {
    throw new ReferenceParseError(input, 'repository name must not be more than 255 characters');
  }
  if (!domainRe.test(registry)) throw new ReferenceParseError(input, 'invalid reference format');
  const tag = m[2];
  const digest = m[3];
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem) throw new ReferenceParseError(input, problem);
  }
  return {
    registry,
    repository: nameWithDomain.slice(registry.length + 1),
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** Parses and adds `:latest` when there is neither tag nor digest (what a pull does). */
export function parseReference(input: string): DockerReference {
  return withDefaultTag(parseNormalizedNamed(input));
}

export function withDefaultTag(ref: DockerReference): DockerReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
}

/** `registry/repository`, Go's `Name()`. */
export function referenceName(ref: DockerReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** `registry/repository[:tag][@digest]`: Go's `String()`, oci-spec's `whole()`. */
export function referenceString(ref: DockerReference): string {
  let s = referenceName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** `FamiliarString`: `docker.io/library/busybox:latest` → `busybox:latest`. */
export function familiarString(ref: DockerReference): string {
  let name = referenceName(ref);
  if (ref.registry === 'docker.io') {
    name =
      ref.repository.startsWith('library/') && ref.repository.split('/').length === 2
        ? ref.repository.slice('library/'.length)
        : ref.repository;
  }
  let s = name;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** True when `s` parses and is already in canonical form (Go's `ParseNamed`). */
export function isCanonical(s: string): boolean {
  try {
    return referenceString(parseNormalizedNamed(s)) === s;
  } catch {
    return false;
  }
}

/** Host without its port: `registry.example.com:5000` → `registry.example.com`. */
export function hostWithoutPort(registry: string): string {
  if (registry.startsWith('[')) {
    const end = registry.indexOf(']');
    return registry.slice(0, end + 1);
  }
  const colon = registry.lastIndexOf(':');
  return colon === -1 ? registry : registry.slice(0, colon);
}

/**
 * The scope keys a policy or sigstore config is searched with, most specific first (both the
 * guest and the host): the reference with tag/digest, the repository, each parent namespace down
 * to `host[:port]`, then `*.domain` wildcards built from the host without its port.
 * The `""` transport scope and `default` come after these and are the caller's business.
 */
export function scopeCandidates(ref: DockerReference): string[] {
  const out: string[] = [];
  const name = referenceName(ref);
  const identity = referenceString(ref);
  if (identity !== name) out.push(identity);
  let ns = name;
  out.push(ns);
  for (let i = ns.lastIndexOf('/'); i > 0; i = ns.lastIndexOf('/')) {
    ns = ns.slice(0, i);
    out.push(ns);
  }
  const host = hostWithoutPort(ref.registry);
  if (!host.startsWith('[')) {
    const labels = host.split('.');
    for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
  }
  return out;
}

/** Validates a registry `host[:port]` string. */
export function isValidRegistry(registry: string): boolean {
  return domainRe.test(registry);
}
