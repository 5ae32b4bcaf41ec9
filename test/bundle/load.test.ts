/** loadBundle and the resources it leads to: key delivery forms, several keys, cosign keys, defaults, scopes, passwords. */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from 'openpgp';
import { parse } from 'yaml';
import { loadBundle } from '../../src/bundle/load.js';
import { readPublicKeyring } from '../../src/openpgp/keyring.js';
import { bundleSchema } from '../../src/bundle/schema.js';
import { renderResources } from '../../src/kbs/render.js';
import { resourcePath } from '../../src/resource-id/resource-id.js';
import { createSignatureBackend } from '../../src/verify/index.js';
import { CI_FIXTURES, IMAGE_RS_FIXTURES, TEMPLATES } from '../helpers/paths.js';

const run = promisify(execFile);
let dir: string;
const exampleKey = path.join(TEMPLATES, 'example/example-public-key.asc');

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-load-'));
  await fs.copyFile(exampleKey, path.join(dir, 'example.asc'));
  await fs.copyFile(path.join(CI_FIXTURES, 'public-key.gpg'), path.join(dir, 'ci.gpg'));
  await fs.copyFile(path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/pubkey.gpg'), path.join(dir, 'expired.asc'));
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await fs.writeFile(path.join(dir, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await fs.writeFile(path.join(dir, 'pw'), 'pa:ss word\n');
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(dir, 'bundle.yaml');
  await fs.writeFile(file, yaml);
  return loadBundle(file, { env });
}

describe('loadBundle', () => {
  it('fills the defaults: repository default, tag test, default reject, default-docker store', async () => {
    const b = await load('policy: {}\n');
    expect([b.repository, b.tag]).toEqual(['default', 'test']);
    expect(b.policy).toEqual({ default: [{ type: 'reject' }], transports: { docker: {} } });
    expect(b.sigstoreConfig).toEqual({
      'default-docker': { sigstore: 'file:///var/lib/containers/sigstore' },
      docker: {},
    });
    const resources = await renderResources(b);
    expect(resources.map((r) => resourcePath(r.id))).toEqual([
      'default/security-policy/test',
      'default/sigstore-config/test',
    ]);
  });

  it('writes no default-docker entry for `default: null`, and scope entries sorted', async () => {
    const b = await load(
      'policy: {}\nsignatureStores:\n  default: null\n  scopes:\n    z.io: file:///z\n    a.io/ns: file:///a\n',
    );
    expect(b.sigstoreConfig).toEqual({
      docker: { 'a.io/ns': { sigstore: 'file:///a' }, 'z.io': { sigstore: 'file:///z' } },
    });
    const bytes = (await renderResources(b)).find((r) => r.id.type === 'sigstore-config')!.bytes;
    expect(Buffer.from(bytes).toString()).toBe(
      'docker:\n  a.io/ns:\n    sigstore: file:///a\n  z.io:\n    sigstore: file:///z\n',
    );
  });

  it('accepts every scope form: registry, registry:port, namespace, repository, repository:tag, digest, *.domain', async () => {
    const scopes = [
      'r.io',
      'localhost:5000',
      'r.io:5000/ns',
      'r.io:5000/ns/app',
      'r.io:5000/ns/app:1.0',
      `r.io/app@sha256:${'a'.repeat(64)}`,
      '*.example.com',
      '[::1]:5000/app',
    ];
    const b = await load(
      `policy:\n  scopes:\n${scopes.map((s) => `    "${s}": [{type: insecureAcceptAnything}]\n`).join('')}`,
    );
    expect(Object.keys(b.policy.transports!.docker!).sort()).toEqual([...scopes].sort());
  });

  it('embeds a single key file byte for byte and keeps signedIdentity', async () => {
    const b = await load(
      'policy:\n  scopes:\n    r.io:\n      - type: signedBy\n        keys: [ci.gpg]\n        signedIdentity: {type: remapIdentity, prefix: r.io/a, signedPrefix: q.io/b}\n',
    );
    const key = await fs.readFile(path.join(dir, 'ci.gpg'));
    expect(b.policy.transports!.docker!['r.io']).toEqual([
      {
        type: 'signedBy',
        keyType: 'GPGKeys',
        keyData: key.toString('base64'),
        signedIdentity: { type: 'remapIdentity', prefix: 'r.io/a', signedPrefix: 'q.io/b' },
      },
    ]);
    expect(b.keyrings.map((k) => k.keyring.descriptions[0]!.fingerprint)).toEqual([
      '08CD26E446E2E95249B7A405E932F44B23E8DD43',
    ]);
  });

  it('writes policy keys in a fixed order whatever order the YAML uses', async () => {
    const b = await load(
      'policy:\n  scopes:\n    r.io/a: [{signedIdentity: {dockerRepository: r.io/b, type: exactRepository}, keys: [ci.gpg], type: signedBy}]\n',
    );
    const text = Buffer.from((await renderResources(b)).find((r) => r.id.type === 'security-policy')!.bytes).toString();
    const rule = (
      JSON.parse(text) as { transports: { docker: Record<string, Array<Record<string, Record<string, string>>>> } }
    ).transports.docker['r.io/a']![0]!;
    expect(Object.keys(rule)).toEqual(['type', 'keyType', 'keyData', 'signedIdentity']);
    expect(Object.keys(rule.signedIdentity!)).toEqual(['type', 'dockerRepository']);
  });

  it('joins several key files into one binary keyring that gpg reads as all the keys', async () => {
    const b = await load(
      'policy:\n  scopes:\n    r.io:\n      - type: signedBy\n        keys: [example.asc, ci.gpg]\n',
    );
    const rule = b.policy.transports!.docker!['r.io']![0] as { keyData: string };
    const keyring = Buffer.from(rule.keyData, 'base64');
    expect(keyring[0]! & 0x80).toBe(0x80);
    await fs.writeFile(path.join(dir, 'joined.gpg'), keyring);
    const shown = (await run('gpg', ['--batch', '--with-colons', '--show-keys', path.join(dir, 'joined.gpg')])).stdout;
    const fprs = shown
      .split('\n')
      .filter((l) => l.startsWith('fpr:'))
      .map((l) => l.split(':')[9]);
    expect(fprs).toContain('DCD29C03BC6111298FBDE57C7C48400FEDEBAF21');
    expect(fprs).toContain('08CD26E446E2E95249B7A405E932F44B23E8DD43');
    expect(b.keyrings).toHaveLength(2);
  });

  it('de-armors one file of two armored key blocks, as the guest reads only the first block of armored keyData', async () => {
    const example = await fs.readFile(exampleKey, 'utf8');
    const second = await generateKey({ userIDs: [{ name: 'second' }], format: 'object' });
    await fs.writeFile(path.join(dir, 'two-blocks.asc'), example + second.publicKey.armor());
    const b = await load('policy:\n  scopes:\n    r.io:\n      - type: signedBy\n        keys: [two-blocks.asc]\n');
    const rule = b.policy.transports!.docker!['r.io']![0] as { keyData: string };
    const keyring = Buffer.from(rule.keyData, 'base64');
    expect(keyring[0]! & 0x80).toBe(0x80);
    const guest = await createSignatureBackend().readKeyring(keyring, { file: 'keyData' }, 'guest');
    expect(guest.descriptions.map((d) => d.fingerprint)).toEqual([
      'DCD29C03BC6111298FBDE57C7C48400FEDEBAF21',
      second.publicKey.getFingerprint().toUpperCase(),
    ]);
  });

  it('writes a kbs:/// keyPath as a key resource with the keyring bytes', async () => {
    const b = await load(
      'policy:\n  scopes:\n    r.io:\n      - type: signedBy\n        keys: [example.asc]\n        keyPath: kbs:///default/gpg-public-key/test\n',
    );
    expect(b.policy.transports!.docker!['r.io']).toEqual([
      { type: 'signedBy', keyType: 'GPGKeys', keyPath: 'kbs:///default/gpg-public-key/test' },
    ]);
    expect(b.hostPolicy.transports!.docker!['r.io']).toEqual([
      { type: 'signedBy', keyType: 'GPGKeys', keyData: (await fs.readFile(exampleKey)).toString('base64') },
    ]);
    const resources = await renderResources(b);
    expect(resources.map((r) => resourcePath(r.id))).toEqual([
      'default/gpg-public-key/test',
      'default/security-policy/test',
      'default/sigstore-config/test',
    ]);
    expect(Buffer.from(resources[0]!.bytes)).toEqual(await fs.readFile(exampleKey));
    expect(b.guestKeyFiles).toEqual([]);
  });

  it('lists a guest-path keyPath in guestKeyFiles for stage', async () => {
    const b = await load(
      'policy:\n  scopes:\n    r.io:\n      - type: signedBy\n        keys: [example.asc]\n        keyPath: /etc/containers/keys/example.gpg\n',
    );
    expect(b.policy.transports!.docker!['r.io']).toEqual([
      { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/etc/containers/keys/example.gpg' },
    ]);
    expect(
      b.guestKeyFiles.map((f) => [f.guestPath, Buffer.from(f.bytes).equals(Buffer.from(b.keyrings[0]!.keyring.bytes))]),
    ).toEqual([['/etc/containers/keys/example.gpg', true]]);
    expect(b.keyResources).toEqual([]);
  });

  it('refuses one keyPath for two different keys', async () => {
    await expect(
      load(
        'policy:\n  scopes:\n    a.io: [{type: signedBy, keys: [example.asc], keyPath: /etc/k.gpg}]\n    b.io: [{type: signedBy, keys: [ci.gpg], keyPath: /etc/k.gpg}]\n',
      ),
    ).rejects.toThrow(/keyPath \/etc\/k\.gpg is used for different keys/);
  });

  it('puts a cosign key in the guest policy as PEM text and in the host policy as base64', async () => {
    const pem = await fs.readFile(path.join(dir, 'cosign.pub'), 'utf8');
    const b = await load(
      'policy:\n  scopes:\n    q.io/app:\n      - type: sigstoreSigned\n        key: cosign.pub\n        signedIdentity: {type: matchRepository}\n',
    );
    expect(b.policy.transports!.docker!['q.io/app']).toEqual([
      { type: 'sigstoreSigned', keyData: pem, signedIdentity: { type: 'matchRepository' } },
    ]);
    expect(b.hostPolicy.transports!.docker!['q.io/app']).toEqual([
      {
        type: 'sigstoreSigned',
        keyData: Buffer.from(pem).toString('base64'),
        signedIdentity: { type: 'matchRepository' },
      },
    ]);
    const viaKbs = await load(
      'policy:\n  scopes:\n    q.io/app: [{type: sigstoreSigned, key: cosign.pub, keyPath: "kbs:///default/cosign-public-key/test"}]\n',
    );
    expect(viaKbs.keyResources.map((k) => [resourcePath(k.id), Buffer.from(k.bytes).toString()])).toEqual([
      ['default/cosign-public-key/test', pem],
    ]);
  });

  it('describes every key as openpgp.js does, reading plain gpg keys without it', async () => {
    const files = ['example.asc', 'ci.gpg', 'expired.asc'];
    const b = await load(
      `policy:\n  scopes:\n${files.map((f, i) => `    r${i}.io: [{type: signedBy, keys: [${f}], allowExpired: true}]\n`).join('')}`,
    );
    expect(b.keyrings.map((k) => path.basename(k.sourceFile))).toEqual(files);
    for (const k of b.keyrings) {
      const viaOpenpgp = await readPublicKeyring(await fs.readFile(k.sourceFile), {});
      expect(k.keyring.descriptions).toEqual(viaOpenpgp.descriptions);
      expect(Buffer.from(k.keyring.bytes).equals(await fs.readFile(k.sourceFile))).toBe(true);
    }
    // The common key (gpg --export, binary or armored) took the openpgp.js-free reader.
    expect(b.keyrings.filter((k) => k.keyring.keys.length === 0).map((k) => path.basename(k.sourceFile))).toContain(
      'ci.gpg',
    );
  });

  it('trusts an expired key only with allowExpired', async () => {
    const yaml = (allow: string) =>
      `policy:\n  scopes:\n    quay.io/kata-containers/confidential-containers:\n      - type: signedBy\n        keys: [expired.asc]\n${allow}`;
    await expect(load(yaml(''))).rejects.toThrow(/expired on 2022-09-23.*allowExpired: true/);
    const b = await load(yaml('        allowExpired: true\n'));
    expect(b.keyrings[0]!.keyring.descriptions[0]!.expires).toMatch(/^2022-09-23/);
  });

  it('a rule repeated under several scopes is the same rule in each: its keyring listed per scope, a failure named at its first scope', async () => {
    const rule = (keys: string, extra = '') => `      - type: signedBy\n        keys: [${keys}]\n${extra}`;
    const b = await load(
      `policy:\n  scopes:\n    b.io/x:\n${rule('ci.gpg')}    a.io/x:\n${rule('ci.gpg')}    c.io/x:\n${rule('ci.gpg', '        allowExpired: true\n')}`,
    );
    expect(b.keyrings.map((k) => [k.scope, path.basename(k.sourceFile)])).toEqual([
      ['a.io/x', 'ci.gpg'],
      ['b.io/x', 'ci.gpg'],
      ['c.io/x', 'ci.gpg'],
    ]);
    const docker = b.policy.transports!.docker!;
    const keyData = Buffer.from(await fs.readFile(path.join(dir, 'ci.gpg'))).toString('base64');
    for (const scope of ['a.io/x', 'b.io/x', 'c.io/x'])
      expect(docker[scope], scope).toEqual([{ type: 'signedBy', keyType: 'GPGKeys', keyData }]);
    const policy = (await renderResources(b)).find((r) => r.id.type === 'security-policy')!.bytes;
    expect(Buffer.from(policy).toString()).toBe(`${JSON.stringify(b.policy, null, 2)}\n`);
    await expect(
      load(`policy:\n  scopes:\n    b.io/x:\n${rule('expired.asc')}    a.io/x:\n${rule('expired.asc')}`),
    ).rejects.toThrow(/: policy\.scopes\["a\.io\/x"\]\[0\]\.keys\[0\]: expired\.asc: .*expired on 2022-09-23/);
  });

  it('reads the password from a file (one trailing newline dropped) or an environment variable, and keeps it out of the Bundle', async () => {
    const fromFile = await load('policy: {}\nregistries:\n  r.io:5000: {username: bob, passwordFile: pw}\n');
    expect(JSON.stringify(fromFile)).not.toContain('pa:ss word');
    const cred = (await renderResources(fromFile)).find((r) => r.id.type === 'credential')!;
    expect(cred.mode).toBe(0o600);
    const auths = JSON.parse(Buffer.from(cred.bytes).toString()) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(auths.auths['r.io:5000']!.auth, 'base64').toString()).toBe('bob:pa:ss word');
    const fromEnv = await load('policy: {}\nregistries:\n  r.io: {username: al, passwordEnv: REG_PW}\n', {
      REG_PW: 's3cret',
    });
    const envCred = (await renderResources(fromEnv, { env: { REG_PW: 's3cret' } })).find(
      (r) => r.id.type === 'credential',
    )!;
    expect(JSON.parse(Buffer.from(envCred.bytes).toString())).toEqual({
      auths: { 'r.io': { auth: Buffer.from('al:s3cret').toString('base64') } },
    });
  });

  it('keeps CA PEM and address for stage, and signature sources as absolute paths', async () => {
    await fs.mkdir(path.join(dir, 'sigs'), { recursive: true });
    await fs.copyFile(path.join(TEMPLATES, 'example/registry-ca.crt'), path.join(dir, 'ca.crt'));
    const b = await load(
      'policy: {}\nsignatures: [sigs]\nregistries:\n  r.io:5000: {caFile: ca.crt, address: "10.0.0.5"}\n',
    );
    expect(b.registries).toEqual([
      {
        registry: 'r.io:5000',
        caFile: path.join(dir, 'ca.crt'),
        caPem: await fs.readFile(path.join(dir, 'ca.crt'), 'utf8'),
        address: '10.0.0.5',
      },
    ]);
    expect(b.signatureSources).toEqual([path.join(dir, 'sigs')]);
  });

  it('allows an http store only with allowHttp', async () => {
    const b = await load('policy: {}\nsignatureStores:\n  allowHttp: true\n  default: https://sigs.example.com/s\n');
    expect(b.sigstoreConfig['default-docker']).toEqual({ sigstore: 'https://sigs.example.com/s' });
  });
});

describe('templates/bundle.yaml (the init starter)', () => {
  it('is valid against the schema', async () => {
    const raw: unknown = parse(await fs.readFile(path.join(TEMPLATES, 'bundle.yaml'), 'utf8'));
    expect(bundleSchema.safeParse(raw).success).toBe(true);
  });
});
