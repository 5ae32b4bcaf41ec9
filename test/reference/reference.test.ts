import { describe, expect, it } from 'vitest';
import { familiarString, parseReference, referenceString, scopeCandidates } from '../../src/reference/index.js';

describe('reference normalisation', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/foo/bar', 'docker.io/foo/bar:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['registry.example.com:5000/demo/app:1.0', 'registry.example.com:5000/demo/app:1.0'],
    ['quay.io/a/b@sha256:' + 'a'.repeat(64), 'quay.io/a/b@sha256:' + 'a'.repeat(64)],
    ['foo/bar', 'docker.io/foo/bar:latest'],
  ])('%s → %s', (input, expected) => {
    expect(referenceString(parseReference(input))).toBe(expected);
  });

  it.each([
    ['Busybox', 'repository name must be lowercase'],
    ['reg.io/UPPER/x', 'repository name must be lowercase'],
    ['reg.io/x@sha256:abc', 'invalid reference format'],
    ['reg.io/x@sha256:' + 'A'.repeat(64), 'invalid checksum digest format'],
    ['reg.io/x@md5:' + 'a'.repeat(32), 'unsupported digest algorithm'],
    ['a'.repeat(64), 'cannot specify 64-byte hexadecimal strings'],
    ['reg.io/x:', 'invalid reference format'],
  ])('rejects %s', (input, problem) => {
    expect(() => parseReference(input)).toThrow(problem);
  });

  it('familiar form strips docker.io/library', () => {
    expect(familiarString(parseReference('busybox'))).toBe('busybox:latest');
    expect(familiarString(parseReference('docker.io/foo/bar:1'))).toBe('foo/bar:1');
  });
});

describe('scope candidates (policy and sigstore lookup order)', () => {
  it('walks identity, repository, namespaces, host and wildcards without the port', () => {
    expect(scopeCandidates(parseReference('example.com:5000/ns/img:t'))).toEqual([
      'example.com:5000/ns/img:t',
      'example.com:5000/ns/img',
      'example.com:5000/ns',
      'example.com:5000',
      '*.com',
    ]);
    expect(scopeCandidates(parseReference('registry.access.redhat.com/busybox:latest'))).toEqual([
      'registry.access.redhat.com/busybox:latest',
      'registry.access.redhat.com/busybox',
      'registry.access.redhat.com',
      '*.access.redhat.com',
      '*.redhat.com',
      '*.com',
    ]);
    expect(scopeCandidates(parseReference('test:5000/library/busybox:latest'))).toEqual([
      'test:5000/library/busybox:latest',
      'test:5000/library/busybox',
      'test:5000/library',
      'test:5000',
    ]);
  });
});
