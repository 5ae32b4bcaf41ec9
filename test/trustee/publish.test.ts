/**
 * `publish` against a loopback HTTPS stand-in for trustee v0.21's admin API (./admin-server.ts): it sets
 * exactly the resources `build` writes, byte for byte, with a v0.21 token file or a JWT signed with the
 * v0.17–v0.20 admin key, and stops at the first refusal with trustee's status and message.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../helpers/certs.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { copyExample, treeFiles } from '../build/tree.js';
import { startAdminServer, type AdminServer } from './admin-server.js';

const run = promisify(execFile);
const ACLS = {
  'kbs-admin': [/^\/kbs\/v0\/resource\/.+$/],
  'credential-only': [/^\/kbs\/v0\/resource\/default\/credential\/.+$/],
};

let work: string;
let certs: TestCertificates;
let nested: Record<string, Buffer>;
let server: AdminServer;
let idpKey: string;
let adminKeyFile: string;
let strangerKeyFile: string;
const printed: string[] = [];
/** Every Authorization header the server saw, kept across reset(). */
const sentAuthorizations: string[] = [];

function es256Token(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part({ alg: 'ES256', typ: 'JWT' })}.${part(claims)}`;
  const sig = sign('sha256', Buffer.from(input), { key: createPrivateKey(idpKey), dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

async function tokenFile(name: string, claims: Record<string, unknown>): Promise<{ file: string; token: string }> {
  const token = es256Token({ iss: 'test-idp', exp: Math.floor(Date.now() / 1000) + 600, ...claims });
  const file = path.join(work, `${name}.jwt`);
  await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
  return { file, token };
}

async function publish(args: string[]): Promise<CliResult> {
  const r = await runCli(['publish', '-c', 'example/bundle.yaml', '--kbs-url', server.url, ...args], { cwd: work });
  printed.push(r.stdout, r.stderr);
  return r;
}

beforeAll(async () => {
  const example = await copyExample();
  work = path.dirname(example);
  expect((await runCli(['build', '-c', 'example/bundle.yaml', '-o', 'nested'], { cwd: work })).code).toBe(0);
  nested = await treeFiles(path.join(work, 'nested'));
  certs = await makeCertificates(path.join(work, 'tls'));
  idpKey = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }).privateKey;
  // The admin key as trustee's docs make it.
  adminKeyFile = path.join(work, 'admin.key');
  await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', adminKeyFile]);
  strangerKeyFile = path.join(work, 'stranger.key');
  await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', strangerKeyFile]);
  server = await startAdminServer({
    certPem: await fs.readFile(certs.certFile, 'utf8'),
    keyPem: await fs.readFile(certs.keyFile, 'utf8'),
    trustedKeys: [createPublicKey(idpKey), createPublicKey(await fs.readFile(adminKeyFile, 'utf8'))],
    acls: ACLS,
  });
});

afterAll(async () => {
  await server?.close();
  await fs.rm(work, { recursive: true, force: true });
});

function reset(): void {
  sentAuthorizations.push(...server.requests.flatMap((q) => (q.authorization ? [q.authorization] : [])));
  server.resources.clear();
  server.requests.length = 0;
}

describe('kbs-bundler publish', () => {
  it('v0.21 token file: sets exactly the resources build writes, byte for byte, as documented', async () => {
    reset();
    const { file, token } = await tokenFile('admin', { role: 'kbs-admin' });
    const r = await publish(['--admin-token-file', file, '--cert-file', certs.caFile, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Object.fromEntries(server.resources)).toEqual(nested);
    for (const q of server.requests) {
      expect(q).toMatchObject({
        method: 'POST',
        contentType: 'application/octet-stream',
        authorization: `Bearer ${token}`,
      });
    }
    const json = JSON.parse(r.stdout) as { dryRun: boolean; resources: Array<{ resource: string; size: number }> };
    expect(json.dryRun).toBe(false);
    expect(json.resources.map((x) => [x.resource, x.size])).toEqual(
      Object.entries(nested)
        .map(([k, v]) => [k, v.length])
        .sort(),
    );
  });

  it('v0.17-v0.20 admin key: an EdDSA JWT valid five minutes, with the role asked for', async () => {
    reset();
    const r = await publish(['--admin-key', adminKeyFile, '--admin-role', 'kbs-admin', '--cert-file', certs.caFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Set 3 KBS resources on');
    expect(Object.fromEntries(server.resources)).toEqual(nested);
    const claims = server.requests[0]!.claims as { iat: number; exp: number; role: string };
    expect(claims.role).toBe('kbs-admin');
    expect(claims.exp - claims.iat).toBe(300);
    expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(60);
  });

  it('stops at the first refusal with trustee status and detail, exit 1', async () => {
    reset();
    const noRole = await publish(['--admin-key', adminKeyFile, '--cert-file', certs.caFile]);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toBe(
      'kbs-bundler: the KBS refused default/credential/test: HTTP 401: admin access denied for endpoint /kbs/v0/resource/default/credential/test: Admin access denied: Missing required `role` claim in JWT; nothing was set\n',
    );
    expect(server.requests).toHaveLength(1);

    reset();
    const partial = await publish([
      '--admin-token-file',
      (await tokenFile('credential-only', { role: 'credential-only' })).file,
      '--cert-file',
      certs.caFile,
    ]);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toBe(
      'kbs-bundler: the KBS refused default/security-policy/test: HTTP 401: admin access denied for endpoint /kbs/v0/resource/default/security-policy/test: Admin access denied: Role credential-only not allowed for path /kbs/v0/resource/default/security-policy/test; set before it: default/credential/test\n',
    );
    expect(server.requests.map((q) => q.status)).toEqual([200, 401]);

    reset();
    const stranger = await publish([
      '--admin-key',
      strangerKeyFile,
      '--admin-role',
      'kbs-admin',
      '--cert-file',
      certs.caFile,
    ]);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(
      'HTTP 401: admin access denied for endpoint /kbs/v0/resource/default/credential/test: Admin access denied: Cannot verify token with any of the issuers',
    );

    reset();
    const gateway = await publish([
      '--admin-key',
      adminKeyFile,
      '--admin-role',
      'gateway-blocked',
      '--cert-file',
      certs.caFile,
    ]);
    expect(gateway.code).toBe(1);
    expect(gateway.stderr).toContain('HTTP 403: forbidden by the gateway; nothing was set');
  });

  it('--dry-run sends nothing; bad input and an untrusted https KBS exit 2 with one line', async () => {
    reset();
    const { file } = await tokenFile('dry', { role: 'kbs-admin' });
    const dry = await publish(['--admin-token-file', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Would set 3 KBS resources');
    expect(server.requests).toHaveLength(0);

    const untrusted = await publish(['--admin-token-file', file]);
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(/^kbs-bundler: cannot reach the KBS at https:\/\/127\.0\.0\.1:\d+: .+\n$/);
    expect(server.resources.size).toBe(0);

    const both = await publish(['--admin-token-file', file, '--admin-key', adminKeyFile]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      'kbs-bundler: --admin-token-file: give --admin-token-file FILE (trustee v0.21) or --admin-key ed25519.pem (trustee v0.17-v0.20), one of them\n',
    );
    const notJwt = path.join(work, 'not-a.jwt');
    await fs.writeFile(notJwt, 'secret-looking text\n');
    const bad = await publish(['--admin-token-file', notJwt]);
    expect(bad.stderr).toBe(`kbs-bundler: ${notJwt}: is not a JWT (three base64url parts separated by dots)\n`);
    const rsa = path.join(work, 'rsa.key');
    await run('openssl', ['genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsa]);
    const wrongKey = await publish(['--admin-key', rsa]);
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toBe(
      `kbs-bundler: ${rsa}: is a rsa key; trustee's admin key is Ed25519 (openssl genpkey -algorithm ed25519)\n`,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('never prints a token, the admin key or the registry password', async () => {
    reset();
    const tokens = (await fs.readdir(work)).filter((f) => f.endsWith('.jwt'));
    const secrets = [
      ...(await Promise.all(tokens.map(async (f) => (await fs.readFile(path.join(work, f), 'utf8')).trim()))),
      (await fs.readFile(adminKeyFile, 'utf8')).split('\n')[1]!,
      (await fs.readFile(path.join(work, 'example', 'registry-password'), 'utf8')).trim(),
      ...sentAuthorizations,
    ];
    expect(sentAuthorizations.length).toBeGreaterThan(5);
    const all = printed.join('\n');
    for (const s of secrets) expect(all).not.toContain(s.replace(/^Bearer /, ''));
  });
});
