/**
 * policy.json is written by policyJsonBytes (each distinct requirement serialized once): its bytes
 * must be exactly JSON.stringify(policy, null, 2) and a newline, whatever the policy holds.
 */
import { describe, expect, it } from 'vitest';
import { policyJsonBytes } from '../../src/kbs/policy-json.js';
import type { Policy, PolicyRequirement } from '../../src/policy/schema.js';
import { Rng } from '../differential/rng.js';

const reference = (p: Policy) => Buffer.from(`${JSON.stringify(p, null, 2)}\n`, 'utf8');

const ODD_STRINGS = [
  '',
  'plain',
  'quote " and \\ backslash',
  'line\nbreak',
  '\u0001control',
  '\u2028sep',
  'ünï €',
  '😀',
];

function randomRequirement(rng: Rng, keys: string[]): PolicyRequirement {
  switch (rng.int(4)) {
    case 0:
      return { type: 'reject' };
    case 1:
      return { type: 'insecureAcceptAnything' };
    case 2:
      return {
        type: 'signedBy',
        keyType: 'GPGKeys',
        ...(rng.int(3) === 0 ? { keyPath: rng.pick(ODD_STRINGS) } : { keyData: rng.pick(keys) }),
        ...(rng.int(2) === 0
          ? { signedIdentity: { type: 'matchRepoDigestOrExact' } }
          : rng.int(2) === 0
            ? { signedIdentity: { type: 'exactReference', dockerReference: rng.pick(ODD_STRINGS) } }
            : {}),
      };
    default:
      return { type: 'sigstoreSigned', keyData: rng.pick(keys) };
  }
}

function randomPolicy(rng: Rng): Policy {
  // keyData strings are shared between requirements (one per key file) or equal but separate.
  const shared = Array.from({ length: 3 }, (_, i) => `${'QUJD'.repeat(50 + i)}==`);
  const keys = [...shared, ...shared.map((k) => ` ${k}`.slice(1))];
  const list = () => Array.from({ length: rng.int(4) }, () => randomRequirement(rng, keys));
  const scopes = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, () => [`${rng.pick(ODD_STRINGS)}${rng.int(1000)}`, list()]));
  return {
    default: list(),
    ...(rng.int(4) === 0
      ? {}
      : { transports: { docker: scopes(rng.int(20)), ...(rng.int(2) ? { atomic: scopes(2) } : {}) } }),
  };
}

describe('policy.json bytes', () => {
  it('are JSON.stringify(policy, null, 2) and a newline on 500 generated policies', () => {
    const rng = new Rng(20261207);
    for (let i = 0; i < 500; i++) {
      const policy = randomPolicy(rng);
      expect(Buffer.from(policyJsonBytes(policy)).toString('utf8')).toBe(reference(policy).toString('utf8'));
    }
  });

  it('keep fields in each requirement’s own order, and repeated requirements in full', () => {
    const keyData = 'S0VZ'.repeat(700);
    const a: PolicyRequirement = { type: 'signedBy', keyType: 'GPGKeys', keyData };
    const b = { keyData, keyType: 'GPGKeys', type: 'signedBy' } as PolicyRequirement;
    const policy: Policy = {
      default: [{ type: 'reject' }],
      transports: { docker: { 'r.io/a': [a], 'r.io/b': [b], 'r.io/c': [{ ...a }], '': [], '1': [a, a] } },
    };
    const bytes = Buffer.from(policyJsonBytes(policy));
    expect(bytes.equals(reference(policy))).toBe(true);
    expect(bytes.toString().split(keyData)).toHaveLength(6);
  });
});
