/** lint: each configuration the guest fails on or reads differently, reported with its fix. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, describe, expect, it } from 'vitest';
import { openRootfsReader } from '../../src/rootfs/reader.js';
import { defaultSignatureBackend, lintConfiguration, type LintFinding } from '../../src/verify/index.js';
import { CI_FIXTURES } from '../helpers/paths.js';
import { tempDir, writeTree } from './fixtures.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const KEY = async (file = 'public-key.gpg') => (await fs.readFile(path.join(CI_FIXTURES, file))).toString('base64');

async function lint(
  policy: unknown,
  sigstore?: string,
  rootfsFiles?: Record<string, string | Uint8Array>,
  resources: Record<string, Uint8Array> = {},
): Promise<LintFinding[]> {
  let rootfs;
  if (rootfsFiles) {
    const dir = await tempDir('lint');
    dirs.push(dir);
    await writeTree(dir, rootfsFiles);
    rootfs = await openRootfsReader(dir);
  }
  return lintConfiguration(
    {
      policy: { bytes: new TextEncoder().encode(JSON.stringify(policy)), source: 'policy.json' },
      ...(sigstore !== undefined
        ? { sigstoreConfig: { bytes: new TextEncoder().encode(sigstore), source: 'sigstore.yaml' } }
        : {}),
      resources: { get: (p) => Promise.resolve(resources[p]) },
      ...(rootfs ? { rootfs } : {}),
    },
    defaultSignatureBackend,
  );
}

const codes = (f: LintFinding[]) => f.map((x) => x.code);
const STORE = 'default-docker:\n  sigstore: file:///var/lib/containers/sigstore\n';
const scoped = (scope: string, reqs: unknown[]) => ({
  default: [{ type: 'reject' }],
  transports: { docker: { [scope]: reqs } },
});

describe('lint findings', () => {
  it('a clean policy has none', async () => {
    expect(
      await lint(
        scoped('registry.example.com/ns', [{ type: 'signedBy', keyType: 'GPGKeys', keyData: await KEY() }]),
        STORE,
      ),
    ).toEqual([]);
  });

  it('lookaside-only entries and http stores', async () => {
    const f = await lint(
      scoped('registry.example.com', [{ type: 'insecureAcceptAnything' }]),
      'docker:\n  registry.example.com:\n    lookaside: https://sigs.example.com\n',
    );
    expect(codes(f)).toEqual(['L_LOOKASIDE_ONLY']);
    expect(f[0]?.fix).toContain('sigstore: <file:// base>');
    const h = await lint(
      scoped('registry.example.com', [{ type: 'insecureAcceptAnything' }]),
      'docker:\n  registry.example.com:\n    sigstore: https://sigs.example.com\n',
    );
    expect(codes(h)).toEqual(['L_HTTP_STORE']);
    expect(h[0]?.problem).toContain('HTTP support for signature stores is not implemented.');
  });

  it('keyPaths, keyPath under /run, missing transports, empty lists', async () => {
    expect(
      codes(
        await lint(
          scoped('registry.example.com', [{ type: 'signedBy', keyType: 'GPGKeys', keyPaths: ['/etc/k.gpg'] }]),
          STORE,
        ),
      ),
    ).toEqual(['L_KEYPATHS']);
    const run = await lint(
      scoped('registry.example.com', [
        { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/run/image-security/simple_signing/pubkey.gpg' },
      ]),
      STORE,
    );
    expect(codes(run)).toEqual(['L_RUN_PATH']);
    expect(run[0]?.fix).toContain('tmpfs on /run');
    expect(codes(await lint({ default: [{ type: 'insecureAcceptAnything' }] }, STORE))).toEqual([
      'L_MISSING_TRANSPORTS',
    ]);
    const empty = await lint({ default: [], transports: { docker: { 'registry.example.com': [] } } }, STORE);
    expect(codes(empty)).toEqual(['L_EMPTY_LIST', 'L_EMPTY_LIST']);
  });

  it('scope keys that can never match: uppercase, no registry host', async () => {
    const f = await lint(
      {
        default: [{ type: 'reject' }],
        transports: {
          docker: {
            busybox: [{ type: 'insecureAcceptAnything' }],
            'registry.example.com/NS/App': [{ type: 'insecureAcceptAnything' }],
          },
        },
      },
      STORE,
    );
    expect(codes(f)).toEqual(['L_SCOPE_NEVER_MATCHES', 'L_SCOPE_NEVER_MATCHES']);
    expect(f[0]?.fix).toBe('use "docker.io/library/busybox" (the fully-expanded, lowercase name)');
  });

  it('a sigstore base with no signatures for an allowed scope, and a keyPath missing from the rootfs', async () => {
    const policy = scoped('registry.example.com/ns/app', [
      { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/etc/pki/k.gpg' },
    ]);
    const f = await lint(policy, STORE, { 'var/lib/containers/sigstore/.keep': '' });
    expect(codes(f)).toEqual(['L_KEY_MISSING', 'L_NO_SIGNATURES']);
    const staged = await lint(policy, STORE, {
      'etc/pki/k.gpg': Buffer.from(await KEY(), 'base64'),
      [`var/lib/containers/sigstore/ns/app@sha256=${'1'.repeat(64)}/signature-1`]: 'x',
    });
    expect(staged).toEqual([]);
  });

  it('expired keys and signing subkeys', async () => {
    const { publicKey } = await openpgp.generateKey({
      userIDs: [{ name: 'old' }],
      type: 'ecc',
      keyExpirationTime: 60,
      date: new Date(Date.now() - 86400_000),
      format: 'object',
    });
    const expired = await lint(
      scoped('registry.example.com', [
        { type: 'signedBy', keyType: 'GPGKeys', keyData: Buffer.from(publicKey.write()).toString('base64') },
      ]),
      STORE,
    );
    expect(codes(expired)).toEqual(['L_KEY_EXPIRED']);
    const sub = await lint(
      scoped('registry.example.com', [
        { type: 'signedBy', keyType: 'GPGKeys', keyData: await KEY('public-key-with-subkey.gpg') },
      ]),
      STORE,
    );
    expect(codes(sub)).toEqual(['L_SIGNING_SUBKEY']);
  });

  it('staged signatures that one side accepts and the other refuses (a subkey-made signature)', async () => {
    const policy = scoped('docker.io/testing/manifest', [
      { type: 'signedBy', keyType: 'GPGKeys', keyData: await KEY('public-key-with-subkey.gpg') },
    ]);
    const f = await lint(policy, STORE, {
      [`var/lib/containers/sigstore/testing/manifest@sha256=${'2'.repeat(64)}/signature-1`]: await fs.readFile(
        path.join(CI_FIXTURES, 'subkey.signature'),
      ),
    });
    expect(codes(f)).toEqual(['L_SIGNING_SUBKEY', 'L_SIGNATURE_DIVERGES']);
    expect(f[1]?.problem).toMatch(
      /^signature \/var\/lib\/containers\/sigstore\/testing\/manifest@sha256=2+\/signature-1 is refused by the guest \(.+\) but accepted by the host$/,
    );
  });

  it('identity values the guest compares literally', async () => {
    const f = await lint(
      scoped('registry.example.com', [
        {
          type: 'signedBy',
          keyType: 'GPGKeys',
          keyData: await KEY(),
          signedIdentity: { type: 'exactReference', dockerReference: 'busybox:1.36' },
        },
      ]),
      STORE,
    );
    expect(codes(f)).toEqual(['L_IDENTITY_LITERAL']);
    expect(f[0]?.fix).toBe('write "docker.io/library/busybox:1.36"');
  });

  it('a kbs:// keyPath whose resource is missing, and signedBy without any sigstore config', async () => {
    const f = await lint(
      scoped('registry.example.com', [
        { type: 'signedBy', keyType: 'GPGKeys', keyPath: 'kbs:///default/gpg-public-key/test' },
      ]),
    );
    expect(codes(f)).toEqual(['L_KEY_MISSING', 'L_NO_SIGSTORE_CONFIG']);
  });
});

describe('lint: registry CA certificates', () => {
  it('flags a self-signed CA:TRUE certificate naming the registry (rustls CaUsedAsEndEntity), not a proper CA', async () => {
    const { makeCertificates, makeSelfSignedCaLeaf } = await import('../helpers/certs.js');
    const dir = await tempDir('certs');
    dirs.push(dir);
    const leaf = await makeSelfSignedCaLeaf(path.join(dir, 'leaf'), { sans: ['DNS:registry.example.com'] });
    const proper = await makeCertificates(path.join(dir, 'proper'), { sans: ['DNS:registry.example.com'] });
    const policy = new TextEncoder().encode(
      JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: {} }),
    );
    const run = async (caFile: string) =>
      lintConfiguration(
        {
          policy: { bytes: policy, source: 'policy.json' },
          resources: { get: () => Promise.resolve(undefined) },
          registryCas: [
            { registry: 'registry.example.com:5000', pem: await fs.readFile(caFile, 'utf8'), source: caFile },
          ],
        },
        defaultSignatureBackend,
      );
    const bad = await run(leaf.caFile);
    expect(codes(bad)).toEqual(['L_CA_AS_SERVER_CERT']);
    expect(bad[0]?.problem).toContain('CaUsedAsEndEntity');
    expect(await run(proper.caFile)).toEqual([]);
  });
});
