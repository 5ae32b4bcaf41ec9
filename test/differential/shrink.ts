/**
 * Greedy minimisation of a disagreeing case: drop files, resources, sigstore entries, scopes, rules and
 * oddities one at a time, keeping each step after which the two judges still disagree the same way.
 */
import type { Case, Requirement } from './generate.js';

function clone(c: Case): Case {
  return {
    ...c,
    policy: JSON.parse(JSON.stringify(c.policy)) as Case['policy'],
    ...(c.sigstore ? { sigstore: JSON.parse(JSON.stringify(c.sigstore)) as Case['sigstore'] } : {}),
    rootfs: { ...c.rootfs },
    kbs: { ...c.kbs },
  };
}

/** Every case one step simpler than `c`. */
export function* simplerCases(c: Case): Generator<Case> {
  for (const p of Object.keys(c.rootfs)) {
    const n = clone(c);
    delete n.rootfs[p];
    yield n;
  }
  for (const p of Object.keys(c.kbs)) {
    const n = clone(c);
    delete n.kbs[p];
    yield n;
  }
  if (c.policyForm !== 'json') yield { ...clone(c), policyForm: 'json' };
  const lists: Array<(p: Case['policy']) => Requirement[]> = [(p) => p.default];
  for (const [transport, scopes] of Object.entries(c.policy.transports)) {
    const n = clone(c);
    delete n.policy.transports[transport];
    yield n;
    for (const scope of Object.keys(scopes)) {
      const m = clone(c);
      delete m.policy.transports[transport]![scope];
      yield m;
      lists.push((p) => p.transports[transport]![scope]!);
    }
  }
  for (const list of lists) {
    for (let i = 0; i < list(c.policy).length; i++) {
      const n = clone(c);
      list(n.policy).splice(i, 1);
      yield n;
      for (const field of ['signedIdentity', 'unknownField']) {
        if (list(c.policy)[i]?.[field] === undefined) continue;
        const m = clone(c);
        delete list(m.policy)[i]![field];
        yield m;
      }
    }
  }
  if (c.sigstore) {
    const { sigstore: _dropped, ...without } = clone(c);
    void _dropped;
    yield without;
    if (c.sigstore['default-docker']) {
      const n = clone(c);
      delete n.sigstore!['default-docker'];
      yield n;
    }
    for (const scope of Object.keys(c.sigstore.docker ?? {})) {
      const n = clone(c);
      delete n.sigstore!.docker![scope];
      yield n;
    }
  }
}

/** Shrinks while `stillDisagrees` holds, trying at most `budget` candidates. */
export async function minimise(
  c: Case,
  stillDisagrees: (candidate: Case) => Promise<boolean>,
  budget = 300,
): Promise<Case> {
  let current = c;
  let tried = 0;
  for (let progress = true; progress && tried < budget;) {
    progress = false;
    for (const candidate of simplerCases(current)) {
      if (++tried > budget) break;
      if (await stillDisagrees(candidate)) {
        current = candidate;
        progress = true;
        break;
      }
    }
  }
  return current;
}
