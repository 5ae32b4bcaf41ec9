/**
 * policy.json bytes exactly as `JSON.stringify(policy, null, 2) + '\n'` writes them, with each
 * distinct requirement serialized once. A bundle of many scopes trusting one key repeats the same
 * signedBy requirement (its whole keyData) once per scope, and stringifying every copy was a large
 * part of a warm build (bench/README.md, target 4). The skeleton of the policy still goes through
 * JSON.stringify; only the requirements are pasted in, re-indented.
 */
import { randomBytes } from 'node:crypto';
import type { Policy, PolicyRequirement } from '../policy/schema.js';

export function policyJsonBytes(policy: Policy): Uint8Array {
  const nonce = randomBytes(8).toString('hex');
  const texts: string[] = [];
  // keyData → (the requirement's other fields, in order) → index in texts. A keyData string is one
  // instance per key file, so looking it up costs no more than comparing pointers.
  const seen = new Map<string, Map<string, number>>();
  const plain = new Map<string, number>();
  // A bundle rule repeated under many scopes gives one requirement object (bundle/load.ts).
  const tokens = new Map<PolicyRequirement, string>();
  const token = (requirement: PolicyRequirement): string => {
    let t = tokens.get(requirement);
    if (t === undefined) tokens.set(requirement, (t = newToken(requirement)));
    return t;
  };
  const newToken = (requirement: PolicyRequirement): string => {
    const { keyData, ...rest } = requirement as PolicyRequirement & { keyData?: unknown };
    const byKeyData =
      typeof keyData === 'string'
        ? memo(seen, keyData)
        : keyData === undefined && !('keyData' in requirement)
          ? plain
          : undefined;
    const restKey = JSON.stringify([Object.keys(requirement), rest]);
    let index = byKeyData?.get(restKey);
    if (index === undefined) {
      index = texts.push(JSON.stringify(requirement, null, 2)) - 1;
      byKeyData?.set(restKey, index);
    }
    return `\u0001${nonce}:${index}`;
  };
  const skeleton = {
    ...policy,
    default: policy.default.map(token),
    ...(policy.transports
      ? {
          transports: Object.fromEntries(
            Object.entries(policy.transports).map(([transport, scopes]) => [
              transport,
              Object.fromEntries(Object.entries(scopes).map(([scope, list]) => [scope, list.map(token)])),
            ]),
          ),
        }
      : {}),
  };
  // Split around the tokens: [text, indent, index, text, indent, index, …, text].
  const parts = JSON.stringify(skeleton, null, 2).split(new RegExp(`^( *)"\\\\u0001${nonce}:(\\d+)"`, 'm'));
  const pasted = new Map<string, Buffer>();
  const chunks: Buffer[] = [];
  for (let i = 0; i < parts.length; i += 3) {
    chunks.push(Buffer.from(parts[i]!, 'utf8'));
    if (i + 2 >= parts.length) break;
    const indent = parts[i + 1]!;
    const key = `${indent.length}:${parts[i + 2]}`;
    let bytes = pasted.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(indent + texts[Number(parts[i + 2])]!.replaceAll('\n', `\n${indent}`), 'utf8');
      pasted.set(key, bytes);
    }
    chunks.push(bytes);
  }
  chunks.push(Buffer.from('\n'));
  return Buffer.concat(chunks);
}

function memo(seen: Map<string, Map<string, number>>, keyData: string): Map<string, number> {
  let byRest = seen.get(keyData);
  if (byRest === undefined) seen.set(keyData, (byRest = new Map<string, number>()));
  return byRest;
}
