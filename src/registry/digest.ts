/** Content digests of fetched bytes, checked against what was asked for and what the registry announced. */
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';

const ALGORITHMS: Record<string, string> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

/** `algo:hex` of `bytes` (sha256 unless another supported algorithm is named). */
export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  const node = ALGORITHMS[algorithm];
  if (!node) throw new Error(`unsupported digest algorithm ${algorithm}`);
  return `${algorithm}:${createHash(node).update(bytes).digest('hex')}`;
}

/** Throws E_REGISTRY_DIGEST_MISMATCH unless `bytes` hash to `expected` (in `expected`'s algorithm). */
export function assertDigest(bytes: Uint8Array, expected: string, registry: string, what: string): void {
  const algorithm = expected.slice(0, expected.indexOf(':'));
  if (!ALGORITHMS[algorithm]) {
    throw new RegistryError(
      'E_REGISTRY_DIGEST_MISMATCH',
      registry,
      `${what}: unsupported digest algorithm in ${expected}`,
    );
  }
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) {
    throw new RegistryError(
      'E_REGISTRY_DIGEST_MISMATCH',
      registry,
      `${what} from registry ${registry} has digest ${actual}, expected ${expected}`,
    );
  }
}
