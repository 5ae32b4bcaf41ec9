/**
 * Stage remembers each image's policy scope and sigstore base by its parent namespace, and asks
 * whether a scope names the image or its repository only when some scope key shares that parent
 * (or any key has an `@`). Every answer must equal policyFor + sigstoreBaseFor asked directly.
 */
import { describe, expect, it } from 'vitest';
import type { SigstoreConfig } from '../../src/lookaside/schema.js';
import { placementOf, policyFor, sigstoreBaseFor, type SignatureContext } from '../../src/stage/signatures.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const signed = [{ type: 'signedBy' as const, keyType: 'GPGKeys', keyPath: '/k' }];
const accept = [{ type: 'insecureAcceptAnything' as const }];

const policies: Array<Record<string, typeof signed | typeof accept>> = [
  { 'reg.example.com:5000/team': signed },
  { 'reg.example.com:5000/team': signed, 'reg.example.com:5000/team/app1': accept },
  { 'reg.example.com:5000/team/app1': accept, 'reg.example.com:5000': signed, '*.example.com': accept },
  { [`reg.example.com:5000/team/app2@${D2}`]: accept, 'reg.example.com:5000/team': signed },
  { 'docker.io/library/busybox': accept, 'docker.io': signed, nohost: accept },
  {},
];
const sigstores: SigstoreConfig[] = [
  { 'default-docker': { sigstore: 'file:///var/lib/containers/sigstore' }, docker: {} },
  {
    'default-docker': { sigstore: 'file:///a' },
    docker: {
      'reg.example.com:5000/team/app1': { sigstore: 'file:///b' },
      'reg.example.com:5000/team': { sigstore: 'https://x/y' },
    },
  },
  {
    docker: {
      [`reg.example.com:5000/team/app2@${D2}`]: { sigstore: 'file:///c' },
      'reg.example.com:5000/team/deep/app3': { sigstore: 'file:///d' },
    },
  },
];
const refs = [
  ...['team/app1', 'team/app2', 'team/app3', 'team/deep/app3', 'team/deep/app4', 'other/app1', 'team'].flatMap(
    (repository) => [D1, D2].map((digest) => ({ registry: 'reg.example.com:5000', repository, digest })),
  ),
  { registry: 'docker.io', repository: 'library/busybox', digest: D1 },
  { registry: 'docker.io', repository: 'library/alpine', digest: D1 },
  { registry: 'other.example.com', repository: 'x/y', digest: D2 },
];

describe('placement remembered by parent namespace', () => {
  it('equals policyFor and sigstoreBaseFor for every policy, sigstore config and image, in any order', () => {
    for (const scopes of policies) {
      for (const sigstoreConfig of sigstores) {
        for (const order of [refs, [...refs].reverse()]) {
          const ctx: SignatureContext = {
            policy: { default: [{ type: 'reject' }], transports: { docker: scopes } },
            sigstoreConfig,
            keyrings: [],
          };
          for (const ref of order) {
            expect(placementOf(ctx, ref)).toEqual({
              policy: policyFor(ctx.policy, ref),
              where: sigstoreBaseFor(sigstoreConfig, ref),
            });
          }
        }
      }
    }
  });
});
