/**
 * Image references as the guest parses them: oci-spec's `Reference::try_from` (the `Reference`
 * oci-client re-exports to image-rs). Its grammar is not containers/image's, and the guest decides on
 * what it parses:
 * - the regular expression runs on the reference as written, before `docker.io/` is added, and its
 *   optional domain part allows uppercase: `Mirror/app` is `docker.io/Mirror/app`;
 * - no bracketed IPv6 registry;
 * - the 255-character limit counts the repository without the registry (with `library/` added);
 * - a tag's `\w` is Unicode-aware (Rust regex), a digest's hex may be uppercase, a 64-hex name is a name.
 */
import { ReferenceParseError, type DockerReference } from './reference.js';

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const pathComponent = '[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?';
const word = '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';
const GUEST_REFERENCE = new RegExp(
  `^((?:${domainComponent}(?:(?:\\.${domainComponent})+)?(?::[0-9]+)?/)?${pathComponent}(?:(?:/${pathComponent})+)?)` +
    `(?::(${word}[${word.slice(1, -1)}.-]{0,127}))?` +
    `(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}))?$`,
  'u',
);

const NAME_TOTAL_LENGTH_MAX = 255;
const DIGEST_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** oci-spec `split_domain`: the first component is the registry only when it looks like a host. */
function splitDomain(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  let registry = 'docker.io';
  let repository = name;
  if (slash !== -1) {
    const left = name.slice(0, slash);
    if (left.includes('.') || left.includes(':') || left === 'localhost') {
      registry = left;
      repository = name.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository };
}

/** `Reference::try_from`, including its `:latest` when there is neither tag nor digest. */
export function parseGuestReference(input: string): DockerReference {
  if (input === '') throw new ReferenceParseError(input, 'repository name must have at least one component');
  const m = GUEST_REFERENCE.exec(input);
  if (!m) throw new ReferenceParseError(input, 'invalid reference format');
  const { registry, repository } = splitDomain(m[1] ?? '');
  const digest = m[3];
  const tag = m[2] ?? (digest === undefined ? 'latest' : undefined);
  if (repository.length > NAME_TOTAL_LENGTH_MAX) {
    throw new ReferenceParseError(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (digest !== undefined) {
    const [algo = '', hex = ''] = digest.split(':');
    const want = DIGEST_LENGTH[algo];
    if (want === undefined) throw new ReferenceParseError(input, 'unsupported digest algorithm');
    if (hex.length !== want) throw new ReferenceParseError(input, 'invalid checksum digest length');
  }
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}
