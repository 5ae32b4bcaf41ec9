/**
 * Why the guest and the host decide differently: names the rule of docs/guest-vs-host.md that makes
 * the difference (expired key, subkey, lookaside-only config, http store, empty list, literal vs
 * normalised identity, …), from the two decisions and their per-signature reasons.
 */
import type { Divergence, RequirementOutcome, SideDecision, SignatureAttempt } from './types.js';

const CODE_RULES: Record<string, string> = {
  E_KEY_EXPIRED: 'expired key',
  E_SIG_EXPIRED: 'expired signature',
  E_KEY_REVOKED: 'revoked key',
  E_SIG_SUBKEY: 'subkey signature',
  E_SIG_KEY_ID: 'subkey signature',
  E_IDENTITY: 'literal vs normalised identity',
  E_SIG_PAYLOAD: 'payload strictness',
  E_DIGEST: 'manifest digest',
  E_SIG_FORMAT: 'signature format',
};

function policyRule(reason: string): string {
  if (reason.includes('must not be empty')) return 'empty requirement list';
  if (reason.includes('Default policy is missing')) return 'missing default';
  if (reason.includes('Unknown policy requirement type')) return 'unknown requirement type';
  if (reason.includes('Unknown key')) return 'unknown keys';
  if (reason.includes('keyPath')) return 'key source (keyPath/keyPaths/keyData)';
  return 'policy parsing';
}

function fromPolicy(guest: SideDecision, host: SideDecision): Divergence | undefined {
  const g = guest.code === 'E_POLICY_INVALID';
  const h = host.code === 'E_POLICY_INVALID';
  if (g === h) return undefined;
  if (h) {
    const reason = host.message;
    return {
      rule: policyRule(reason),
      detail: `containers/image refuses the policy (${reason}); image-rs reads it and ${guest.allowed ? 'allows' : 'denies'} the image`,
    };
  }
  const detail = guest.chain[1] ?? '';
  const rule = /transports/.test(detail)
    ? 'missing transports'
    : /type|discriminator|union/i.test(detail)
      ? 'unknown requirement type'
      : 'policy parsing';
  return {
    rule,
    detail: `image-rs refuses the policy (Invalid image policy file${detail ? `: ${detail}` : ''}); containers/image reads it and ${host.allowed ? 'allows' : 'denies'} the image`,
  };
}

function attemptRule(guest: SignatureAttempt | undefined, host: SignatureAttempt | undefined): string | undefined {
  if (guest?.accepted && host && !host.accepted) return CODE_RULES[host.code ?? ''] ?? host.code;
  if (host?.accepted && guest && !guest.accepted) return CODE_RULES[guest.code ?? ''] ?? guest.code;
  if (host?.accepted && host.reason.includes('subkey')) return 'subkey signature';
  return undefined;
}

function baseName(source: string): string {
  return source.slice(source.lastIndexOf('/') + 1);
}

/** A guest rule that failed before reading any signature, for a reason the host does not share. */
function fromGuestRuleError(g: RequirementOutcome): Divergence | undefined {
  const reason = g.reason ?? '';
  if (g.allowed || g.signatures.length > 0) return undefined;
  if (reason === 'Neither keyPath or keyData specified.') {
    return {
      rule: 'keyPaths',
      detail:
        'image-rs ignores keyPaths, so the rule has no key ("Neither keyPath or keyData specified."); containers/image reads every file of keyPaths',
    };
  }
  if (/^Invalid (symbol|padding|last symbol)/.test(reason)) {
    return {
      rule: 'keyData base64',
      detail: `image-rs decodes keyData strictly (${reason}); Go's decoder skips line breaks`,
    };
  }
  if (reason === 'Simple Signing Sigstore Config not set' || reason === 'The sigstore base url is none') {
    return {
      rule: 'signature store location',
      detail: `image-rs: ${reason}; containers/image falls back to its built-in default store`,
    };
  }
  return undefined;
}

