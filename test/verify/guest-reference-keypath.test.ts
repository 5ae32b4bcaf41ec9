/**
 * References and keyPaths as the guest reads them (oci-spec 0.9 `Reference`, image-rs `get_resource`), on
 * cases signed fresh with gpg. The expectations are the image-rs oracle's decisions on the same cases.
 */
import { describe, expect, it } from 'vitest';
import { parseGuestReference, parseReference } from '../../src/reference/index.js';
import { useGnupgHome } from '../helpers/gpg.js';
import { DIGEST, IMAGE, judgeBoth, scoped } from './scenario.js';

const gnupg = useGnupgHome();
let key: { fpr: string; binary: Buffer } | undefined;

async function signed(reference: string): Promise<{ signature: Uint8Array; binary: Buffer }> {
  const g = gnupg();
  if (!key) {
    const fpr = await g.generateKey('guest', 'guest@example.com', { algo: 'ed25519' });
    key = { fpr, binary: await g.exportPublic(fpr) };
  }
  const payload = `{"critical":{"identity":{"docker-reference":${JSON.stringify(reference)}},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"atomic container signature"},"optional":{}}`;
  const r = await g.gpg(['--sign', '--local-user', key.fpr], payload);
  if (r.code !== 0) throw new Error(r.stderr);
  return { signature: new Uint8Array(r.stdout), binary: key.binary };
}

describe('references the guest parses differently (oci-spec 0.9)', () => {
  const accept = { default: [{ type: 'insecureAcceptAnything' }], transports: {} };

  it('a bracketed IPv6 registry is an invalid reference for the guest', async () => {
    const r = await judgeBoth({ image: '[fd00::1]:5000/ns/app:1.0', policy: accept });
    expect([r.guest.allowed, r.host.allowed]).toEqual([false, true]);
  });

  it('the 255-character limit counts the repository without the registry', async () => {
    const image = `registry.example.com/${'n'.repeat(250)}/app:1.0`;
    expect(parseGuestReference(image).repository).toHaveLength(254);
    expect(() => parseReference(image)).toThrow(/must not be more than 255 characters/);
    expect(() => parseGuestReference(`registry.example.com/${'n'.repeat(252)}/app:1.0`)).toThrow(
      /must not be more than 255 characters/,
    );
    const r = await judgeBoth({ image, policy: accept });
    expect(r.guest.allowed).toBe(true);
  });

  it('an uppercase first component parses (docker.io/Mirror/app) but not twice: pulling it fails', async () => {
    expect(parseGuestReference('Mirror/app:1.0')).toEqual({
      registry: 'docker.io',
      repository: 'Mirror/app',
      tag: '1.0',
    });
    const r = await judgeBoth({ image: 'Mirror/app:1.0', policy: accept });
    expect(r.guest.allowed).toBe(false);
    expect(r.guest.message).toBe('Failed to parse image reference: Mirror/app:1.0');
  });

  it('a signed identity with an uppercase first component matches its repository for the guest', async () => {
    const { signature, binary } = await signed('Mirror/app:1.0');
    const rule = {
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyData: binary.toString('base64'),
      signedIdentity: { type: 'exactRepository', dockerRepository: 'docker.io/Mirror/app' },
    };
    const r = await judgeBoth({ policy: scoped([rule]), signatures: { 'signature-1': signature } });
    expect(r.guest.allowed, r.guest.chain.join(' / ')).toBe(true);
  });

  it('a 64-hex name and a Unicode tag are references for the guest', () => {
    expect(parseGuestReference('a'.repeat(64)).repository).toBe(`library/${'a'.repeat(64)}`);
    expect(parseGuestReference('app:é1').tag).toBe('é1');
  });
});

describe('keyPath as get_resource reads it (a URL, file:// put first when there is no ://)', () => {
  async function decide(keyPath: string, at: string, guestRelease?: string, kbs: Record<string, Uint8Array> = {}) {
    const { signature, binary } = await signed(IMAGE);
    const r = await judgeBoth({
      policy: scoped([{ type: 'signedBy', keyType: 'GPGKeys', keyPath }]),
      signatures: { 'signature-1': signature },
      files: { [at.slice(1)]: binary },
      ...(guestRelease ? { guestRelease } : {}),
      resources: kbs,
    });
    return r.guest;
  }

  it.each([
    ['file:///etc/pki/my%20keys/k.gpg', '/etc/pki/my keys/k.gpg', false],
    ['file:///etc/pki/my%20keys/k.gpg', '/etc/pki/my%20keys/k.gpg', true],
    ['/etc/pki/my keys/k.gpg', '/etc/pki/my keys/k.gpg', false],
    ['etc/pki/k.gpg', '/pki/k.gpg', true],
    ['etc/pki/k.gpg', '/etc/pki/k.gpg', false],
    ['/etc/pki/k.gpg?x=1', '/etc/pki/k.gpg', true],
    ['/etc/pki/k.gpg#frag', '/etc/pki/k.gpg', true],
    ['FILE:///etc/pki/k.gpg', '/etc/pki/k.gpg', true],
    ['file://localhost/etc/pki/k.gpg', '/etc/pki/k.gpg', true],
  ])('%s with the key at %s', async (keyPath, at, allowed) => {
    const guest = await decide(keyPath, at);
    expect(guest.allowed, guest.chain.join(' / ')).toBe(allowed);
  });

  it('kbs+<plugin>:// is a KBS resource from guest-components v0.21.0, an unsupported scheme before', async () => {
    const kbs = { 'default/gpg-key/k': new Uint8Array((await signed(IMAGE)).binary) };
    const uri = 'kbs+plugin:///default/gpg-key/k';
    expect((await decide(uri, '/unused', undefined, kbs)).allowed).toBe(true);
    const old = await decide(uri, '/unused', 'v0.20.0', kbs);
    expect(old.allowed).toBe(false);
    expect(old.chain[1]).toContain('Resource URI scheme `kbs+plugin` not supported');
  });
});
