/**
 * Payload and policy JSON as the guest's serde_json reads them, on signatures made fresh with gpg. The
 * expectations are the image-rs oracle's decisions on the same cases (the differential check runs it).
 */
import { describe, expect, it } from 'vitest';
import { useGnupgHome } from '../helpers/gpg.js';
import { DIGEST, IMAGE, judgeBoth, scoped } from './scenario.js';

const gnupg = useGnupgHome();
let keyData = '';
let fpr = '';

async function gpgSign(payload: string): Promise<Uint8Array> {
  const g = gnupg();
  if (!fpr) {
    fpr = await g.generateKey('serde', 'serde@example.com', { algo: 'ed25519' });
    keyData = (await g.exportPublic(fpr)).toString('base64');
  }
  const r = await g.gpg(['--sign', '--local-user', fpr], Buffer.from(payload, 'utf8'));
  if (r.code !== 0) throw new Error(r.stderr);
  return new Uint8Array(r.stdout);
}

const CRIT = `{"identity":{"docker-reference":"${IMAGE}"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"atomic container signature"}`;
const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);

async function guestDecision(payload: string) {
  const signature = await gpgSign(payload);
  const r = await judgeBoth({
    policy: scoped([{ type: 'signedBy', keyType: 'GPGKeys', keyData }]),
    signatures: { 'signature-1': signature },
  });
  return r.guest;
}

describe('the payload as serde reads it (guest)', () => {
  it.each([
    ['a plain payload', `{"critical":${CRIT},"optional":{}}`, true],
    ['a repeated struct field', `{"critical":${CRIT},"optional":{"creator":"a","creator":"b"}}`, false],
    ['a repeated critical', `{"critical":${CRIT},"critical":${CRIT}}`, false],
    ['a repeated unknown field', `{"critical":${CRIT},"x":1,"x":2}`, true],
    ['a repeated unknown field of optional (a map)', `{"critical":${CRIT},"optional":{"e":1,"e":2}}`, true],
    [
      'critical written as an array',
      `{"critical":["atomic container signature",{"docker-manifest-digest":"${DIGEST}"},{"docker-reference":"${IMAGE}"}]}`,
      true,
    ],
    ['the payload as an array of both fields', `[${CRIT},null]`, true],
    ['the payload as an array missing optional', `[${CRIT}]`, false],
    ['the payload as an array with one element too many', `[${CRIT},{},1]`, false],
    ['optional (flattened) as an array', `{"critical":${CRIT},"optional":["c",1]}`, false],
    ['a UTF-8 BOM before the payload', `\ufeff{"critical":${CRIT}}`, false],
    ['127 nested containers in optional', `{"critical":${CRIT},"optional":{"x":${nest(125)}}}`, true],
    ['128 nested containers in optional', `{"critical":${CRIT},"optional":{"x":${nest(126)}}}`, false],
    ['deep nesting in a skipped field', `{"critical":${CRIT},"x":${nest(200)}}`, true],
    ['a lone surrogate in creator', `{"critical":${CRIT},"optional":{"creator":"\\ud800"}}`, false],
    ['a lone low surrogate kept in optional', `{"critical":${CRIT},"optional":{"e":"\\udc00"}}`, false],
    ['a lone surrogate in a struct key', `{"critical":${CRIT},"\\ud800":1}`, false],
    ['a lone surrogate in a skipped field', `{"critical":${CRIT},"x":{"\\ud800":"\\udc00"}}`, true],
    ['a surrogate pair', `{"critical":${CRIT},"optional":{"creator":"\\ud83d\\ude00"}}`, true],
  ])('%s', async (_name, payload, allowed) => {
    const guest = await guestDecision(payload);
    expect(guest.allowed, guest.chain.join(' / ')).toBe(allowed);
  });

  it('words a repeated field as serde does', async () => {
    const guest = await guestDecision(`{"critical":${CRIT},"optional":{"creator":"a","creator":"b"}}`);
    expect(guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [duplicate field `creator`]');
  });
});

describe('the policy as each side reads it', () => {
  const accept = [{ type: 'insecureAcceptAnything' }];
  const policy = (text: string) =>
    judgeBoth({ policy: text, signatures: {} }).then((r) => [r.guest.allowed, r.host.allowed]);

  it('a UTF-8 BOM before the policy: the guest cannot load it, and encoding/json refuses it too', async () => {
    const r = await judgeBoth({ policy: `\ufeff${JSON.stringify({ default: accept, transports: {} })}` });
    expect([r.guest.allowed, r.host.allowed]).toEqual([false, false]);
    expect(r.guest.message).toBe('Initialize signature validator failed: Invalid image policy file');
    expect(r.host.message).toMatch(/invalid character at line 1, column 1 looking for beginning of value/);
  });

  it('a lone surrogate in a scope key or anywhere in a requirement fails the guest; in a skipped field it does not', async () => {
    expect(
      await policy(`{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"a\\udc00":[]}}}`),
    ).toEqual([false, false]);
    expect((await policy(`{"default":[{"type":"insecureAcceptAnything","x":"\\ud800"}],"transports":{}}`))[0]).toBe(
      false,
    );
    expect((await policy(`{"default":[{"type":"insecureAcceptAnything"}],"transports":{},"x":"\\ud800"}`))[0]).toBe(
      true,
    );
  });

  it('nesting: 127 containers where serde reads them pass, 128 fail; a skipped field has no limit', async () => {
    const req = (n: number) => `{"default":[{"type":"insecureAcceptAnything","x":${nest(n)}}],"transports":{}}`;
    expect((await policy(req(124)))[0]).toBe(true);
    expect((await policy(req(125)))[0]).toBe(false);
    expect((await policy(`{"default":[{"type":"reject"}],"transports":{},"x":${nest(300)}}`))[0]).toBe(false);
    expect((await policy(`{"default":[{"type":"insecureAcceptAnything"}],"transports":{},"x":${nest(300)}}`))[0]).toBe(
      true,
    );
  });

  it('the guest reads the policy and a unit requirement written as arrays', async () => {
    expect((await policy(`[[{"type":"insecureAcceptAnything"}],{}]`))[0]).toBe(true);
    expect((await policy(`{"default":[["insecureAcceptAnything"]],"transports":{}}`))[0]).toBe(true);
  });
});
