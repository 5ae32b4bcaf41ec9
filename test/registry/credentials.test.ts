import { describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference/index.js';
import { RegistryError } from '../../src/registry/errors.js';
import { authKeyCandidates, normaliseAuthKey, selectCredential } from '../../src/registry/credentials.js';
import { parseChallenges } from '../../src/registry/challenge.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('selectCredential (image-rs order)', () => {
  it('lists registry/repo, then each parent, then the registry', () => {
    expect(authKeyCandidates(parseReference('quay.io/a/b/c/image:1'))).toEqual([
      'quay.io/a/b/c/image',
      'quay.io/a/b/c',
      'quay.io/a/b',
      'quay.io/a',
      'quay.io',
    ]);
  });

  it('prefers the most specific exact key', () => {
    const auths = {
      auths: {
        'reg.example:5000': { auth: b64('host:h') },
        'reg.example:5000/team': { auth: b64('team:t') },
        'reg.example:5000/team/app': { auth: b64('app:a') },
      },
    };
    expect(selectCredential(auths, parseReference('reg.example:5000/team/app:1'))).toEqual({
      key: 'reg.example:5000/team/app',
      username: 'app',
      password: 'a',
    });
    expect(selectCredential(auths, parseReference('reg.example:5000/team/other:1'))?.key).toBe('reg.example:5000/team');
    expect(selectCredential(auths, parseReference('reg.example:5000/else:1'))?.key).toBe('reg.example:5000');
    expect(selectCredential(auths, parseReference('other.example/team/app:1'))).toBeUndefined();
  });

  it('falls back to normalised keys: https://index.docker.io/v1/ serves docker.io images', () => {
    const auths = { auths: { 'https://index.docker.io/v1/': { auth: b64('liudalibj:Passw0rd!qaz\n') } } };
    expect(selectCredential(auths, parseReference('mysql:latest'))).toEqual({
      key: 'https://index.docker.io/v1/',
      username: 'liudalibj',
      password: 'Passw0rd!qaz',
    });
    expect(selectCredential(auths, parseReference('quay.io/x/y:1'))).toBeUndefined();
    expect(normaliseAuthKey('https://docker.io/v1/')).toBe('index.docker.io');
    expect(normaliseAuthKey('http://quay.io/some/path')).toBe('quay.io');
    // Without a scheme the path is not dropped (image-rs keeps it), so such a key never matches by registry.
    expect(normaliseAuthKey('quay.io/some')).toBe('quay.io/some');
  });

  it('splits at the first colon and keeps colons in the password', () => {
    const auths = { auths: { 'r.io': { auth: b64('u:p:a:ss') } } };
    expect(selectCredential(auths, parseReference('r.io/x:1'))).toMatchObject({ username: 'u', password: 'p:a:ss' });
  });

  it('rejects undecodable entries without echoing them', () => {
    const bad = (auth: string) => () => selectCredential({ auths: { 'r.io': { auth } } }, parseReference('r.io/x:1'));
    expect(bad('not base64!')).toThrow(RegistryError);
    expect(bad('not base64!')).toThrow(/auths key "r.io": "auth" is not standard base64/);
    expect(bad(b64('nocolon'))).toThrow(/no ":" found/);
    let thrown: unknown;
    try {
      bad(b64('nocolon-secret'))();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RegistryError);
    expect((thrown as RegistryError).code).toBe('E_REGISTRY_CREDENTIAL');
    expect((thrown as RegistryError).message).toMatch(/no ":" found/);
    expect((thrown as RegistryError).message).not.toContain('nocolon-secret');
  });
});

describe('parseChallenges', () => {
  it('reads Bearer parameters with quoted commas and a second Basic challenge', () => {
    const got = parseChallenges(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push", Basic realm="x"',
    );
    expect(got).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
      },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
    expect(parseChallenges('Basic realm="kbs-bundler-test"')).toEqual([
      { scheme: 'basic', params: { realm: 'kbs-bundler-test' } },
    ]);
  });
});
