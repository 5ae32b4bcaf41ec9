/** docs/guest-vs-host.md §3 (which rule applies) and the sigstore base each side picks for an image. */
import { describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference/index.js';
import {
  parsePolicy,
  parseSigstoreConfig,
  selectRequirements,
  signatureBase,
  type ParsedPolicy,
} from '../../src/verify/index.js';
import { judgeBoth, scoped, signedByKeyData } from './scenario.js';

function policy(keys: string[]): ParsedPolicy {
  const docker = Object.fromEntries(keys.map((k) => [k, [{ type: 'insecureAcceptAnything' }]]));
  const r = parsePolicy(
    new TextEncoder().encode(JSON.stringify({ default: [{ type: 'reject' }], transports: { docker } })),
    'host',
  );
  if (!r.ok) throw new Error(r.reason);
  return r.policy;
}

const scopeOf = (keys: string[], image: string) => selectRequirements(policy(keys), parseReference(image)).scope;

describe('§3 scope lookup (both sides)', () => {
  it('most specific first: tag, repository, parents, host:port, wildcards, "", default', () => {
    const all = [
      'reg.example.com:5000/ns/app:1.0',
      'reg.example.com:5000/ns/app',
      'reg.example.com:5000/ns',
      'reg.example.com:5000',
      '*.example.com',
      '*.com',
      '',
    ];
    for (let i = 0; i < all.length; i++) {
      expect(scopeOf(all.slice(i), 'reg.example.com:5000/ns/app:1.0')).toBe(`docker:${JSON.stringify(all[i])}`);
    }
    expect(scopeOf([], 'reg.example.com:5000/ns/app:1.0')).toBe('default');
  });

  it('example.com never matches *.example.com; the host without its port is never tried', () => {
    expect(scopeOf(['*.example.com'], 'example.com/app:1')).toBe('default');
    expect(scopeOf(['reg.example.com'], 'reg.example.com:5000/app:1')).toBe('default');
  });

  it('keys are compared literally: `busybox` never matches, docker.io/library/busybox does', () => {
    expect(scopeOf(['busybox'], 'busybox')).toBe('default');
    expect(scopeOf(['docker.io/library/busybox'], 'busybox')).toBe('docker:"docker.io/library/busybox"');
  });

  it('lists are never merged: the first hit alone applies', () => {
    const p = parsePolicy(
      new TextEncoder().encode(
        JSON.stringify({
          default: [{ type: 'reject' }],
          transports: {
            docker: {
              'reg.example.com/ns': [{ type: 'insecureAcceptAnything' }],
              'reg.example.com': [{ type: 'reject' }],
            },
          },
        }),
      ),
      'guest',
    );
    if (!p.ok) throw new Error(p.reason);
    expect(selectRequirements(p.policy, parseReference('reg.example.com/ns/app:1')).requirements).toEqual([
      { type: 'insecureAcceptAnything' },
    ]);
  });
});

describe('sigstore base lookup', () => {
  const yaml =
    'default-docker:\n  sigstore: file:///default\ndocker:\n  reg.example.com/ns:\n    lookaside: file:///host-only\n  reg.example.com:\n    sigstore: file:///registry\n';
  const base = (side: 'guest' | 'host', text = yaml) => {
    const c = parseSigstoreConfig(new TextEncoder().encode(text), side);
    return c.ok ? signatureBase(c.config, parseReference('reg.example.com/ns/app:1'), side) : c.reason;
  };

  it('the guest refuses an entry without sigstore:; the host falls through a section with no read URL', () => {
    expect(base('guest')).toBe('Invalid simple signing sigstore config');
    expect(base('host')).toEqual({ url: 'file:///host-only', section: 'docker:"reg.example.com/ns"' });
    const fallThrough =
      'docker:\n  reg.example.com/ns:\n    lookaside-staging: file:///write-only\n  reg.example.com:\n    sigstore: file:///registry\n';
    expect(base('host', fallThrough)).toEqual({ url: 'file:///registry', section: 'docker:"reg.example.com"' });
  });

  it('default-docker last; with nothing configured the guest has none and the host its built-in default', () => {
    expect(base('guest', 'default-docker:\n  sigstore: file:///default\n')).toEqual({
      url: 'file:///default',
      section: 'default-docker',
    });
    expect(base('guest', 'docker: {}\n')).toBeUndefined();
    expect(base('host', 'docker: {}\n')).toEqual({
      url: 'file:///var/lib/containers/sigstore',
      section: 'built-in default',
    });
  });

  it('no entry for the image: `The sigstore base url is none` in the guest, the built-in default on the host', async () => {
    const { guest, host } = await judgeBoth({ policy: scoped([await signedByKeyData()]), sigstore: 'docker: {}\n' });
    expect(guest.chain[1]).toBe('The sigstore base url is none');
    expect(host.message).toBe('Source image rejected: A signature was required, but no signature exists');
    expect(host.outcomes[0]?.signatureLocation).toMatch(/^file:\/\/\/var\/lib\/containers\/sigstore\//);
  });

  it('no sigstore config at all: `Simple Signing Sigstore Config not set` in the guest', async () => {
    const { guest, host } = await judgeBoth({ policy: scoped([await signedByKeyData()]), sigstore: null });
    expect(guest.chain[1]).toBe('Simple Signing Sigstore Config not set');
    expect(host.message).toBe('Source image rejected: A signature was required, but no signature exists');
  });
});

describe('fail closed', () => {
  it('an error inside the evaluation is a denial with the reason', async () => {
    const { verifyImage } = await import('../../src/verify/index.js');
    const report = await verifyImage(
      {
        image: 'registry.example.com/ns/app:1.0',
        manifest: { digest: `sha256:${'1'.repeat(64)}` },
        policy: {
          bytes: new TextEncoder().encode('{"default":[{"type":"insecureAcceptAnything"}],"transports":{}}'),
          source: 'policy.json',
        },
        resources: { get: () => Promise.resolve(undefined) },
        rootfs: {
          readFile: () => Promise.reject(new Error('disk on fire')),
          listDir: () => Promise.reject(new Error('disk on fire')),
        },
      },
      'both',
      {
        readKeyring: () => Promise.reject(new Error('x')),
        verify: () => Promise.reject(new Error('x')),
        parsePayload: () => {
          throw new Error('x');
        },
        manifestDigest: () => {
          throw new Error('x');
        },
      },
    );
    // insecureAcceptAnything never touches the rootfs: allowed. A signedBy rule would read it and deny.
    expect(report.allowed).toBe(true);
    const denied = await verifyImage(
      {
        image: 'registry.example.com/ns/app:1.0',
        manifest: { digest: `sha256:${'1'.repeat(64)}` },
        policy: {
          bytes: new TextEncoder().encode(
            JSON.stringify(scoped([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k.gpg' }])),
          ),
          source: 'policy.json',
        },
        resources: { get: () => Promise.resolve(undefined) },
        rootfs: {
          readFile: () => Promise.reject(new Error('disk on fire')),
          listDir: () => Promise.reject(new Error('disk on fire')),
        },
      },
      'both',
      {
        readKeyring: () => Promise.reject(new Error('x')),
        verify: () => Promise.reject(new Error('x')),
        parsePayload: () => {
          throw new Error('x');
        },
        manifestDigest: () => {
          throw new Error('x');
        },
      },
    );
    expect(denied.allowed).toBe(false);
    expect(denied.decisions.map((d) => [d.allowed, d.outcomes[0]?.reason])).toEqual([
      [false, 'internal error: disk on fire'],
      [false, 'internal error: disk on fire'],
    ]);
  });
});

describe('§2 reference normalisation', () => {
  it('an uppercase repository is refused by both before any rule', async () => {
    const { guest, host } = await judgeBoth({
      image: 'registry.example.com/NS/app:1.0',
      policy: { default: [{ type: 'insecureAcceptAnything' }], transports: {} },
    });
    expect(guest.message).toBe('Failed to parse image reference: registry.example.com/NS/app:1.0');
    expect(host.message).toContain('repository name must be lowercase');
  });

  it('short names expand to docker.io/library/…:latest on both sides', async () => {
    const { guest, host } = await judgeBoth({
      image: 'busybox',
      policy: {
        default: [{ type: 'reject' }],
        transports: { docker: { 'docker.io/library/busybox:latest': [{ type: 'insecureAcceptAnything' }] } },
      },
    });
    expect([guest.scope, host.scope]).toEqual([
      'docker:"docker.io/library/busybox:latest"',
      'docker:"docker.io/library/busybox:latest"',
    ]);
    expect([guest.image, host.image]).toEqual(['docker.io/library/busybox:latest', 'docker://busybox:latest']);
  });
});
