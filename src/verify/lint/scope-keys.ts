/** Scope keys that can never match an image (both sides compare them literally with expanded names). */
import { parseReference, type DockerReference } from '../../reference/index.js';

export function scopeKeyProblem(key: string): string | undefined {
  if (key === '' || key.startsWith('*.'))
    return key.toLowerCase() === key || key === '' ? undefined : 'has uppercase letters';
  if (/[A-Z]/.test(key.split('/').slice(1).join('/')))
    return 'has an uppercase repository path (references are lowercase, so it never matches)';
  const first = key.split('/')[0] ?? '';
  if (!(first.includes('.') || first.includes(':') || first === 'localhost')) {
    return `has no registry host (${JSON.stringify(first)} is not a host): scope keys are compared with fully-expanded names like docker.io/library/busybox, so it never matches`;
  }
  return undefined;
}

export function scopeFix(key: string): string {
  try {
    const r = parseReference(key.toLowerCase());
    return `use ${JSON.stringify(`${r.registry}/${r.repository}`)} (the fully-expanded, lowercase name)`;
  } catch {
    return 'use a registry host, host/namespace or host/repository[:tag] key, all lowercase';
  }
}

/** A representative image of a scope key, for looking up its signature store. */
export function imageForScope(key: string): DockerReference | undefined {
  if (key === '' || key.startsWith('*.') || !key.includes('/')) return undefined;
  try {
    return parseReference(key);
  } catch {
    return undefined;
  }
}