function fromSignatures(g: RequirementOutcome, h: RequirementOutcome): Divergence | undefined {
  const early = fromGuestRuleError(g);
  if (early) return early;
  if (g.reason?.includes('HTTP support for signature stores is not implemented')) {
    return {
      rule: 'http signature store',
      detail: `image-rs reads only file:// stores (${g.reason}); containers/image reads ${h.signatureLocation ?? 'the http(s) store'}`,
    };
  }
  if (h.reason?.startsWith('parsing signature ') && h.signatures.length === 0) {
    return {
      rule: 'signature format',
      detail: `containers/image fails the whole store read at a file that is not a signature (${h.reason}); image-rs judges every file on its own`,
    };
  }
  if (g.signatureLocation && h.signatureLocation && g.signatureLocation !== h.signatureLocation) {
    return {
      rule: 'signature store location',
      detail: `image-rs looks in ${g.signatureLocation} (sigstore: key only), containers/image in ${h.signatureLocation} (lookaside:, or its built-in default)`,
    };
  }
  const hostByName = new Map(h.signatures.map((s) => [baseName(s.source), s]));
  for (const ga of g.signatures) {
    const ha = hostByName.get(baseName(ga.source));
    if (!ha) {
      if (ga.accepted) {
        return {
          rule: 'signature file names',
          detail: `image-rs accepted ${ga.source}, a file containers/image never reads (it reads signature-1…N and stops at the first missing)`,
        };
      }
      continue;
    }
    const rule = attemptRule(ga, ha);
    if (rule) {
      const [accepter, rejecter] = ga.accepted ? ['image-rs', 'containers/image'] : ['containers/image', 'image-rs'];
      const reason = (ga.accepted ? ha : ga).reason;
      return { rule, detail: `${baseName(ga.source)}: accepted by ${accepter}, rejected by ${rejecter}: ${reason}` };
    }
  }
  if (g.signatures.length === 0 && h.signatures.length > 0 && h.signatures.some((s) => s.accepted)) {
    return {
      rule: 'signature store location',
      detail: `image-rs found no signature (${g.reason ?? ''}); containers/image accepted ${h.signatures.find((s) => s.accepted)?.source}`,
    };
  }
  return undefined;
}

function fromCosign(g: RequirementOutcome, h: RequirementOutcome, attachments: string | undefined): Divergence {
  if (attachments) return { rule: 'cosign attachments', detail: attachments };
  return {
    rule: 'cosign payload checks',
    detail: `image-rs: ${g.reason ?? 'allowed'}; containers/image: ${h.reason ?? 'allowed'} (the guest also accepts the manifest-list digest and checks the identity only when signedIdentity is set)`,
  };
}

export function findDivergences(guest: SideDecision, host: SideDecision): Divergence[] {
  if (guest.allowed === host.allowed) return [];
  const out: Divergence[] = [];
  const policy = fromPolicy(guest, host);
  if (policy) out.push(policy);
  else if (guest.code === 'E_SIGSTORE_CONFIG_INVALID' && host.code !== 'E_SIGSTORE_CONFIG_INVALID') {
    out.push({
      rule: 'lookaside-only sigstore config',
      detail: `image-rs requires a sigstore: key in every entry (${guest.chain.join(': ')}); containers/image reads lookaside: too`,
    });
  } else if (guest.code === 'EMPTY_LIST_ALLOWS') {
    out.push({
      rule: 'empty requirement list',
      detail: 'image-rs allows an image whose requirement list is empty; containers/image refuses such a policy',
    });
  } else if (guest.scope !== host.scope) {
    out.push({ rule: 'scope', detail: `image-rs applies ${guest.scope}, containers/image applies ${host.scope}` });
  } else {
    for (let i = 0; i < Math.max(guest.outcomes.length, host.outcomes.length); i++) {
      const g = guest.outcomes[i];
      const h = host.outcomes[i];
      if (!g || !h || g.allowed === h.allowed) continue;
      const attachments = h.notes.find((n) => n.includes('use-sigstore-attachments'));
      const d = g.type === 'sigstoreSigned' ? fromCosign(g, h, attachments) : fromSignatures(g, h);
      if (d) out.push(d);
      else {
        out.push({
          rule: `${g.type} rule`,
          detail: `image-rs: ${g.reason ?? 'allowed'}; containers/image: ${h.reason ?? 'allowed'}`,
        });
      }
      break;
    }
  }
  if (out.length === 0)
    out.push({ rule: 'decision', detail: `image-rs: ${guest.message}; containers/image: ${host.message}` });
  return out;
}
